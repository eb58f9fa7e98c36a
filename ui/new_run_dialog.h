#pragma once
// The new-run dialog: preset (with its parameter count and training memory,
// updated as fields change), dataset (built-in or a file/folder, its format
// detected and shown), tokenizer, length, optimisation, evaluation and seed.
// Every change is validated by the core's own checks; the first problem is
// shown under the form and the Start button waits until there is none.

#include <QDialog>

#include "train/memory_estimate.h"
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
    /// Fills the form from a request (one that failed, to edit and retry).
    void setRequest(const NewRunRequest& request);
    /// Sets the corpus: a built-in name or a file/folder path.
    void setCorpus(const QString& corpus);

    /// The request the form describes (valid when problem() is empty).
    NewRunRequest request() const;
    /// The first problem with the form, empty when it can start.
    QString problem() const { return m_problem; }
    /// What will likely go wrong with settings that can start (memory beyond
    /// the machine's, an absurd batch or learning rate), empty when nothing.
    QString warning() const { return m_warning; }

private:
    void chooseFile();
    void chooseFolder();
    void revalidate();
    /// What will likely go wrong (not a blocking problem); `processes` each hold the model.
    QString warningFor(const TrainSettings& settings, const TrainingMemory& memory,
                       int processes) const;
    void describeCorpus();
    QSpinBox* intField(int min, int max, int value);
    /// Chooses preset `name` (an old name too); nothing when it is none.
    void selectPreset(const QString& name);

    QLineEdit* m_name;
    QComboBox* m_preset;
    QComboBox* m_arch;
    QCheckBox* m_moe;
    QSpinBox* m_ssmState;  ///< 0: the preset's
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
    QSpinBox* m_processes;
    QLabel* m_processInfo;
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
    QString m_warning;
    QString m_corpusProblem;          ///< why the corpus cannot be read, empty when it can
    std::uint64_t m_corpusBytes = 0;  ///< the corpus's size, 0 when unknown
    /// A cloned run's settings and data: what the form does not show (gradient
    /// clipping, AdamW's betas, a teacher, read options, ...) comes from them, and
    /// its model config is kept while its preset is unchanged.
    std::optional<TrainSettings> m_cloned;
    std::optional<DataSpec> m_clonedData;
    QString m_clonedPreset;
    ModelVariant m_clonedVariant;
    Workspace m_workspace;
};

}  // namespace itera::ui
