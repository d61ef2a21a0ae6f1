#pragma once
// Fills a QCustomPlot with the workbench's two figures, shared by the panels, the exports and the
// CLI's figure writer so that all three draw the same picture:
// - the scatter of one encoder's score against STS-L, coloured by STS-V (same image / different);
// - the Table 2 view: per encoder, bars of the four correlations (x100) with bootstrap-CI error bars.
#include <QSize>
#include <QString>
#include <QStringList>

#include <vector>

#include "core/run/jobs/sts_job.h"

class QCustomPlot;
class QFontMetrics;

namespace syn::ui {

struct PlotStyle {
    double font_scale = 1.0;  // presentation mode enlarges labels
    bool dark = false;
};

// `rows` are pair indices into sts_l / sts_v / scores (the current filter; all pairs for figures).
// The two graphs keep, per point, its pair index in the same order (see scatter_pair_at).
// `title` replaces the default "<encoder> vs STS-L" (an export of a filtered subset says so).
void build_scatter(QCustomPlot* plot, const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                   const std::vector<double>& scores, const std::vector<int>& rows, const QString& encoder,
                   const PlotStyle& style = {}, const QString& title = {});

struct CorrelationBarsInput {
    QString label;
    syn::run::StsCorrelations correlations;
};
// The label shown for an encoder: its paper label / id, or for a folder given by path, the folder's
// name (full paths make unreadable axis labels and column headers).
QString encoder_display_label(const syn::run::EncoderRun& run);

void build_correlation_bars(QCustomPlot* plot, const std::vector<CorrelationBarsInput>& encoders,
                            const PlotStyle& style = {});
std::vector<CorrelationBarsInput> correlation_bars_input(const syn::run::StsResult& result);

// Applies the palette's colours to axes, grid and legend.
void apply_plot_style(QCustomPlot* plot, const PlotStyle& style);

// Lays a figure built above out for a size (the widget's, or an export's): the legend row in as
// many columns as fit the width; the Table 2 encoder names on one line where they fit their slot,
// else broken at spaces, '/', '-' and '_' into lines that do, else turned upright (QCustomPlot
// silently drops a tick label that would cross the figure's edge); fewer value ticks where the
// height is short, so that their labels never overlap. Does not replot.
void fit_plot_to_size(QCustomPlot* plot, const QSize& size);

// The Table 2 x-axis labels as laid out (with their line breaks) and as given.
QStringList category_tick_labels(const QCustomPlot* plot);
QStringList category_labels(const QCustomPlot* plot);

// `label` broken into lines no wider than `width` at spaces, '/', '-' and '_' (kept at the line's
// end); a piece wider than `width` gets a line of its own.
QString wrap_label(const QString& label, const QFontMetrics& metrics, int width);

}  // namespace syn::ui
