#pragma once
// The caption pairs of the loaded CxC data as a table (one row per pair), with one score column per
// encoder of the last STS result and a "disagreement" column, plus the proxy that filters and sorts
// them (text search, sampling method, STS-L range, STS-V). The explorer, the scatter plot and the
// live correlations all read rows through these two models, so they always agree on the filter.
// Sorting is a total order (ties by pair index), so the view, and any export of it, is one
// well-defined sequence for a given filter and sort column, whatever came before.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>

#include <memory>
#include <vector>

#include "core/data/sts_dataset.h"

namespace syn::run {
struct StsResult;
}

namespace syn::ui {

// One encoder's scores over the pairs (the GUI's view of syn::run::EncoderRun).
struct EncoderScores {
    QString label;  // column header
    QString style;  // "bert", "clip", "lexical", "other"
    std::vector<double> scores;  // one per pair
};

class PairTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kIndex = 0, kText1, kText2, kStsL, kStsV, kMethod, kFirstScore };
    enum Role { SortRole = Qt::UserRole + 1, PairIndexRole };

    explicit PairTableModel(QObject* parent = nullptr);

    // Pairs without scores (data just loaded). Clears the score columns.
    void setDataset(std::shared_ptr<const syn::data::StsDataset> dataset);
    // Pairs and scores of an STS result (its dataset is the one the scores belong to).
    void setResult(std::shared_ptr<const syn::run::StsResult> result);
    // Pairs and hand-made scores (tests, merged runs). Each scores vector must have one value per pair.
    void setScores(std::shared_ptr<const syn::data::StsDataset> dataset, std::vector<EncoderScores> encoders);

    // Without hasIndex()'s two virtual calls: the proxy asks for two indexes per comparison when it sorts.
    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    bool hasData() const { return dataset_ && !dataset_->pairs.empty(); }
    const syn::data::StsDataset* dataset() const { return dataset_.get(); }
    std::shared_ptr<const syn::run::StsResult> result() const { return result_; }
    const syn::data::StsPair& pair(int row) const { return dataset_->pairs[static_cast<size_t>(row)]; }
    int pairCount() const { return dataset_ ? static_cast<int>(dataset_->pairs.size()) : 0; }

    int encoderCount() const { return static_cast<int>(encoders_.size()); }
    const EncoderScores& encoder(int e) const { return encoders_[static_cast<size_t>(e)]; }
    int scoreColumn(int encoder) const { return kFirstScore + encoder; }
    // The disagreement column (-1 when fewer than two encoders).
    int disagreementColumn() const { return hasDisagreement() ? kFirstScore + encoderCount() : -1; }
    bool hasDisagreement() const { return !disagreement_.empty(); }
    // rank-normalised score of encoder A minus that of encoder B (A: CLIP-style, B: BERT-style when
    // both exist, else the first two encoders); |value| orders the pairs by disagreement.
    double disagreement(int row) const { return disagreement_[static_cast<size_t>(row)]; }
    // "CLIP ViT-B/32 vs BERT-base" (the two encoders compared), "" when none.
    QString disagreementDescription() const { return disagreement_label_; }
    // Sampling methods present in the data, sorted.
    QStringList samplingMethods() const;

    // Each row's position when all rows are ordered by `column` ascending: numbers as numbers with NaN
    // after every number, text by QString::compare (case-sensitive), the disagreement column by
    // magnitude, ties by pair index. Computed once per column and data set (the proxy compares ranks).
    const std::vector<int>& sortRanks(int column) const;
    // Whether either caption contains `folded_text` (already QString::toCaseFolded()): the filter's
    // case-insensitive search on captions folded once when the data is set.
    bool captionContains(int row, const QString& folded_text) const;

private:
    void computeDisagreement();
    int compareRows(int column, int a, int b) const;

    std::shared_ptr<const syn::data::StsDataset> dataset_;
    std::shared_ptr<const syn::run::StsResult> result_;
    std::vector<EncoderScores> encoders_;
    std::vector<double> disagreement_;
    QString disagreement_label_;
    std::vector<QString> text1_, text2_, method_;      // the pairs' strings as shown
    std::vector<QString> folded1_, folded2_;           // the captions case-folded, for the search
    mutable std::vector<std::vector<int>> sort_ranks_;  // per column, empty until first sorted by it
};

// Filters rows of a PairTableModel and sorts them by PairTableModel::sortRanks (numbers sort as
// numbers; the disagreement column sorts by magnitude; ties by pair index; descending is the exact
// reverse of ascending). A filter change rebuilds the rows in sorted order: the view never shows the
// rows kept from the previous filter sorted and the newly accepted ones appended after them.
class PairFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit PairFilterProxy(QObject* parent = nullptr);

    struct Filter {
        QString text;           // case-insensitive substring of either caption; "" = any
        QString method;         // sampling method; "" = any
        double sts_l_min = 0.0, sts_l_max = 5.0;
        int sts_v = -1;         // -1 any, 0 different images, 1 same image
        bool operator==(const Filter& o) const {
            return text == o.text && method == o.method && sts_l_min == o.sts_l_min &&
                   sts_l_max == o.sts_l_max && sts_v == o.sts_v;
        }
    };
    void setFilter(const Filter& filter);
    const Filter& filter() const { return filter_; }
    void setSourceModel(QAbstractItemModel* source) override;

    // Source rows (pair indices) that pass the filter, in the proxy's current order.
    std::vector<int> filteredPairs() const;

signals:
    // Once per filter change, after the rows have been rebuilt (and sorted).
    void filterApplied();

protected:
    bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    const PairTableModel* pair_model_ = nullptr;  // the source, when it is a PairTableModel
    // The source's sort ranks for the column being sorted by, looked up once per sort rather than per
    // comparison; forgotten when the source resets.
    mutable const std::vector<int>* ranks_ = nullptr;
    mutable int ranks_column_ = -1;
    Filter filter_;
    // The filter as the per-row test wants it: text case-folded, method as in the data.
    QString folded_text_;
    std::string method_;
};

// Live correlations of each encoder's scores with STS-L and STS-V over a set of pairs (the current
// filter), computed with core/eval exactly as the STS job does, without bootstrap.
struct FilterCorrelation {
    QString encoder;
    double sts_l_pearson, sts_l_spearman, sts_v_pearson, sts_v_spearman;  // NaN when undefined
    QString undefined_reason;  // why some are NaN (constant column, fewer than 2 pairs)
};
std::vector<FilterCorrelation> filter_correlations(const PairTableModel& model, const std::vector<int>& pairs);
// The same in two steps, so that the computation can run on another thread: copy the columns of the
// given pairs out of the model (cheap, GUI thread), then correlate the copy (any thread).
struct CorrelationInput {
    std::vector<double> sts_l, sts_v;
    std::vector<QString> encoders;
    std::vector<std::vector<double>> scores;  // per encoder, one per pair
};
CorrelationInput correlation_input(const PairTableModel& model, const std::vector<int>& pairs);
std::vector<FilterCorrelation> filter_correlations(const CorrelationInput& input);
// "n = 120 · jaccard: STS-L ρ 0.512 r 0.498, STS-V ρ 0.301 r 0.290 · ..." for the status line.
QString describe_correlations(const std::vector<FilterCorrelation>& correlations, size_t n);

}  // namespace syn::ui
