#pragma once
// What the HTTP server's users said (Serving → Feedback and adaptations…): a
// table of every rated answer (time, model, rating, correctness, comments,
// prompt, answer) and a table of the runs `itera adapt` fine-tuned from it,
// with their validation perplexity before and after.

#include <QDialog>

class QLabel;
class QTableWidget;

namespace itera {
class RunStore;
}

namespace itera::ui {

class FeedbackDialog : public QDialog {
    Q_OBJECT
public:
    FeedbackDialog(RunStore& store, QWidget* parent = nullptr);

    QTableWidget* feedbackTable() const { return m_feedback; }
    QTableWidget* adaptationTable() const { return m_adaptations; }

    /// Re-reads both tables from the store.
    void refresh();

private:
    RunStore& m_store;
    QLabel* m_summary = nullptr;
    QTableWidget* m_feedback = nullptr;
    QTableWidget* m_adaptations = nullptr;
};

}  // namespace itera::ui
