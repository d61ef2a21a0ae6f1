#include "ui/main_window.h"

#include <QLabel>
#include <QStatusBar>

#include "core/io/torch/torch_runtime.h"

namespace syn::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("Synesthesia Workbench");
    resize(1280, 800);
    device_label_ = new QLabel(QString::fromStdString(describe_compute_device().summary()), this);
    statusBar()->addPermanentWidget(device_label_);
    statusBar()->showMessage("Ready");
}

}  // namespace syn::ui
