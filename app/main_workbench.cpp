// The Synesthesia Workbench desktop application.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "core/io/torch/torch_runtime.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Synesthesia Workbench");
    QApplication::setOrganizationName("Synesthesia");
    QApplication::setApplicationVersion("0.1.0");

    QCommandLineParser parser;
    parser.setApplicationDescription("Compare BERT-style and CLIP-style text encoders");
    parser.addHelpOption();
    parser.addVersionOption();
    // For tests and documentation: save the window as a PNG once it is shown, then quit.
    QCommandLineOption screenshot("screenshot", "Save a PNG of the main window after start-up and quit.", "png");
    parser.addOption(screenshot);
    parser.process(app);

    syn::init_torch_runtime();
    syn::ui::MainWindow window;
    window.show();

    if (parser.isSet(screenshot)) {
        const QString path = parser.value(screenshot);
        QTimer::singleShot(1500, &window, [&window, path] {
            const bool ok = window.grab().save(path);
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "saved" : "could not save", qPrintable(path));
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return app.exec();
}
