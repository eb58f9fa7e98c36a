#pragma once
// The open run's details: an overview (status and why, dates, model, data,
// tokenizer, seed, versions), notes and tags (edited and saved to the store),
// the stored settings as JSON, and its checkpoints.

#include <QWidget>

#include "store/run_store.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QStandardItemModel;
class QTabWidget;

namespace itera::ui {

class RunDetails : public QWidget {
    Q_OBJECT
public:
    explicit RunDetails(QWidget* parent = nullptr);

    /// Shows run `run` with its checkpoints; `nullptr` shows nothing.
    void showRun(const RunRecord* run, const std::vector<CheckpointRecord>& checkpoints);
    qint64 runId() const { return m_runId; }

Q_SIGNALS:
    void notesSaved(qint64 runId, const QString& notes);
    void tagAdded(qint64 runId, const QString& tag);
    void tagRemoved(qint64 runId, const QString& tag);

private:
    void saveNotes();

    qint64 m_runId = 0;
    QTabWidget* m_tabs;
    QLabel* m_overview;
    QPlainTextEdit* m_notes;
    QPushButton* m_saveNotes;
    QLineEdit* m_newTag;
    QLabel* m_tags;
    QPlainTextEdit* m_config;
    QStandardItemModel* m_checkpoints;
};

}  // namespace itera::ui
