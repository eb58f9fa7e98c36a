#pragma once
// One side of the prompt playground: a model picker, the streamed output with
// each token coloured by the model's probability of it, and the speed. A
// token's tooltip shows the five most likely tokens there, of this model and
// (before the outputs diverge, where the contexts are the same) of the other.

#include <QElapsedTimer>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

#include "generation_job.h"

class QComboBox;
class QPushButton;
class QToolButton;
class QLabel;
class QTextBrowser;

namespace itera::ui {

/// A model the playground can load: its label and file.
struct ModelChoice {
    QString label;
    QString path;
    qint64 runId = 0;  ///< 0 when the file belongs to no run
};

class PlaygroundPane : public QWidget {
    Q_OBJECT
public:
    PlaygroundPane(const QString& title, ModelCache* cache, QWidget* parent = nullptr);
    ~PlaygroundPane() override;

    /// Fills the picker, keeping the current model when it is still offered.
    void setChoices(const QList<ModelChoice>& choices);
    void setModelPath(const QString& path);
    QString modelPath() const;
    qint64 modelRunId() const;

    void start(const QString& prompt, const GenerateSettings& settings);
    /// Forgets the output shown (when another model is chosen it is not this model's).
    void clearOutput();
    void stop();
    bool running() const { return m_job != 0; }

    const std::vector<TokenEvent>& tokens() const { return m_tokens; }
    const std::optional<GenerateResult>& result() const { return m_result; }
    QString error() const { return m_error; }
    QString statusText() const;
    /// What the context of `context` tokens means for this model (past its
    /// window or its trained length), or empty.
    QString reachText(std::size_t context) const;
    QString outputText() const;
    /// Marks token `divergence` (-1: none) and lets tooltips show `other`'s alternatives.
    void setComparison(const PlaygroundPane* other, int divergence);

Q_SIGNALS:
    void updated();
    void finished();
    /// Another model was chosen (the output was cleared).
    void modelChanged();
    /// The user asked for this pane alone to generate again.
    void regenerateRequested();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void drain();
    void ended(JobId id, std::optional<GenerateResult> result, const QString& error);
    void render();
    void browse();

    ModelCache* m_cache;
    QComboBox* m_model;
    QPushButton* m_browse;  ///< with m_model and m_regenerate, disabled while generating
    QToolButton* m_regenerate;
    QTextBrowser* m_view;
    QLabel* m_status;
    QElapsedTimer m_clock;
    JobRunner m_runner;
    JobId m_job = 0;  ///< the generation shown, 0 when none runs
    std::shared_ptr<JobMailbox<GenerationUpdates>> m_box;

    QString m_prompt;
    std::vector<TokenEvent> m_tokens;
    std::vector<std::pair<int, int>> m_spans;  ///< [start, end) of each token in the document
    std::optional<GenerateResult> m_result;
    QString m_error;
    std::optional<ContextReach> m_reach;  ///< of the model that generated
    double m_firstToken = -1;
    const PlaygroundPane* m_other = nullptr;
    int m_divergence = -1;
};

}  // namespace itera::ui
