#include "ui/panels/jobs_panel.h"

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

QString JobsPanel::formatEta(double seconds) {
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
    tree_->setColumnWidth(kTitle, 170);
    tree_->setColumnWidth(kState, 70);
    tree_->setColumnWidth(kStage, 150);
    tree_->setColumnWidth(kProgress, 130);
    tree_->setColumnWidth(kEta, 60);
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
                it->setText(kEta, formatEta(eta));
            });
    auto finish = [this](int id, const QString& state, const QColor& colour) {
        setState(id, state, colour);
        if (auto bar = bars_.find(id); bar != bars_.end() && state == "done") {
            bar->second->setRange(0, 1000);
            bar->second->setValue(1000);
        }
        item(id)->setText(kEta, "");
        tree_->setItemWidget(item(id), kCancel, nullptr);
    };
    connect(worker_, &ComputeWorker::jobFinished, this,
            [finish](int id, std::shared_ptr<const void>) { finish(id, "done", QColor(0x2e, 0x9d, 0x4f)); });
    connect(worker_, &ComputeWorker::jobCancelled, this,
            [finish](int id) { finish(id, "cancelled", QColor(0xb0, 0x7a, 0x10)); });
    connect(worker_, &ComputeWorker::jobFailed, this, [this, finish](int id, const QString& message) {
        finish(id, "failed", QColor(0xc8, 0x30, 0x30));
        item(id)->setText(kStage, message.section('\n', 0, 0));
        item(id)->setToolTip(kStage, message);
    });
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
