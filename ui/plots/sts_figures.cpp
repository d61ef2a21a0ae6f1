#include "ui/plots/sts_figures.h"

#include <QDir>
#include <QGuiApplication>

#include <qcustomplot.h>

#include <cctype>
#include <set>

#include "core/io/errors.h"
#include "ui/plots/plot_builders.h"
#include "ui/plots/plot_export.h"

namespace syn::ui {

std::string figure_slug(const std::string& label) {
    std::string out;
    for (unsigned char c : label) {
        if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
        else if (!out.empty() && out.back() != '-') out.push_back('-');
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "encoder" : out;
}

std::vector<std::string> write_sts_figures(const syn::run::StsResult& result, const std::string& out_dir) {
    if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
        throw syn::Error("figures need a QGuiApplication (create one, e.g. with QT_QPA_PLATFORM=offscreen) before "
                         "writing to " + out_dir);
    if (!QDir().mkpath(QString::fromStdString(out_dir)))
        throw syn::file_error(out_dir, "cannot create the figure folder");
    const QDir dir(QString::fromStdString(out_dir));
    std::vector<std::string> written;
    const PlotExportSize size{1600, 1100, 200};
    auto save_all = [&](QCustomPlot& plot, const std::string& stem) {
        plot.setObjectName(QString::fromStdString(stem));
        for (const char* ext : {"png", "svg", "pdf"}) {
            const QString path = dir.filePath(QString::fromStdString(stem) + "." + ext);
            export_plot(&plot, path, size);
            written.push_back(path.toStdString());
        }
    };
    const auto sts_l = result.dataset.sts_l_values();
    const auto sts_v = result.dataset.sts_v_values();
    std::vector<int> rows(sts_l.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int>(i);
    std::set<std::string> used;
    for (const auto& e : result.encoders) {
        if (e.scores.size() != sts_l.size())
            throw syn::Error("encoder " + e.model + ": " + std::to_string(e.scores.size()) + " scores for " +
                             std::to_string(sts_l.size()) + " pairs");
        QCustomPlot plot;
        plot.resize(800, 550);
        const std::string label = encoder_display_label(e).toStdString();
        build_scatter(&plot, sts_l, sts_v, e.scores, rows, QString::fromStdString(label));
        std::string stem = "scatter_" + figure_slug(label);
        while (!used.insert(stem).second) stem += "_2";
        save_all(plot, stem);
    }
    if (!result.encoders.empty()) {
        QCustomPlot plot;
        plot.resize(800, 550);
        build_correlation_bars(&plot, correlation_bars_input(result));
        save_all(plot, "correlations");
    }
    return written;
}

}  // namespace syn::ui
