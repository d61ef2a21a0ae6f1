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
    static QString formatEta(double seconds);

private:
    QTreeWidgetItem* item(int id);
    void setState(int id, const QString& state, const QColor& colour);
    ComputeWorker* worker_;
    QTreeWidget* tree_;
    std::map<int, QTreeWidgetItem*> items_;
    std::map<int, QProgressBar*> bars_;
};

}  // namespace syn::ui
