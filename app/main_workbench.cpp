// The Synesthesia Workbench desktop application.
#include <QApplication>

#include "core/io/torch/torch_runtime.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Synesthesia Workbench");
    QApplication::setOrganizationName("Synesthesia");
    syn::init_torch_runtime();
    syn::ui::MainWindow window;
    window.show();
    return app.exec();
}
