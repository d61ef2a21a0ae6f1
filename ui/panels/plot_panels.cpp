#include "ui/panels/plot_panels.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

#include "core/run/sts_job.h"
#include "ui/models/pair_table_model.h"

namespace syn::ui {

ScatterPanel::ScatterPanel(PairTableModel* model, PairFilterProxy* proxy, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(proxy) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("scatterPlot");
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setToolTip("Click a point to select its pair in the table; drag to pan, wheel to zoom");
    plot_->setMinimumSize(280, 220);
    encoder_ = new QComboBox(this);
    encoder_->setToolTip("Encoder whose cosine is plotted");
    hint_ = new QLabel(this);
    hint_->setWordWrap(true);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel("Encoder:", this));
    top->addWidget(encoder_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);
    layout->addWidget(hint_);
    connect(encoder_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        if (encoder_->currentIndex() >= 0) wanted_encoder_ = encoder_->currentText();
        rebuild();
    });
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        refreshEncoders();
        rebuild();
    });
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        if (event->button() != Qt::LeftButton) return;
        const int pair = pairAt(event->pos());
        if (pair >= 0) emit pairClicked(pair, event->modifiers() & (Qt::ControlModifier | Qt::ShiftModifier));
    });
    refreshEncoders();
    rebuild();
}

void ScatterPanel::refreshEncoders() {
    const QSignalBlocker block(encoder_);
    encoder_->clear();
    for (int e = 0; e < model_->encoderCount(); ++e) encoder_->addItem(model_->encoder(e).label);
    const int i = encoder_->findText(wanted_encoder_);
    encoder_->setCurrentIndex(i >= 0 ? i : (encoder_->count() ? 0 : -1));
}

QString ScatterPanel::currentEncoder() const { return encoder_->currentText(); }

void ScatterPanel::setCurrentEncoder(const QString& label) {
    wanted_encoder_ = label;
    const int i = encoder_->findText(label);
    if (i >= 0) encoder_->setCurrentIndex(i);
}

void ScatterPanel::setStyle(const PlotStyle& style) {
    style_ = style;
    rebuild();
}

void ScatterPanel::rebuild() {
    highlight_graph_ = nullptr;
    rows_.clear();
    const int e = encoder_->currentIndex();
    if (!model_->hasData() || e < 0 || e >= model_->encoderCount()) {
        plot_->clearPlottables();
        plot_->clearItems();
        apply_plot_style(plot_, style_);
        plot_->legend->setVisible(false);
        hint_->setText(model_->hasData() ? "Run STS (F5) to plot each encoder's cosine against STS-L."
                                         : "Load the CxC / COCO data (File ▸ Open data…) and run STS.");
        plot_->replot();
        return;
    }
    const auto* ds = model_->dataset();
    const auto& scores = model_->encoder(e).scores;
    std::vector<double> sts_l(ds->pairs.size()), sts_v(ds->pairs.size());
    for (size_t i = 0; i < ds->pairs.size(); ++i) {
        sts_l[i] = ds->pairs[i].sts_l;
        sts_v[i] = ds->pairs[i].sts_v;
    }
    for (int r : proxy_->filteredPairs())
        if (std::isfinite(scores[static_cast<size_t>(r)])) rows_.push_back(r);
    build_scatter(plot_, sts_l, sts_v, scores, rows_, model_->encoder(e).label, style_);
    hint_->setText(QString("%1 pairs of the current filter · blue: same image, orange: different images").arg(rows_.size()));
    drawHighlight();
}

void ScatterPanel::highlight(const std::vector<int>& pairs) {
    highlighted_ = pairs;
    drawHighlight();
}

void ScatterPanel::drawHighlight() {
    const int e = encoder_->currentIndex();
    if (!model_->hasData() || e < 0 || e >= model_->encoderCount()) return;
    if (!highlight_graph_) {
        highlight_graph_ = plot_->addGraph();
        highlight_graph_->setName("selected");
        highlight_graph_->setLineStyle(QCPGraph::lsNone);
        highlight_graph_->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(0xd0, 0x10, 0x60), 2.0), Qt::NoBrush,
                            11 * style_.font_scale));
        highlight_graph_->removeFromLegend();
    }
    QVector<double> x, y;
    const auto& scores = model_->encoder(e).scores;
    for (int p : highlighted_) {
        if (p < 0 || p >= model_->pairCount()) continue;
        if (!std::isfinite(scores[static_cast<size_t>(p)])) continue;
        x << model_->pair(p).sts_l;
        y << scores[static_cast<size_t>(p)];
        if (x.size() > 2000) break;  // a huge selection would hide the scatter under rings
    }
    highlight_graph_->setData(x, y);
    plot_->replot();
}

int ScatterPanel::pairAt(const QPoint& pos, double radius_px) const {
    const int e = encoder_->currentIndex();
    if (e < 0 || e >= model_->encoderCount()) return -1;
    const auto& scores = model_->encoder(e).scores;
    double best = radius_px * radius_px;
    int best_pair = -1;
    for (int r : rows_) {
        const double px = plot_->xAxis->coordToPixel(model_->pair(r).sts_l);
        const double py = plot_->yAxis->coordToPixel(scores[static_cast<size_t>(r)]);
        const double d = (px - pos.x()) * (px - pos.x()) + (py - pos.y()) * (py - pos.y());
        if (d <= best) {
            best = d;
            best_pair = r;
        }
    }
    return best_pair;
}

Table2Panel::Table2Panel(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("table2Plot");
    plot_->setMinimumSize(280, 220);
    plot_->setToolTip("Spearman ρ and Pearson r (×100) of each encoder's cosine with STS-L and STS-V, with 95% "
                      "bootstrap confidence intervals over all pairs of the last STS run");
    note_ = new QLabel(this);
    note_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(plot_, 1);
    layout->addWidget(note_);
    rebuild();
}

void Table2Panel::setResult(std::shared_ptr<const syn::run::StsResult> result) {
    result_ = std::move(result);
    rebuild();
}

void Table2Panel::setStyle(const PlotStyle& style) {
    style_ = style;
    rebuild();
}

void Table2Panel::rebuild() {
    if (!result_ || result_->encoders.empty()) {
        plot_->clearPlottables();
        plot_->clearItems();
        apply_plot_style(plot_, style_);
        plot_->legend->setVisible(false);
        note_->setText("Table 2 appears here after an STS run (Run ▸ Run STS, F5).");
        plot_->replot();
        return;
    }
    build_correlation_bars(plot_, correlation_bars_input(*result_), style_);
    const auto& ci = result_->encoders.front().all.sts_l_spearman.ci;
    QString note = QString("%1 pairs · %2 encoders · %3 bootstrap replicates").arg(result_->dataset.pairs.size())
                       .arg(result_->encoders.size()).arg(ci.replicates);
    // Undefined correlations get no bar; say why (e.g. every pair has STS-V 0 in a small subset).
    QStringList undefined;
    for (const auto& e : result_->encoders) {
        const std::pair<const char*, const syn::eval::CorrelationEstimate*> all[] = {
            {"STS-L", &e.all.sts_l_spearman}, {"STS-L", &e.all.sts_l_pearson},
            {"STS-V", &e.all.sts_v_spearman}, {"STS-V", &e.all.sts_v_pearson}};
        for (const auto& [name, est] : all)
            if (!est->point.defined())
                undefined << QString("%1 undefined (%2)").arg(name, QString::fromStdString(est->point.undefined_reason));
    }
    undefined.removeDuplicates();
    if (!undefined.isEmpty()) note += " · no bar where " + undefined.join("; ");
    note_->setText(note);
    plot_->replot();
}

}  // namespace syn::ui
