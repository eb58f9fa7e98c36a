#pragma once
// The open run's details: an overview (status and why, dates, model, data,
// tokenizer, seed, versions), notes and tags (edited and saved to the store),
// the stored settings as JSON, and its checkpoints.

#include <QStringList>
#include <QWidget>

#include <map>
#include <string>
#include <vector>

#include "store/run_store.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QStandardItemModel;
class QTabWidget;
class QTimer;

namespace itera::ui {

/// One setting in which runs differ: its path ("model/hidden_size",
/// "data/corpus") and each run's value (empty when a run does not set it).
struct SettingDifference {
    QString key;
    QStringList values;
};

/// The settings (stored config and data description) in which `runs` differ.
std::vector<SettingDifference> settingDifferences(const std::vector<RunRecord>& runs);

class RunDetails : public QWidget {
    Q_OBJECT
public:
    explicit RunDetails(QWidget* parent = nullptr);

    /// Shows run `run` with its checkpoints and its latest metric values (by
    /// name: the processes of a distributed run and their speeds); `nullptr`
    /// shows nothing.
    void showRun(const RunRecord* run, const std::vector<CheckpointRecord>& checkpoints,
                 const std::map<std::string, MetricPoint>& latest = {});
    /// Several runs: the settings in which they differ, side by side.
    void showDifferences(const std::vector<RunRecord>& runs);
    qint64 runId() const { return m_runId; }
    /// Saves notes typed and not yet saved (emits notesSaved); nothing when none.
    void flushNotes();

Q_SIGNALS:
    void notesSaved(qint64 runId, const QString& notes);
    void tagAdded(qint64 runId, const QString& tag);
    void tagRemoved(qint64 runId, const QString& tag);

private:
    qint64 m_runId = 0;
    QTabWidget* m_tabs;
    QLabel* m_overview;
    QPlainTextEdit* m_notes;
    QPushButton* m_saveNotes;  ///< enabled while the notes have unsaved edits
    QTimer* m_autosave;
    QLineEdit* m_newTag;
    QLabel* m_tags;
    QPlainTextEdit* m_config;
    QStandardItemModel* m_checkpoints;
};

}  // namespace itera::ui
