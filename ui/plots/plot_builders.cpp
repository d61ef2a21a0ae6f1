#include "ui/plots/plot_builders.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace syn::ui {

namespace {
const QColor kSameImage(0x1f, 0x77, 0xb4);       // blue
const QColor kDifferentImages(0xff, 0x7f, 0x0e);  // orange
const QColor kMetricColours[4] = {QColor(0x1f, 0x77, 0xb4), QColor(0x6b, 0xae, 0xd6), QColor(0xd6, 0x27, 0x28),
                                  QColor(0xf4, 0x9a, 0x9a)};

QFont scaled(QFont f, double scale, int base_pt) {
    f.setPointSizeF(base_pt * scale);
    return f;
}

// Back to one axis rect with the legend in its inset: removes the title row and a legend row left
// by an earlier build (the legend object itself is kept; QCustomPlot owns it).
void reset_layout(QCustomPlot* plot) {
    QCPLayoutGrid* layout = plot->plotLayout();
    for (int i = layout->elementCount() - 1; i >= 0; --i) {
        QCPLayoutElement* e = layout->elementAt(i);
        if (!e || e == plot->axisRect()) continue;
        if (e == plot->legend) layout->take(plot->legend);
        else layout->removeAt(i);
    }
    layout->simplify();
    if (!plot->legend->layout()) {
        plot->axisRect()->insetLayout()->addElement(plot->legend, Qt::AlignTop | Qt::AlignLeft);
    }
}

// The legend in a row of its own under the title (added after this): inside the axis rect it
// covers data, the scatter's points at the top left and the bars of a short plot.
void legend_in_row_under_title(QCustomPlot* plot) {
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->axisRect()->insetLayout()->simplify();
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setMargins(QMargins(4, 2, 4, 2));
    plot->legend->setVisible(true);
}

// Where build_correlation_bars keeps the encoder names as given (the ticker holds them as laid out).
constexpr char kCategoryLabels[] = "synCategoryLabels";

int legend_width(QCPLegend* legend, int columns) {
    std::vector<int> widths(static_cast<size_t>(columns), 0);
    for (int i = 0; i < legend->itemCount(); ++i) {
        int& w = widths[static_cast<size_t>(i % columns)];
        w = std::max(w, legend->item(i)->minimumOuterSizeHint().width());
    }
    int total = legend->margins().left() + legend->margins().right() + (columns - 1) * legend->columnSpacing();
    for (int w : widths) total += w;
    return total;
}

void fit_legend(QCustomPlot* plot, int width) {
    QCPLegend* legend = plot->legend;
    const int n = legend->itemCount();
    if (n == 0 || legend->layout() != plot->plotLayout()) return;  // only the legend row
    int columns = n;
    while (columns > 1 && legend_width(legend, columns) > width - 8) --columns;
    if (n == 4 && columns == 3) columns = 2;  // 2 x 2 rather than a ragged second row
    legend->setWrap(columns);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
}

void fit_category_labels(QCustomPlot* plot, const QSize& size) {
    const QStringList labels = category_labels(plot);
    auto ticker = plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    if (labels.isEmpty() || !ticker) return;
    const QFontMetrics metrics(plot->xAxis->tickLabelFont());
    // The axis rect is the figure less the value axis (tick labels, title, paddings) and a margin.
    const int value_axis = QFontMetrics(plot->yAxis->tickLabelFont()).horizontalAdvance("-100") +
                           QFontMetrics(plot->yAxis->labelFont()).height() + 30;
    const int axis_width = std::max(40, size.width() - value_axis - 12);
    // One category per key unit; a label keeps a few pixels from its neighbours.
    const int slot = static_cast<int>(axis_width / std::max(1.0, plot->xAxis->range().size())) - 8;
    int widest = 0;
    for (const QString& label : labels) widest = std::max(widest, metrics.horizontalAdvance(label));
    QStringList shown = labels;
    double rotation = 0;
    if (widest > slot) {
        shown.clear();
        int widest_line = 0, most_lines = 0;
        for (const QString& label : labels) {
            const QString wrapped = wrap_label(label, metrics, slot);
            const QStringList lines = wrapped.split('\n');
            for (const QString& line : lines) widest_line = std::max(widest_line, metrics.horizontalAdvance(line));
            most_lines = std::max(most_lines, static_cast<int>(lines.size()));
            shown << wrapped;
        }
        if (widest_line > slot || most_lines > 4) {
            shown = labels;
            rotation = -90;
        }
    }
    ticker->clear();
    for (int i = 0; i < labels.size(); ++i) ticker->addTick(static_cast<double>(i + 1), shown[i]);
    plot->xAxis->setTickLabelRotation(rotation);
}

void fit_value_ticks(QCustomPlot* plot, const QSize& size) {
    const int line = QFontMetrics(plot->yAxis->tickLabelFont()).height();
    // The last layout's axis rect when it was for this size, else most of the figure's height.
    const int length = plot->viewport().size() == size && plot->axisRect()->height() > 0
                           ? plot->axisRect()->height()
                           : size.height() * 6 / 10;
    plot->yAxis->ticker()->setTickCount(std::clamp(length / (3 * line), 2, 5));
}

void add_title(QCustomPlot* plot, const QString& text, const PlotStyle& style) {
    QFont tf = scaled(QFont(plot->font()), style.font_scale, 11);
    tf.setBold(true);
    auto* title = new QCPTextElement(plot, text, tf);
    title->setTextColor(style.dark ? QColor(0xdd, 0xdd, 0xdd) : QColor(0x20, 0x20, 0x20));
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, title);
}
}  // namespace

void apply_plot_style(QCustomPlot* plot, const PlotStyle& style) {
    const QColor fg = style.dark ? QColor(0xdd, 0xdd, 0xdd) : QColor(0x20, 0x20, 0x20);
    const QColor grid = style.dark ? QColor(0x55, 0x55, 0x55) : QColor(0xdd, 0xdd, 0xdd);
    plot->setBackground(style.dark ? QColor(0x2b, 0x2b, 0x2b) : QColor(Qt::white));
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
        axis->setLabelFont(scaled(axis->labelFont(), style.font_scale, 10));
        axis->setTickLabelFont(scaled(axis->tickLabelFont(), style.font_scale, 9));
    }
    plot->legend->setBrush(style.dark ? QColor(0x33, 0x33, 0x33, 220) : QColor(255, 255, 255, 220));
    plot->legend->setTextColor(fg);
    plot->legend->setBorderPen(QPen(grid));
    plot->legend->setFont(scaled(plot->legend->font(), style.font_scale, 9));
}

void build_scatter(QCustomPlot* plot, const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                   const std::vector<double>& scores, const std::vector<int>& rows, const QString& encoder,
                   const PlotStyle& style, const QString& title) {
    plot->clearPlottables();
    plot->clearItems();
    reset_layout(plot);
    plot->setProperty(kCategoryLabels, QVariant());
    QVector<double> x1, y1, x0, y0;
    for (int r : rows) {
        const size_t i = static_cast<size_t>(r);
        if (i >= scores.size() || !std::isfinite(scores[i])) continue;
        if (sts_v[i] > 0.5) {
            x1 << sts_l[i];
            y1 << scores[i];
        } else {
            x0 << sts_l[i];
            y0 << scores[i];
        }
    }
    const double size = 5.0 * style.font_scale;
    auto add = [&](const QVector<double>& x, const QVector<double>& y, QColor colour, const QString& name) {
        QCPGraph* g = plot->addGraph();
        g->setName(QString("%1, n=%2").arg(name).arg(x.size()));
        g->setLineStyle(QCPGraph::lsNone);
        QColor fill = colour;
        fill.setAlpha(x.size() > 5000 ? 60 : 140);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, fill, fill, size));
        g->setData(x, y);
        g->setAdaptiveSampling(false);  // every point matters in a scatter
    };
    add(x0, y0, kDifferentImages, "different images (STS-V 0)");
    add(x1, y1, kSameImage, "same image (STS-V 1)");
    plot->xAxis->setLabel("STS-L (human rating, 0–5)");
    plot->yAxis->setLabel(QString("%1 similarity").arg(encoder));
    plot->xAxis->setRange(-0.1, 5.1);
    bool found = false;
    QCPRange yr;
    for (int i = 0; i < plot->graphCount(); ++i) {
        bool ok = false;
        QCPRange r = plot->graph(i)->getValueRange(ok);
        if (!ok) continue;
        yr = found ? QCPRange(std::min(yr.lower, r.lower), std::max(yr.upper, r.upper)) : r;
        found = true;
    }
    if (found) {
        const double pad = std::max(0.02, (yr.upper - yr.lower) * 0.05);
        plot->yAxis->setRange(yr.lower - pad, yr.upper + pad);
    } else {
        plot->yAxis->setRange(0, 1);
    }
    legend_in_row_under_title(plot);
    add_title(plot, title.isEmpty() ? QString("%1 vs STS-L").arg(encoder) : title, style);
    apply_plot_style(plot, style);
    fit_plot_to_size(plot, plot->size());
}

QString encoder_display_label(const syn::run::EncoderRun& run) {
    QString label = QString::fromStdString(run.label.empty() ? run.model : run.label);
    const bool path_like = label.startsWith('/') || label.startsWith("./") || label.startsWith("../") ||
                           label.startsWith('~') || label.contains('\\');
    if (path_like) {
        while (label.endsWith('/')) label.chop(1);
        label = label.section('/', -1);
    }
    return label;
}

std::vector<CorrelationBarsInput> correlation_bars_input(const syn::run::StsResult& result) {
    std::vector<CorrelationBarsInput> out;
    for (const auto& e : result.encoders) out.push_back({encoder_display_label(e), e.all});
    return out;
}

void build_correlation_bars(QCustomPlot* plot, const std::vector<CorrelationBarsInput>& encoders,
                            const PlotStyle& style) {
    plot->clearPlottables();
    plot->clearItems();
    reset_layout(plot);
    const char* names[4] = {"STS-L Spearman", "STS-L Pearson", "STS-V Spearman", "STS-V Pearson"};
    auto* group = new QCPBarsGroup(plot);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QStringList labels;
    for (size_t i = 0; i < encoders.size(); ++i) {
        ticker->addTick(static_cast<double>(i + 1), encoders[i].label);
        labels << encoders[i].label;
    }
    plot->setProperty(kCategoryLabels, labels);
    double lo = 0, hi = 0;
    for (int m = 0; m < 4; ++m) {
        auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
        bars->setName(names[m]);
        bars->setWidth(0.8 / 4);
        bars->setBarsGroup(group);
        bars->setPen(QPen(kMetricColours[m].darker(130)));
        bars->setBrush(kMetricColours[m]);
        auto* errors = new QCPErrorBars(plot->xAxis, plot->yAxis);
        errors->removeFromLegend();
        errors->setDataPlottable(bars);
        errors->setPen(QPen(style.dark ? QColor(0xee, 0xee, 0xee) : QColor(0x20, 0x20, 0x20), 1.2));
        QVector<double> keys, values, minus, plus;
        for (size_t i = 0; i < encoders.size(); ++i) {
            const auto& c = encoders[i].correlations;
            const syn::eval::CorrelationEstimate* est[4] = {&c.sts_l_spearman, &c.sts_l_pearson, &c.sts_v_spearman,
                                                            &c.sts_v_pearson};
            const auto& e = *est[m];
            if (!std::isfinite(e.point.value)) continue;  // undefined: no bar (the note says why), never a 0
            const double v = 100.0 * e.point.value;
            keys << static_cast<double>(i + 1);
            values << v;
            const bool ci = std::isfinite(e.ci.lower) && std::isfinite(e.ci.upper) && std::isfinite(e.point.value);
            minus << (ci ? std::max(0.0, v - 100.0 * e.ci.lower) : 0.0);
            plus << (ci ? std::max(0.0, 100.0 * e.ci.upper - v) : 0.0);
            lo = std::min(lo, ci ? 100.0 * e.ci.lower : v);
            hi = std::max(hi, ci ? 100.0 * e.ci.upper : v);
        }
        bars->setData(keys, values, true);
        errors->setData(minus, plus);
    }
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setSubTicks(false);
    plot->xAxis->setTickLength(0, 4);
    plot->xAxis->setRange(0.4, static_cast<double>(encoders.size()) + 0.6);
    plot->xAxis->setLabel("");
    plot->yAxis->setLabel("r × 100 (95% CI)");
    plot->yAxis->setRange(std::min(0.0, lo - 5), std::max(10.0, hi + 5));
    legend_in_row_under_title(plot);
    add_title(plot, "Table 2: correlation with STS-L and STS-V", style);
    apply_plot_style(plot, style);
    plot->legend->setBorderPen(Qt::NoPen);
    fit_plot_to_size(plot, plot->size());
}

void fit_plot_to_size(QCustomPlot* plot, const QSize& size) {
    if (size.width() <= 0 || size.height() <= 0) return;
    fit_legend(plot, size.width());
    fit_category_labels(plot, size);
    fit_value_ticks(plot, size);
}

QStringList category_labels(const QCustomPlot* plot) { return plot->property(kCategoryLabels).toStringList(); }

QStringList category_tick_labels(const QCustomPlot* plot) {
    QStringList out;
    if (auto ticker = plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>())
        for (const QString& label : ticker->ticks()) out << label;
    return out;
}

QString wrap_label(const QString& label, const QFontMetrics& metrics, int width) {
    QStringList pieces;
    QString piece;
    for (const QChar c : label) {
        piece += c;
        if (c == ' ' || c == '/' || c == '-' || c == '_') {
            pieces << piece;
            piece.clear();
        }
    }
    if (!piece.isEmpty()) pieces << piece;
    QStringList lines;
    QString line;
    for (const QString& p : pieces) {
        if (!line.isEmpty() && metrics.horizontalAdvance((line + p).trimmed()) > width) {
            lines << line.trimmed();
            line = p;
        } else {
            line += p;
        }
    }
    if (!line.trimmed().isEmpty()) lines << line.trimmed();
    return lines.join('\n');
}

}  // namespace syn::ui
