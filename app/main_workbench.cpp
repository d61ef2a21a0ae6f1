// The Synesthesia Workbench desktop application.
//
// Besides the normal interactive start, options for tests, documentation and talks:
//   --screenshot PNG                    save the window once shown, then quit
//   --screenshot-dir DIR                save one PNG per panel (and the window) once the work asked
//                                       for below is done, then quit (exit code 1 if it failed)
//   --load-data CSV [JSON]              CxC pairs and COCO captions (JSON also via --captions)
//   --max-pairs N                       only the first N pairs
//   --models a,b,c                      tick these models (catalog ids, hub ids or folders)
//   --run-sts                           run STS on them once the data is loaded
//   --prompt TEXT                       then search the nearest captions of TEXT
//   --project FILE                      open a saved session
//   --present FILE                      start presentation mode with a JSON list
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <memory>

#include "core/io/torch/torch_runtime.h"
#include "ui/about.h"
#include "ui/main_window.h"
#include "ui/presentation.h"

namespace {

struct Script {
    QString screenshot_dir;
    bool run_sts = false;
    QString prompt;
    bool prompt_submitted = false;  // a presentation may search too; only our own search ends the run
    bool failed = false;
};

void finish(syn::ui::MainWindow& window, Script& script) {
    // Let the panels lay out and repaint before grabbing them.
    QTimer::singleShot(800, &window, [&window, &script] {
        const QStringList written = window.saveScreenshots(script.screenshot_dir);
        for (const QString& path : written) std::printf("saved %s\n", qPrintable(path));
        std::fflush(stdout);
        QApplication::exit(script.failed || written.isEmpty() ? 1 : 0);
    });
}

}  // namespace

int main(int argc, char** argv) {
    syn::prefer_passive_openmp_wait(argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName("Synesthesia Workbench");
    QApplication::setOrganizationName("Synesthesia");
    QApplication::setApplicationVersion(syn::ui::workbenchVersion());  // CMake's PROJECT_VERSION
    QGuiApplication::setDesktopFileName("synesthesia-workbench");      // resources/synesthesia-workbench.desktop

    QCommandLineParser parser;
    parser.setApplicationDescription("Compare BERT-style and CLIP-style text encoders");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot("screenshot", "Save a PNG of the main window after start-up and quit.", "png");
    QCommandLineOption screenshot_dir("screenshot-dir", "Save one PNG per panel into DIR when done, then quit.", "dir");
    QCommandLineOption load_data("load-data", "CxC STS pairs (csv); the COCO captions json follows, or use --captions.", "csv");
    QCommandLineOption captions("captions", "COCO captions json.", "json");
    QCommandLineOption max_pairs("max-pairs", "Use only the first N pairs.", "n");
    QCommandLineOption models("models", "Comma-separated models to tick (catalog ids, hub ids, folders).", "list");
    QCommandLineOption run_sts("run-sts", "Run STS on the ticked models once the data is loaded.");
    QCommandLineOption prompt("prompt", "After STS, search the nearest captions of this text.", "text");
    QCommandLineOption project("project", "Open a project file (.synproj).", "file");
    QCommandLineOption present("present", "Start presentation mode with a JSON list of prompts / pairs.", "file");
    for (const auto* o : {&screenshot, &screenshot_dir, &load_data, &captions, &max_pairs, &models, &run_sts, &prompt,
                          &project, &present})
        parser.addOption(*o);
    parser.addPositionalArgument("json", "COCO captions json (after --load-data CSV)", "[json]");
    parser.process(app);

    syn::init_torch_runtime();
    syn::ui::MainWindow window;
    auto script = std::make_shared<Script>();
    script->screenshot_dir = parser.value(screenshot_dir);
    script->run_sts = parser.isSet(run_sts);
    script->prompt = parser.value(prompt);
    const bool scripted = !script->screenshot_dir.isEmpty();
    if (scripted) window.setErrorBoxesEnabled(false);  // messages still go to stderr below
    window.show();

    QObject::connect(&window, &syn::ui::MainWindow::errorShown, &window, [script, scripted](const QString& m) {
        std::fprintf(stderr, "error: %s\n", qPrintable(m));
        if (scripted) script->failed = true;
    });

    if (parser.isSet(models) && !window.selectModels(parser.value(models).split(',', Qt::SkipEmptyParts)))
        script->failed = true;
    if (parser.isSet(max_pairs)) window.setMaxPairs(parser.value(max_pairs).toInt());

    if (scripted) {
        QObject::connect(&window, &syn::ui::MainWindow::dataLoadFailed, &window, [&window, script](const QString&) {
            script->failed = true;
            finish(window, *script);
        });
        QObject::connect(&window, &syn::ui::MainWindow::dataLoaded, &window, [&window, script] {
            if (script->run_sts) {
                if (!window.runSts()) {
                    script->failed = true;
                    finish(window, *script);
                }
            } else {
                finish(window, *script);
            }
        });
        QObject::connect(&window, &syn::ui::MainWindow::stsFinished, &window, [&window, script](bool ok) {
            if (!ok) script->failed = true;
            if (ok && !script->prompt.isEmpty() && window.searchPrompt(script->prompt, 5)) {
                script->prompt_submitted = true;
                return;
            }
            finish(window, *script);
        });
        QObject::connect(&window, &syn::ui::MainWindow::promptFinished, &window, [&window, script](bool ok) {
            if (!script->prompt_submitted) return;
            if (!ok) script->failed = true;
            finish(window, *script);
        });
        // A guard: a scripted run never hangs a test.
        QTimer::singleShot(10 * 60 * 1000, &window, [] {
            std::fprintf(stderr, "error: scripted run timed out\n");
            QApplication::exit(2);
        });
    }

    if (parser.isSet(project)) {
        window.openProject(parser.value(project));
    } else if (parser.isSet(load_data)) {
        QString json = parser.value(captions);
        if (json.isEmpty() && !parser.positionalArguments().isEmpty()) json = parser.positionalArguments().first();
        window.loadData(parser.value(load_data), json, parser.value(max_pairs).toInt());
    } else if (!window.autoFindData() && scripted) {
        finish(window, *script);  // the empty state is what there is to show
    }
    // A plain interactive start: offer the session the workbench last closed with (non-modal).
    if (!scripted && !parser.isSet(project) && !parser.isSet(load_data) && !parser.isSet(present) &&
        !parser.isSet(screenshot))
        window.offerLastSession();

    if (parser.isSet(present)) {
        try {
            window.startPresentation(syn::ui::load_presentation(parser.value(present)));
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
        }
    }

    if (parser.isSet(screenshot)) {
        const QString path = parser.value(screenshot);
        QTimer::singleShot(1500, &window, [&window, path] {
            QDir().mkpath(QFileInfo(path).absolutePath());
            const bool ok = window.grab().save(path);
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "saved" : "could not save", qPrintable(path));
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return app.exec();
}
