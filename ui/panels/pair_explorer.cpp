#include "ui/panels/pair_explorer.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>

namespace syn::ui {

PairExplorerPanel::PairExplorerPanel(QWidget* parent) : QWidget(parent) {
    model_ = new PairTableModel(this);
    proxy_ = new PairFilterProxy(this);
    proxy_->setSourceModel(model_);

    search_ = new QLineEdit(this);
    search_->setObjectName("pairSearch");
    search_->setPlaceholderText("Search captions…");
    search_->setClearButtonEnabled(true);
    search_->setToolTip("Show pairs where either caption contains this text (case-insensitive)");
    method_ = new QComboBox(this);
    method_->setToolTip("CxC sampling method: c2c_cocaption = same image, c2c_isim = different images");
    sts_min_ = new QDoubleSpinBox(this);
    sts_max_ = new QDoubleSpinBox(this);
    for (auto* s : {sts_min_, sts_max_}) {
        s->setRange(0.0, 5.0);
        s->setSingleStep(0.25);
        s->setDecimals(2);
        s->setKeyboardTracking(false);  // "2.5" typed is one change, not "2" then "2.5"
    }
    sts_max_->setValue(5.0);
    sts_min_->setToolTip("Lowest STS-L (human rating) shown");
    sts_max_->setToolTip("Highest STS-L (human rating) shown");
    sts_v_ = new QComboBox(this);
    sts_v_->addItem("STS-V: any", -1);
    sts_v_->addItem("same image (1)", 1);
    sts_v_->addItem("different images (0)", 0);
    sts_v_->setToolTip("STS-V: whether the two captions describe the same COCO image");
    auto* disagree = new QPushButton(QIcon(":/icons/disagree.svg"), "Disagreement", this);
    disagree->setToolTip("Order pairs by how much the CLIP-style and BERT-style encoders disagree (Ctrl+D)");
    connect(disagree, &QPushButton::clicked, this, [this] { orderByDisagreement(); });

    auto* search_row = new QHBoxLayout;
    search_row->addWidget(search_, 1);
    search_row->addWidget(disagree);
    auto* filters = new QHBoxLayout;
    filters->addWidget(method_, 1);
    filters->addWidget(new QLabel("STS-L", this));
    filters->addWidget(sts_min_);
    filters->addWidget(new QLabel("–", this));
    filters->addWidget(sts_max_);
    filters->addWidget(sts_v_, 1);

    view_ = new QTableView(this);
    view_->setObjectName("pairTable");
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(-1, Qt::AscendingOrder);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view_->setAlternatingRowColors(true);
    view_->setWordWrap(false);
    view_->verticalHeader()->hide();
    view_->verticalHeader()->setDefaultSectionSize(22);
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    view_->horizontalHeader()->setStretchLastSection(false);
    view_->setColumnWidth(PairTableModel::kIndex, 56);
    view_->setColumnWidth(PairTableModel::kText1, 260);
    view_->setColumnWidth(PairTableModel::kText2, 260);

    correlations_ = new QLabel(this);
    correlations_->setObjectName("liveCorrelations");
    correlations_->setWordWrap(true);
    correlations_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    correlations_->setToolTip("Pearson r and Spearman ρ of each encoder's cosine with STS-L and STS-V over the "
                              "pairs shown (no bootstrap; the Table 2 panel has the CIs)");

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(search_row);
    layout->addLayout(filters);
    layout->addWidget(view_, 1);
    layout->addWidget(correlations_);

    filter_debounce_ = new QTimer(this);
    filter_debounce_->setSingleShot(true);
    filter_debounce_->setInterval(kFilterDebounceMs);
    connect(filter_debounce_, &QTimer::timeout, this, &PairExplorerPanel::applyFilterControls);
    // A zero timer fires after the posted events of this event-loop pass, the table's and the plot's
    // repaint among them: the worker starts once they are drawn instead of competing with them for
    // the CPU (two cores, shared with whatever else runs).
    background_start_ = new QTimer(this);
    background_start_->setSingleShot(true);
    background_start_->setInterval(0);
    connect(background_start_, &QTimer::timeout, this, [this] {
        if (live_generation_ != pairs_generation_ && !background_->isRunning()) startBackgroundCorrelations();
    });
    background_ = new QFutureWatcher<std::vector<FilterCorrelation>>(this);
    connect(background_, &QFutureWatcherBase::finished, this, &PairExplorerPanel::onBackgroundCorrelationsDone);

    // Each key restarts the wait; the filter runs once the typing pauses (or at once on Return).
    connect(search_, &QLineEdit::textChanged, filter_debounce_, qOverload<>(&QTimer::start));
    connect(search_, &QLineEdit::returnPressed, this, &PairExplorerPanel::applyFilterControls);
    connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this, &PairExplorerPanel::applyFilterControls);
    connect(sts_v_, qOverload<int>(&QComboBox::currentIndexChanged), this, &PairExplorerPanel::applyFilterControls);
    connect(sts_min_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &PairExplorerPanel::applyFilterControls);
    connect(sts_max_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &PairExplorerPanel::applyFilterControls);
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        refreshMethods();
        view_->setColumnWidth(PairTableModel::kText1, 260);
        view_->setColumnWidth(PairTableModel::kText2, 260);
        onFilteredPairsChanged();
    });
    // Only a change of the set: a re-sort (the proxy's layoutChanged) leaves the plots and the
    // correlations as they are.
    connect(proxy_, &PairFilterProxy::filterApplied, this, &PairExplorerPanel::onFilteredPairsChanged);
    connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { emit pairSelectionChanged(selectedPairs()); });
    refreshMethods();
    recomputeCorrelationsNow();
}

void PairExplorerPanel::refreshMethods() {
    const QString current = method_->currentData().toString();
    QSignalBlocker block(method_);
    method_->clear();
    method_->addItem("all sampling methods", QString());
    for (const QString& m : model_->samplingMethods()) method_->addItem(m, m);
    const int i = method_->findData(current);
    method_->setCurrentIndex(i >= 0 ? i : 0);
}

PairFilterProxy::Filter PairExplorerPanel::currentFilter() const {
    PairFilterProxy::Filter f;
    f.text = search_->text();
    f.method = method_->currentData().toString();
    f.sts_l_min = sts_min_->value();
    f.sts_l_max = sts_max_->value();
    f.sts_v = sts_v_->currentData().toInt();
    return f;
}

void PairExplorerPanel::setFilter(const PairFilterProxy::Filter& filter) {
    {
        const QSignalBlocker b1(search_), b2(method_), b3(sts_min_), b4(sts_max_), b5(sts_v_);
        search_->setText(filter.text);
        int i = method_->findData(filter.method);
        if (i < 0 && !filter.method.isEmpty()) {  // data not loaded yet: keep the choice
            method_->addItem(filter.method, filter.method);
            i = method_->count() - 1;
        }
        method_->setCurrentIndex(std::max(0, i));
        sts_min_->setValue(filter.sts_l_min);
        sts_max_->setValue(filter.sts_l_max);
        sts_v_->setCurrentIndex(std::max(0, sts_v_->findData(filter.sts_v)));
    }
    applyFilterControls();
}

void PairExplorerPanel::applyFilterControls() {
    filter_debounce_->stop();
    proxy_->setFilter(currentFilter());
}

void PairExplorerPanel::onFilteredPairsChanged() {
    ++pairs_generation_;
    scheduleCorrelations();
    emit filteredPairsChanged();
}

void PairExplorerPanel::scheduleCorrelations() {
    // Small filters: at once, on this thread (a few milliseconds). Big ones: on a worker thread, one
    // job at a time; a change made meanwhile is picked up when the running job finishes.
    if (proxy_->rowCount() <= kBackgroundCorrelationsAbove) recomputeCorrelationsNow();
    else if (!background_->isRunning()) background_start_->start();
}

void PairExplorerPanel::startBackgroundCorrelations() {
    const auto pairs = proxy_->filteredPairs();
    job_generation_ = pairs_generation_;
    job_n_ = pairs.size();
    // The job works on a copy of the columns, so a model reset while it runs cannot pull data from under it.
    background_->setFuture(QtConcurrent::run(
        [input = correlation_input(*model_, pairs)] { return filter_correlations(input); }));
}

void PairExplorerPanel::onBackgroundCorrelationsDone() {
    if (job_generation_ == pairs_generation_ && live_generation_ != pairs_generation_) {
        live_generation_ = job_generation_;
        showCorrelations(background_->result(), job_n_);
    }
    if (live_generation_ != pairs_generation_ && proxy_->rowCount() > kBackgroundCorrelationsAbove)
        startBackgroundCorrelations();
}

void PairExplorerPanel::recomputeCorrelationsNow() {
    const auto pairs = proxy_->filteredPairs();
    live_generation_ = pairs_generation_;
    showCorrelations(filter_correlations(*model_, pairs), pairs.size());
}

void PairExplorerPanel::showCorrelations(std::vector<FilterCorrelation> correlations, size_t n) {
    live_ = std::move(correlations);
    live_n_ = n;
    // The table of numbers never needs wrapping, and a word-wrapped rich-text label is laid out several
    // times per update (height for width): ~25 ms against ~5 ms at six encoders. The one-line messages wrap.
    correlations_->setWordWrap(live_.empty());
    correlations_->setText(liveCorrelationHtml());
    emit correlationsUpdated();
}

QString PairExplorerPanel::liveCorrelationText() const {
    if (!model_->hasData()) return "No data loaded.";
    if (live_.empty()) return QString("%1 pairs shown · run STS (F5) to add one score column per selected encoder")
                                  .arg(live_n_);
    return "Live correlations — " + describe_correlations(live_, live_n_);
}

QString PairExplorerPanel::liveCorrelationHtml() const {
    if (live_.empty()) return liveCorrelationText().toHtmlEscaped();
    auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'f', 3) : QStringLiteral("n/a"); };
    QString html = QString("<table cellspacing='0' cellpadding='1'><tr><td><b>Live, n = %1</b>&nbsp;&nbsp;</td>"
                           "<td align='right'>STS-L ρ&nbsp;</td><td align='right'>STS-L r&nbsp;</td>"
                           "<td align='right'>STS-V ρ&nbsp;</td><td align='right'>STS-V r</td></tr>").arg(live_n_);
    for (const auto& c : live_) {
        html += QString("<tr><td>%1</td><td align='right'>%2&nbsp;</td><td align='right'>%3&nbsp;</td>"
                        "<td align='right'>%4&nbsp;</td><td align='right'>%5</td></tr>")
                    .arg(c.encoder.toHtmlEscaped(), num(c.sts_l_spearman), num(c.sts_l_pearson), num(c.sts_v_spearman),
                         num(c.sts_v_pearson));
    }
    return html + "</table>";
}

bool PairExplorerPanel::orderByDisagreement() {
    const int col = model_->disagreementColumn();
    if (col < 0) return false;
    view_->sortByColumn(col, Qt::DescendingOrder);
    return true;
}

void PairExplorerPanel::selectPairs(const std::vector<int>& pairs) {
    QItemSelection selection;
    QModelIndex first;
    for (int p : pairs) {
        const QModelIndex src = model_->index(p, 0);
        const QModelIndex idx = proxy_->mapFromSource(src);
        if (!idx.isValid()) continue;
        if (!first.isValid()) first = idx;
        selection.select(idx, proxy_->index(idx.row(), proxy_->columnCount() - 1));
    }
    view_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (first.isValid()) {
        view_->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        view_->scrollTo(first, QAbstractItemView::PositionAtCenter);
    }
}

std::vector<int> PairExplorerPanel::selectedPairs() const {
    std::vector<int> out;
    for (const QModelIndex& idx : view_->selectionModel()->selectedRows())
        out.push_back(proxy_->mapToSource(idx).row());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace syn::ui
