#include "ui/plots/plot_export.h"

#include <QFileInfo>
#include <QSvgGenerator>

#include <qcustomplot.h>

#include <cmath>

#include "core/io/errors.h"
#include "ui/plots/plot_builders.h"

namespace syn::ui {

void export_plot(QCustomPlot* plot, const QString& path, const PlotExportSize& size) {
    const std::string where = path.toStdString();
    if (size.width_px < 16 || size.height_px < 16 || size.width_px > 20000 || size.height_px > 20000)
        throw syn::file_error(where, "plot size must be 16..20000 pixels per side");
    if (!(size.dpi >= 30 && size.dpi <= 2400)) throw syn::file_error(where, "DPI must be between 30 and 2400");
    const double scale = size.dpi / 96.0;
    const int w = std::max(1, static_cast<int>(std::lround(size.width_px / scale)));
    const int h = std::max(1, static_cast<int>(std::lround(size.height_px / scale)));
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != "png" && suffix != "pdf" && suffix != "svg")
        throw syn::file_error(where, "unknown figure format '" + suffix.toStdString() + "' (use .png, .svg or .pdf)");
    // Legend columns, label breaks and tick counts for the figure's size, then back to the widget's.
    fit_plot_to_size(plot, QSize(w, h));
    struct RefitOnReturn {
        QCustomPlot* plot;
        ~RefitOnReturn() {
            fit_plot_to_size(plot, plot->size());
            plot->replot();
        }
    } refit{plot};
    bool ok = false;
    if (suffix == "png") {
        ok = plot->savePng(path, w, h, scale, -1, static_cast<int>(std::lround(size.dpi)), QCP::ruDotsPerInch);
    } else if (suffix == "pdf") {
        ok = plot->savePdf(path, w, h, QCP::epNoCosmetic, "Synesthesia Workbench", plot->objectName());
    } else if (suffix == "svg") {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(QSize(w, h));
        generator.setViewBox(QRect(0, 0, w, h));
        generator.setResolution(96);
        generator.setTitle(plot->objectName());
        generator.setDescription("Synesthesia Workbench");
        QCPPainter painter;
        if (painter.begin(&generator)) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    }
    if (!ok || QFileInfo(path).size() == 0) throw syn::file_error(where, "could not write the figure");
}

}  // namespace syn::ui
