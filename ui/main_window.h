#pragma once

#include <QMainWindow>

class QLabel;

namespace itera::ui {

/// The workbench's top-level window. Pages and docks are added by later
/// features; for now it shows what the build links against.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

private:
    QLabel* m_welcome = nullptr;
};

}  // namespace itera::ui
