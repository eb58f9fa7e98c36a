#pragma once
// The new-run dialog: preset (with its parameter count and training memory,
// updated as fields change), dataset (built-in or a file/folder, its format
// detected and shown), tokenizer, length, optimisation, evaluation and seed.
// Every change is validated by the core's own checks; the first problem is
// shown under the form and the Start button waits until there is none.

#include <QDialog>

#include "training_job.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace itera {
struct RunRecord;
}

namespace itera::ui {

class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    /// Built-in corpora are looked up in `workspace`.
    explicit NewRunDialog(const Workspace& workspace, QWidget* parent = nullptr);

    /// Fills the form from a stored run ("clone this run with edits").
    void setFromRun(const RunRecord& run);
    /// Sets the corpus: a built-in name or a file/folder path.
    void setCorpus(const QString& corpus);

    /// The request the form describes (valid when problem() is empty).
    NewRunRequest request() const;
    /// The first problem with the form, empty when it can start.
    QString problem() const { return m_problem; }

private:
    void chooseFile();
    void chooseFolder();
    void revalidate();
    void describeCorpus();
    QSpinBox* intField(int min, int max, int value);

    QLineEdit* m_name;
    QComboBox* m_preset;
    QLabel* m_modelInfo;
    QComboBox* m_corpus;
    QComboBox* m_format;
    QLabel* m_corpusInfo;
    QComboBox* m_tokenizer;
    QSpinBox* m_vocab;
    QRadioButton* m_bySteps;
    QRadioButton* m_byMinutes;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_minutes;
    QSpinBox* m_batch;
    QSpinBox* m_seqLen;
    QLineEdit* m_lr;
    QDoubleSpinBox* m_minLrRatio;
    QSpinBox* m_warmup;
    QDoubleSpinBox* m_weightDecay;
    QDoubleSpinBox* m_dropout;
    QSpinBox* m_seed;
    QSpinBox* m_threads;
    QComboBox* m_precision;
    QSpinBox* m_evalEvery;
    QSpinBox* m_checkpointEvery;
    QSpinBox* m_patience;
    QSpinBox* m_gradAccum;
    QSpinBox* m_evalTokens;
    QDoubleSpinBox* m_validationFraction;
    QLabel* m_problemLabel;
    QDialogButtonBox* m_buttons;
    QString m_problem;
    QString m_corpusProblem;  ///< why the corpus cannot be read, empty when it can
    /// A cloned run's own model config (kept when its preset is unchanged).
    std::optional<ModelConfig> m_clonedModel;
    QString m_clonedPreset;
    Workspace m_workspace;
};

}  // namespace itera::ui
