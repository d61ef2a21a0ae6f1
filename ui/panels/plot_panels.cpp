#include "ui/panels/plot_panels.h"

#include <QComboBox>
#include <QEvent>
#include <QLocale>
#include <QResizeEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

#include "core/run/jobs/sts_job.h"
#include "ui/models/pair_table_model.h"

namespace syn::ui {

namespace {
// Room for an axis rect of at least 150 px beside the title, legend and axis labels, which grow
// with the font scale; a dock smaller than this scrolls instead of squashing the plot.
QSize minimum_plot_size(double chrome_px, const PlotStyle& style) {
    return {300, static_cast<int>(150 + chrome_px * style.font_scale)};
}

// Re-lays the figure out for the plot's new size before QCustomPlot replots it.
bool refit_on_resize(QCustomPlot* plot, QObject* watched, QEvent* event) {
    if (watched == plot && event->type() == QEvent::Resize)
        fit_plot_to_size(plot, static_cast<QResizeEvent*>(event)->size());
    return false;
}
// On screen, a graph of many points draws each as a pre-rendered antialiased disc image instead of
// an antialiased ellipse: at 44k pairs the ellipses take ~80 ms per replot, the images a few ms.
// Image positions snap to whole pixels (at most half a pixel off). Exports (buildExportFigure) keep
// vector discs; on a high-DPI screen QCustomPlot would place a scaled image off-centre, so vector there too.
constexpr int kDiscImagesAbove = 2000;
void use_disc_images(QCustomPlot* plot) {
    if (plot->devicePixelRatioF() != 1.0) return;
    for (int i = 0; i < plot->graphCount(); ++i) {
        QCPGraph* graph = plot->graph(i);
        const QCPScatterStyle style = graph->scatterStyle();
        if (style.shape() != QCPScatterStyle::ssDisc || graph->dataCount() <= kDiscImagesAbove) continue;
        const int side = static_cast<int>(std::ceil(style.size())) | 1;  // odd: the centre is a pixel's centre
        QPixmap disc(side + 2, side + 2);
        disc.fill(Qt::transparent);
        QPainter painter(&disc);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setPen(style.pen());
        painter.setBrush(style.brush());
        painter.drawEllipse(QPointF(disc.width() / 2.0, disc.height() / 2.0), style.size() / 2, style.size() / 2);
        painter.end();
        graph->setScatterStyle(QCPScatterStyle(disc));
    }
}
constexpr double kScatterChrome = 125;  // title, two legend rows, x tick labels and title
constexpr double kBarsChrome = 150;     // title, 2 x 2 legend, three-line encoder names
}  // namespace

ScatterPanel::ScatterPanel(PairTableModel* model, PairFilterProxy* proxy, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(proxy) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("scatterPlot");
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setToolTip("Click a point to select its pair in the table; drag to pan, wheel to zoom");
    plot_->setMinimumSize(minimum_plot_size(kScatterChrome, style_));
    plot_->installEventFilter(this);
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
    plot_->setMinimumSize(minimum_plot_size(kScatterChrome, style_));
    rebuild();
}

bool ScatterPanel::eventFilter(QObject* watched, QEvent* event) { return refit_on_resize(plot_, watched, event); }

QString ScatterPanel::filterNote() const {
    const auto shown = proxy_->filteredPairs().size();
    const int all = model_->pairCount();
    if (static_cast<int>(shown) >= all) return {};
    return QString("%1 of %2 pairs (filtered)").arg(QLocale().toString(static_cast<qlonglong>(shown)),
                                                     QLocale().toString(all));
}

bool ScatterPanel::buildInto(QCustomPlot* plot, const QString& title) const {
    const int e = encoder_->currentIndex();
    if (!model_->hasData() || e < 0 || e >= model_->encoderCount()) return false;
    const auto* ds = model_->dataset();
    std::vector<double> sts_l(ds->pairs.size()), sts_v(ds->pairs.size());
    for (size_t i = 0; i < ds->pairs.size(); ++i) {
        sts_l[i] = ds->pairs[i].sts_l;
        sts_v[i] = ds->pairs[i].sts_v;
    }
    build_scatter(plot, sts_l, sts_v, model_->encoder(e).scores, rows_, model_->encoder(e).label, style_, title);
    return true;
}

bool ScatterPanel::buildExportFigure(QCustomPlot* figure) const {
    const int e = encoder_->currentIndex();
    if (!model_->hasData() || e < 0 || e >= model_->encoderCount()) return false;
    QString title = QString("%1 vs STS-L").arg(model_->encoder(e).label);
    const QString note = filterNote();
    if (!note.isEmpty()) title += "\n" + note;
    buildInto(figure, title);
    figure->xAxis->setRange(plot_->xAxis->range());  // the zoom shown on screen
    figure->yAxis->setRange(plot_->yAxis->range());
    return true;
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
    const auto& scores = model_->encoder(e).scores;
    for (int r : proxy_->filteredPairs())
        if (std::isfinite(scores[static_cast<size_t>(r)])) rows_.push_back(r);
    buildInto(plot_, {});
    use_disc_images(plot_);
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
    // Queued: a filter change that also drops selected rows asks for a replot from rebuild() and from
    // highlight(); with tens of thousands of points it is drawn once, in the next event-loop pass.
    plot_->replot(QCustomPlot::rpQueuedReplot);
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
    plot_->setMinimumSize(minimum_plot_size(kBarsChrome, style_));
    plot_->installEventFilter(this);
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
    plot_->setMinimumSize(minimum_plot_size(kBarsChrome, style_));
    rebuild();
}

bool Table2Panel::eventFilter(QObject* watched, QEvent* event) { return refit_on_resize(plot_, watched, event); }

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
