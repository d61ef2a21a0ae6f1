#include "ui/plots/plot_builders.h"

#include <qcustomplot.h>

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
                   const PlotStyle& style) {
    plot->clearPlottables();
    plot->clearItems();
    reset_layout(plot);
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
        g->setName(QString("%1 (n=%2)").arg(name).arg(x.size()));
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
        // Head room above the points for the legend.
        const double pad = std::max(0.02, (yr.upper - yr.lower) * 0.05);
        plot->yAxis->setRange(yr.lower - pad, yr.upper + pad + 0.25 * (yr.upper - yr.lower));
    } else {
        plot->yAxis->setRange(0, 1);
    }
    plot->legend->setVisible(true);
    plot->legend->setWrap(0);
    plot->legend->setFillOrder(QCPLayoutGrid::foRowsFirst, true);
    add_title(plot, QString("%1 vs STS-L").arg(encoder), style);
    apply_plot_style(plot, style);
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
    for (size_t i = 0; i < encoders.size(); ++i) ticker->addTick(static_cast<double>(i + 1), encoders[i].label);
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
    plot->xAxis->setTickLabelRotation(encoders.size() > 2 ? 25 : 0);
    plot->xAxis->setSubTicks(false);
    plot->xAxis->setTickLength(0, 4);
    plot->xAxis->setRange(0.4, static_cast<double>(encoders.size()) + 0.6);
    plot->xAxis->setLabel("");
    plot->yAxis->setLabel("r × 100 (95% CI)");
    plot->yAxis->setRange(std::min(0.0, lo - 5), std::max(10.0, hi + 5));
    // The legend in its own row under the title, one line of four entries, never over the bars.
    plot->legend->setVisible(true);
    plot->legend->setWrap(2);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);  // 2 x 2, rearranging existing items
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->axisRect()->insetLayout()->simplify();
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setMargins(QMargins(4, 2, 4, 2));
    add_title(plot, "Table 2: correlation with STS-L and STS-V", style);
    apply_plot_style(plot, style);
    plot->legend->setBorderPen(Qt::NoPen);
}

}  // namespace syn::ui
