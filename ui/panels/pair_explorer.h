#pragma once
// The caption-pair explorer: filter controls, the sortable pair table and the live correlations of
// the current filter (recomputed after a short debounce when the filter holds many pairs).
#include <QWidget>

#include <vector>

#include "ui/models/pair_table_model.h"

class QTableView;
class QLineEdit;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QTimer;

namespace syn::ui {

class PairExplorerPanel : public QWidget {
    Q_OBJECT
public:
    explicit PairExplorerPanel(QWidget* parent = nullptr);

    PairTableModel* model() const { return model_; }
    PairFilterProxy* proxy() const { return proxy_; }
    QTableView* view() const { return view_; }

    // Filter controls <-> proxy filter.
    void setFilter(const PairFilterProxy::Filter& filter);
    PairFilterProxy::Filter currentFilter() const;
    // Sorts by the disagreement column, largest first (no-op without two encoders).
    bool orderByDisagreement();
    // Selects (and scrolls to) pairs given as source rows; rows hidden by the filter are skipped.
    void selectPairs(const std::vector<int>& pairs);
    std::vector<int> selectedPairs() const;

    // The last live correlations and the text shown for them.
    const std::vector<FilterCorrelation>& liveCorrelations() const { return live_; }
    QString liveCorrelationText() const;
    QString liveCorrelationHtml() const;
    // Computes the live correlations now (tests; the GUI goes through the debounce).
    void recomputeCorrelationsNow();
    // Pairs above which recomputation is debounced.
    static constexpr int kDebounceAbove = 5000;
    static constexpr int kDebounceMs = 150;

signals:
    void pairSelectionChanged(const std::vector<int>& pairs);
    void filteredPairsChanged();
    void correlationsUpdated();

private:
    void onFilterControlsChanged();
    void scheduleCorrelations();
    void refreshMethods();

    PairTableModel* model_;
    PairFilterProxy* proxy_;
    QTableView* view_;
    QLineEdit* search_;
    QComboBox* method_;
    QDoubleSpinBox* sts_min_;
    QDoubleSpinBox* sts_max_;
    QComboBox* sts_v_;
    QLabel* correlations_;
    QTimer* debounce_;
    std::vector<FilterCorrelation> live_;
    size_t live_n_ = 0;
};

}  // namespace syn::ui
