// `synesthesia`: the headless command line on the same core as the workbench.
#include "core/io/torch/torch_runtime.h"
#include "core/run/commands/cli_commands.h"

#if defined(SYN_CLI_WITH_FIGURES)
#include <QApplication>

#include <cstdlib>
#include <memory>

#include "ui/plots/sts_figures.h"
#endif

int main(int argc, char** argv) {
    syn::prefer_passive_openmp_wait(argv);
#if defined(SYN_CLI_WITH_FIGURES)
    // Figures are drawn by QCustomPlot, which needs an application object; no window is shown, so
    // the offscreen platform works with or without a display.
    std::unique_ptr<QApplication> qt;
    syn::run::FigureWriter figures = [&](const syn::run::StsResult& result, const std::string& out_dir) {
        if (!qt) {
            if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
            static int qt_argc = 1;
            static char name[] = "synesthesia";
            static char* qt_argv[] = {name, nullptr};
            qt = std::make_unique<QApplication>(qt_argc, qt_argv);
        }
        return syn::ui::write_sts_figures(result, out_dir);
    };
    return syn::run::cli_main(argc, argv, figures);
#else
    return syn::run::cli_main(argc, argv);
#endif
}
