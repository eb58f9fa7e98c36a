#pragma once
// The first-run page: shown in place of the charts while the run store is
// empty. One click trains the new-run dialog's default (the quality preset on
// Moby-Dick for ten minutes), fetching the corpus first when it is missing;
// each area of the window is explained in a sentence.

#include <QWidget>

#include "training_job.h"

class QLabel;
class QProcess;
class QProgressBar;
class QPushButton;

namespace itera::ui {

class WelcomePage : public QWidget {
    Q_OBJECT
public:
    explicit WelcomePage(const Workspace& workspace, QWidget* parent = nullptr);
    ~WelcomePage() override;

    /// What the one-click button does: fetch Moby-Dick when missing (with
    /// progress), then ask for the default run.
    void trainOnMobyDick();
    QString status() const;
    bool fetching() const;

Q_SIGNALS:
    /// The window queues this run (as the new-run dialog's Start does).
    void startRequested(const NewRunRequest& request);
    void newRunRequested();

private:
    void start();
    void fetchFinished(int exitCode);

    QPushButton* m_train = nullptr;
    QPushButton* m_custom = nullptr;
    QLabel* m_corpusLine = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
    QProcess* m_fetch = nullptr;
    Workspace m_workspace;
    QString m_fetchOutput;
};

}  // namespace itera::ui
