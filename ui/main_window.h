#pragma once
#include <QMainWindow>

class QLabel;

namespace syn::ui {

// The workbench's main window: dockable panels around a central view, a status bar that names
// the compute device.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

private:
    QLabel* device_label_ = nullptr;
};

}  // namespace syn::ui
