#include "ui/panels/jobs_panel.h"

#include <QEvent>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

#include "ui/compute/compute_worker.h"

namespace syn::ui {

namespace {
enum Col { kTitle = 0, kState, kStage, kProgress, kEta, kCancel };
}

QString JobsPanel::formatEta(double seconds, qint64 done, qint64 total) {
    // Before the first unit of work there is no rate to extrapolate: the 0 the engine reports
    // then means "unknown", not "nearly done".
    if (total <= 0 || done <= 0) return QStringLiteral("—");
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("—");
    const long long s = std::llround(seconds);
    if (s < 60) return QString("%1 s").arg(s);
    if (s < 3600) return QString("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QString("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

JobsPanel::JobsPanel(ComputeWorker* worker, QWidget* parent) : QWidget(parent), worker_(worker) {
    tree_ = new QTreeWidget(this);
    tree_->setObjectName("jobsTree");
    tree_->setRootIsDecorated(false);
    tree_->setColumnCount(6);
    tree_->setHeaderLabels({"Job", "State", "Stage", "Progress", "ETA", ""});
    sizeColumns();
    tree_->setToolTip("Jobs of the compute thread, in order; a job can be cancelled while queued or running");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(tree_);

    connect(worker_, &ComputeWorker::jobQueued, this, [this](int id, const QString& title) {
        setState(id, "queued", Qt::gray);
        item(id)->setText(kTitle, title);
        item(id)->setToolTip(kTitle, title);
    });
    connect(worker_, &ComputeWorker::jobStarted, this,
            [this](int id, const QString&) { setState(id, "running", QColor(0x2f, 0x6f, 0xb5)); });
    connect(worker_, &ComputeWorker::jobProgress, this,
            [this](int id, const QString& stage, qint64 done, qint64 total, double eta) {
                QTreeWidgetItem* it = item(id);
                it->setText(kStage, stage);
                it->setToolTip(kStage, stage);
                QProgressBar* bar = bars_[id];
                if (total > 0) {
                    bar->setRange(0, 1000);
                    bar->setValue(static_cast<int>(1000.0 * static_cast<double>(done) / static_cast<double>(total)));
                    bar->setFormat(QString("%1 / %2").arg(done).arg(total));
                } else {
                    bar->setRange(0, 0);  // busy indicator
                }
                it->setText(kEta, formatEta(eta, done, total));
            });
    auto finish = [this](int id, const QString& state, const QColor& colour) {
        setState(id, state, colour);
        if (auto bar = bars_.find(id); bar != bars_.end()) markBarFinished(bar->second, state, colour);
        item(id)->setText(kEta, "");
        tree_->setItemWidget(item(id), kCancel, nullptr);
    };
    connect(worker_, &ComputeWorker::jobFinished, this,
            [finish](int id) { finish(id, "done", QColor(0x2e, 0x9d, 0x4f)); });
    connect(worker_, &ComputeWorker::jobCancelled, this, [finish](int id, bool superseded) {
        finish(id, superseded ? "superseded" : "cancelled", QColor(0xb0, 0x7a, 0x10));
    });
    connect(worker_, &ComputeWorker::jobFailed, this, [this, finish](int id, const QString& message) {
        finish(id, "failed", QColor(0xc8, 0x30, 0x30));
        item(id)->setText(kStage, message.section('\n', 0, 0));
        item(id)->setToolTip(kStage, message);
    });
}

void JobsPanel::sizeColumns() {
    // From the font, so that the longest ETA ("59 min 59 s") and state ("cancelled") fit in
    // presentation mode's larger font too; the stage, the one free-length text, takes what is left.
    const QFontMetrics fm(tree_->font());
    const int pad = 3 * fm.averageCharWidth();
    QHeaderView* header = tree_->header();
    header->setStretchLastSection(false);
    header->setMinimumSectionSize(fm.horizontalAdvance("Stage") + pad);
    header->setSectionResizeMode(kStage, QHeaderView::Stretch);
    tree_->setColumnWidth(kTitle, fm.horizontalAdvance("STS: 8 encoders on 44045 pairs") * 2 / 3 + pad);
    tree_->setColumnWidth(kState, fm.horizontalAdvance("cancelled") + pad);
    tree_->setColumnWidth(kProgress, fm.horizontalAdvance("88888 / 88888") + pad);
    tree_->setColumnWidth(kEta, fm.horizontalAdvance("59 min 59 s") + pad);
    const QPushButton probe(QIcon(":/icons/cancel.svg"), "Cancel");
    tree_->setColumnWidth(kCancel, probe.sizeHint().width() + fm.averageCharWidth());
}

void JobsPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::FontChange) sizeColumns();
}

void JobsPanel::markBarFinished(QProgressBar* bar, const QString& state, const QColor& colour) {
    // A finished job's bar is full and says "done"; a cancelled or failed one keeps the point it
    // reached, says so, and is drawn in the state's colour, so it never looks finished.
    const bool busy = bar->maximum() == 0;
    bar->setRange(0, 1000);
    if (state == "done") {
        bar->setValue(1000);
        bar->setFormat("done");
    } else {
        if (busy) bar->setValue(0);
        const int percent = bar->value() / 10;
        bar->setFormat(busy ? state : QString("%1 at %2%").arg(state).arg(percent));
        QPalette p = bar->palette();
        p.setColor(QPalette::Highlight, colour);
        bar->setPalette(p);
    }
    bar->setProperty("jobState", state);
}

QTreeWidgetItem* JobsPanel::item(int id) {
    auto it = items_.find(id);
    if (it != items_.end()) return it->second;
    auto* row = new QTreeWidgetItem(tree_, {QString("job %1").arg(id)});
    tree_->scrollToItem(row);
    items_[id] = row;
    auto* bar = new QProgressBar(tree_);
    bar->setRange(0, 1000);
    bar->setValue(0);
    bar->setTextVisible(true);
    bar->setFormat("");
    tree_->setItemWidget(row, kProgress, bar);
    bars_[id] = bar;
    auto* cancel = new QPushButton(QIcon(":/icons/cancel.svg"), "Cancel", tree_);
    cancel->setToolTip("Cancel this job (the running batch finishes first)");
    connect(cancel, &QPushButton::clicked, this, [this, id] { worker_->cancel(id); });
    tree_->setItemWidget(row, kCancel, cancel);
    return row;
}

void JobsPanel::setState(int id, const QString& state, const QColor& colour) {
    QTreeWidgetItem* it = item(id);
    it->setText(kState, state);
    it->setForeground(kState, colour);
}

}  // namespace syn::ui
