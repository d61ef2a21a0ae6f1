#pragma once
// The two plot docks: the score-vs-STS-L scatter of one encoder (linked both ways with the pair
// table's selection) and the Table 2 bars with bootstrap CIs.
#include <QWidget>

#include <memory>
#include <vector>

#include "ui/plots/plot_builders.h"

class QEvent;

class QCustomPlot;
class QCPGraph;
class QComboBox;
class QLabel;

namespace syn::run {
struct StsResult;
}

namespace syn::ui {

class PairTableModel;
class PairFilterProxy;

class ScatterPanel : public QWidget {
    Q_OBJECT
public:
    ScatterPanel(PairTableModel* model, PairFilterProxy* proxy, QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    QComboBox* encoderBox() const { return encoder_; }
    QString currentEncoder() const;
    void setCurrentEncoder(const QString& label);
    void setStyle(const PlotStyle& style);
    // Pairs drawn (the filtered ones with finite scores) and the highlighted selection.
    const std::vector<int>& plottedPairs() const { return rows_; }
    const std::vector<int>& highlightedPairs() const { return highlighted_; }
    // The pair drawn nearest to a widget position (within `radius_px`), -1 when none.
    int pairAt(const QPoint& pos, double radius_px = 8) const;
    // The figure an export writes: the scatter as shown, without the selection rings, its title
    // naming the subset when the table's filter hides pairs. False when there is nothing to plot.
    bool buildExportFigure(QCustomPlot* figure) const;
    // "n of N pairs (filtered)" while a filter hides pairs, else empty.
    QString filterNote() const;

public slots:
    void rebuild();
    void highlight(const std::vector<int>& pairs);

signals:
    void pairClicked(int pair, bool add_to_selection);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refreshEncoders();
    bool buildInto(QCustomPlot* plot, const QString& title) const;
    void drawHighlight();
    PairTableModel* model_;
    PairFilterProxy* proxy_;
    QCustomPlot* plot_;
    QComboBox* encoder_;
    QLabel* hint_;
    PlotStyle style_;
    std::vector<int> rows_;
    std::vector<int> highlighted_;
    QCPGraph* highlight_graph_ = nullptr;
    QString wanted_encoder_;
};

class Table2Panel : public QWidget {
    Q_OBJECT
public:
    explicit Table2Panel(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    void setResult(std::shared_ptr<const syn::run::StsResult> result);
    void setStyle(const PlotStyle& style);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void rebuild();
    QCustomPlot* plot_;
    QLabel* note_;
    std::shared_ptr<const syn::run::StsResult> result_;
    PlotStyle style_;
};

}  // namespace syn::ui
