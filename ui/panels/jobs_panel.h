#pragma once
// The jobs panel: one row per queued / running / finished job of the ComputeWorker with its stage,
// a progress bar, the ETA and a Cancel button.
#include <QWidget>

#include <map>

class QTreeWidget;
class QTreeWidgetItem;
class QProgressBar;

namespace syn::ui {

class ComputeWorker;

class JobsPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobsPanel(ComputeWorker* worker, QWidget* parent = nullptr);
    QTreeWidget* tree() const { return tree_; }
    // "—" while nothing is done yet (no rate to extrapolate) or the stage has no total.
    static QString formatEta(double seconds, qint64 done, qint64 total);
    QProgressBar* progressBar(int id) const { auto it = bars_.find(id); return it == bars_.end() ? nullptr : it->second; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void sizeColumns();
    void markBarFinished(QProgressBar* bar, const QString& state, const QColor& colour);
    QTreeWidgetItem* item(int id);
    void setState(int id, const QString& state, const QColor& colour);
    ComputeWorker* worker_;
    QTreeWidget* tree_;
    std::map<int, QTreeWidgetItem*> items_;
    std::map<int, QProgressBar*> bars_;
};

}  // namespace syn::ui
