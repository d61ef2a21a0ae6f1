#pragma once
// Saves a QCustomPlot as PNG, SVG or PDF (by the file's suffix) at a chosen pixel size and DPI.
// The plot is laid out at width*96/dpi x height*96/dpi logical pixels and rendered at dpi/96 scale,
// so the PNG is exactly width x height pixels and its fonts have their point size when printed at
// `dpi` (what matplotlib's figsize x dpi means). Throws syn::Error naming the file on failure.
#include <QString>

class QCustomPlot;

namespace syn::ui {

struct PlotExportSize {
    int width_px = 1600;
    int height_px = 1000;
    double dpi = 150;
};

void export_plot(QCustomPlot* plot, const QString& path, const PlotExportSize& size = {});

}  // namespace syn::ui
