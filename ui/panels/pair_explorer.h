#pragma once
// The caption-pair explorer: filter controls, the sortable pair table and the live correlations of
// the current filter. Typing in the search field is applied once the input pauses; each applied
// change filters and sorts the table once and notifies the plots once (filteredPairsChanged); the
// correlations of big filters are computed on a worker thread, so the GUI thread stays free.
#include <QWidget>

#include <cstdint>

#include <vector>

#include "ui/models/pair_table_model.h"

class QTableView;
class QLineEdit;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QTimer;
template <typename T>
class QFutureWatcher;

namespace syn::ui {

class PairExplorerPanel : public QWidget {
    Q_OBJECT
public:
    explicit PairExplorerPanel(QWidget* parent = nullptr);

    PairTableModel* model() const { return model_; }
    PairFilterProxy* proxy() const { return proxy_; }
    QTableView* view() const { return view_; }

    // Filter controls <-> proxy filter. setFilter applies at once (no debounce).
    void setFilter(const PairFilterProxy::Filter& filter);
    PairFilterProxy::Filter currentFilter() const;
    // Applies the controls' filter now, including search text still waiting for its debounce.
    void applyFilterControls();
    // Sorts by the disagreement column, largest first (no-op without two encoders).
    bool orderByDisagreement();
    // Selects (and scrolls to) pairs given as source rows; rows hidden by the filter are skipped.
    void selectPairs(const std::vector<int>& pairs);
    std::vector<int> selectedPairs() const;

    // The last live correlations and the text shown for them.
    const std::vector<FilterCorrelation>& liveCorrelations() const { return live_; }
    QString liveCorrelationText() const;
    QString liveCorrelationHtml() const;
    // Computes the live correlations now, on this thread (tests; the GUI schedules them).
    void recomputeCorrelationsNow();
    // Search text is applied this long after the last key (or at once on Return): a fast typist's keys
    // come about 100 ms apart, and a word should be filtered once, not once per letter.
    static constexpr int kFilterDebounceMs = 150;
    // Live correlations over more pairs than this are computed on a worker thread: at 44k pairs and six
    // encoders, four correlations each (Spearman ranks every column) take tens of milliseconds.
    static constexpr int kBackgroundCorrelationsAbove = 5000;

signals:
    void pairSelectionChanged(const std::vector<int>& pairs);
    // The set of pairs shown changed (data loaded or filter applied); once per change, not on re-sorts.
    void filteredPairsChanged();
    void correlationsUpdated();

private:
    void onFilteredPairsChanged();
    void scheduleCorrelations();
    void startBackgroundCorrelations();
    void onBackgroundCorrelationsDone();
    void showCorrelations(std::vector<FilterCorrelation> correlations, size_t n);
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
    QTimer* filter_debounce_;
    QTimer* background_start_;
    QFutureWatcher<std::vector<FilterCorrelation>>* background_;
    // Which set of filtered pairs (counted per change) the shown correlations and the running
    // background job belong to: a job that finishes after a newer change is dropped and restarted.
    std::uint64_t pairs_generation_ = 0, live_generation_ = 0, job_generation_ = 0;
    size_t job_n_ = 0;
    std::vector<FilterCorrelation> live_;
    size_t live_n_ = 0;
};

}  // namespace syn::ui
