#pragma once
// The prompt playground: one prompt and one set of sampling controls, two
// models side by side (by default a run's best checkpoint and a compressed
// version of it), generating concurrently on worker threads. Where the two
// outputs first differ is marked in both; every generation is kept in the
// run store's history.

#include <QWidget>

#include "playground_pane.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace itera {
class RunStore;
}

namespace itera::ui {

class PlaygroundPage : public QWidget {
    Q_OBJECT
public:
    /// Generations are saved to `store` (the GUI thread's connection).
    explicit PlaygroundPage(RunStore* store, QWidget* parent = nullptr);

    /// Models to offer; `left` and `right` are chosen when given.
    void setChoices(const QList<ModelChoice>& choices, const QString& left = {},
                    const QString& right = {});
    /// The settings of the controls; throws itera::Error naming an invalid one.
    GenerateSettings settings() const;
    void setPrompt(const QString& prompt);
    void generate();
    void stop();
    PlaygroundPane* pane(int i) const { return i == 0 ? m_left : m_right; }
    /// "first divergence at token N", "identical ...", or an error.
    QString comparisonText() const;

Q_SIGNALS:
    /// Both panes finished (and their generations were saved).
    void generated();

private:
    void compare();
    void onPaneFinished();

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
    int m_running = 0;
    GenerateSettings m_lastSettings;
};

}  // namespace itera::ui
