#include "settings_dialog.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include "app_settings.h"
#include "data/builtin.h"
#include "util/threads.h"

namespace itera::ui {

void editSettings(QWidget* parent) {
    QDialog dialog(parent);
    dialog.setWindowTitle(QDialog::tr("Settings"));
    auto* form = new QFormLayout(&dialog);
    auto* dataDir = new QLineEdit(settings::dataDir.value(), &dialog);
    dataDir->setPlaceholderText(QString::fromStdString(standard_data_dir().string()));
    auto* database = new QLineEdit(settings::databasePath.value(), &dialog);
    database->setPlaceholderText(QDialog::tr("<data directory>/runs.sqlite"));
    auto* threads = new QSpinBox(&dialog);
    threads->setRange(0, 4096);
    threads->setSpecialValueText(QDialog::tr("all cores (%1)").arg(default_thread_count()));
    threads->setValue(settings::threads.value());
    form->addRow(QDialog::tr("Data directory:"), dataDir);
    form->addRow(QDialog::tr("Run database:"), database);
    form->addRow(QDialog::tr("Training threads:"), threads);
    form->addRow(new QLabel(
        QDialog::tr("Paths take effect at the next start; threads at the next run."), &dialog));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted) return;
    settings::dataDir.set(dataDir->text().trimmed());
    settings::databasePath.set(database->text().trimmed());
    settings::threads.set(threads->value());
}

}  // namespace itera::ui
