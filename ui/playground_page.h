#pragma once
// The prompt playground: one prompt and one set of sampling controls, two
// models side by side (by default a run's best checkpoint and a compressed
// version of it), generating concurrently on worker threads. Where the two
// outputs first differ is marked in both; every generation is kept in the
// run store's history.

#include <QWidget>

#include <optional>

#include "playground_pane.h"
#include "store/run_store.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace itera::ui {

class KlStrip;

class PlaygroundPage : public QWidget {
    Q_OBJECT
public:
    /// Generations are saved to `store` (the GUI thread's connection).
    explicit PlaygroundPage(RunStore* store, QWidget* parent = nullptr);
    ~PlaygroundPage() override;

    /// Models to offer; `left` and `right` are chosen when given.
    void setChoices(const QList<ModelChoice>& choices, const QString& left = {},
                    const QString& right = {});
    /// The settings of the controls; throws itera::Error naming an invalid one.
    GenerateSettings settings() const;
    void setPrompt(const QString& prompt);
    /// The history list: stored generations, newest first.
    QComboBox* history() const { return m_history; }
    void generate();
    void stop();
    PlaygroundPane* pane(int i) const { return i == 0 ? m_left : m_right; }
    /// "first divergence at token N", "identical ...", or an error.
    QString comparisonText() const;
    /// KL(A ‖ B) per token of A's output, B reading A's text (teacher forcing).
    const std::vector<double>& teacherForcedKl() const;
    QString teacherForcingText() const;

Q_SIGNALS:
    /// Both panes finished (and their generations were saved).
    void generated();
    /// The teacher-forced comparison of the last generation is shown.
    void teacherForced();

private:
    void compare();
    /// The outputs' comparison no longer applies (a pane's model changed).
    void forgetComparison();
    /// Generate is offered when a pane has a model and nothing generates.
    void updateGenerate();
    /// The settings to generate with (kept as the last ones), or none after showing why not.
    std::optional<GenerateSettings> startSettings();
    /// Generates again in `pane` alone, with the current prompt and settings.
    void regenerate(PlaygroundPane* pane);
    void onPaneFinished();
    void onTeacherForced(JobId id, const QVariant& result);
    void onTeacherForcingFailed(JobId id, const QString& message);
    void startTeacherForcing();
    void refreshHistory();
    /// Restores prompt, settings and pane A's model of stored generation `index` of the list.
    void restore(int index);

    RunStore* m_store;
    ModelCache m_cache;
    PlaygroundPane* m_left;
    PlaygroundPane* m_right;
    QPlainTextEdit* m_prompt;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_topP;
    QDoubleSpinBox* m_minP;
    QDoubleSpinBox* m_repeatPenalty;
    QSpinBox* m_maxTokens;
    QSpinBox* m_seed;
    QLineEdit* m_stop;
    QCheckBox* m_sameSeed;
    QPushButton* m_generate;
    QPushButton* m_stopButton;
    QLabel* m_comparison;
    QLabel* m_klLabel;
    QComboBox* m_history;
    std::vector<GenerationRecord> m_records;
    KlStrip* m_kl;
    JobRunner m_klRunner;
    JobId m_klJob = 0;  ///< the teacher-forcing job whose result will be shown
    int m_running = 0;
    QList<PlaygroundPane*> m_ran;      ///< the panes whose outputs are compared
    QList<PlaygroundPane*> m_started;  ///< the panes generating now (saved when done)
    GenerateSettings m_lastSettings;
};

}  // namespace itera::ui
