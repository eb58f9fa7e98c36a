#pragma once

class QWidget;

namespace itera::ui {

/// Shows the settings (data directory, run database, training threads) and
/// saves them when accepted.
void editSettings(QWidget* parent);

}  // namespace itera::ui
