#pragma once
// The report preview: the Markdown the core generates (the same as `itera
// report`) rendered in a QTextBrowser with its charts, and exported as a .md
// file with PNG charts beside it.

#include <QDialog>
#include <QList>

class QComboBox;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace itera {
class RunStore;
struct Report;
}  // namespace itera

namespace itera::ui {

class ReportDialog : public QDialog {
    Q_OBJECT
public:
    /// `runs`: one run offers its training report; several add their
    /// comparison (shown first); runs with compressed models also offer the
    /// compression report of their checkpoint.
    ReportDialog(RunStore& store, const QList<qint64>& runs, QWidget* parent = nullptr);

    QTextBrowser* preview() const { return m_preview; }
    QComboBox* kind() const { return m_kind; }
    /// Writes the report shown to `path` (.md) and its charts beside it;
    /// returns an error message, empty on success.
    QString exportTo(const QString& path);

private:
    enum class Kind { Run, Compare, Compression };
    Report build(const std::string& imagePrefix) const;
    void refresh();
    void chooseFileAndExport();

    RunStore& m_store;
    QList<qint64> m_runs;
    QComboBox* m_kind = nullptr;
    QTextBrowser* m_preview = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_export = nullptr;
};

}  // namespace itera::ui
