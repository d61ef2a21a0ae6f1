#include "ui/models/pair_table_model.h"

#include <QColor>
#include <QFont>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/eval/correlation.h"
#include "core/run/jobs/sts_job.h"
#include "ui/plots/plot_builders.h"

namespace syn::ui {

PairTableModel::PairTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void PairTableModel::setDataset(std::shared_ptr<const syn::data::StsDataset> dataset) {
    setScores(std::move(dataset), {});
}

void PairTableModel::setResult(std::shared_ptr<const syn::run::StsResult> result) {
    std::vector<EncoderScores> encoders;
    if (result) {
        for (const auto& run : result->encoders)
            encoders.push_back({encoder_display_label(run), QString::fromStdString(run.style), run.scores});
    }
    // The dataset lives inside the result; share the result's lifetime (aliasing constructor).
    std::shared_ptr<const syn::data::StsDataset> dataset;
    if (result) dataset = std::shared_ptr<const syn::data::StsDataset>(result, &result->dataset);
    setScores(std::move(dataset), std::move(encoders));
    result_ = std::move(result);
}

namespace {
// Simple case folding, code point by code point: what QString's Qt::CaseInsensitive comparisons
// apply to both sides, so that a case-sensitive search in folded text finds exactly what a
// case-insensitive search in the original finds (QString::toCaseFolded() would also apply the
// special, length-changing foldings such as U+00DF -> "ss", which those comparisons do not).
QString simple_case_fold(const QString& text) {
    QString out = text;
    QChar* c = out.data();
    const qsizetype n = out.size();
    for (qsizetype i = 0; i < n; ++i) {
        if (c[i].isHighSurrogate() && i + 1 < n && c[i + 1].isLowSurrogate()) {
            const char32_t folded = QChar::toCaseFolded(QChar::surrogateToUcs4(c[i], c[i + 1]));
            c[i] = QChar(QChar::highSurrogate(folded));
            c[i + 1] = QChar(QChar::lowSurrogate(folded));
            ++i;
        } else {
            c[i] = QChar(static_cast<char16_t>(QChar::toCaseFolded(char32_t(c[i].unicode()))));
        }
    }
    return out;
}
}  // namespace

namespace {
bool same_pair_texts(const syn::data::StsDataset& a, const syn::data::StsDataset& b) {
    if (&a == &b) return true;
    if (a.pairs.size() != b.pairs.size()) return false;
    for (std::size_t i = 0; i < a.pairs.size(); ++i) {
        const auto& x = a.pairs[i];
        const auto& y = b.pairs[i];
        if (x.text1 != y.text1 || x.text2 != y.text2 || x.sampling_method != y.sampling_method) return false;
    }
    return true;
}
}  // namespace

void PairTableModel::setScores(std::shared_ptr<const syn::data::StsDataset> dataset,
                               std::vector<EncoderScores> encoders) {
    beginResetModel();
    // An STS result carries its own copy of the loaded pairs: when the texts are the same, the
    // strings converted for the loaded data are kept (the conversion and case folding of 88k
    // captions is most of what showing a result costs the GUI thread).
    const bool same_texts = dataset_ && dataset && same_pair_texts(*dataset_, *dataset);
    dataset_ = std::move(dataset);
    result_.reset();
    encoders_.clear();
    const size_t n = dataset_ ? dataset_->pairs.size() : 0;
    for (auto& e : encoders) {
        // A score vector of the wrong length belongs to other data: refuse it rather than misalign.
        if (e.scores.size() == n) encoders_.push_back(std::move(e));
    }
    computeDisagreement();
    if (same_texts) {
        sort_ranks_.clear();
        endResetModel();
        return;
    }
    // Converted once here rather than on every filter pass, sort comparison and paint.
    text1_.resize(n);
    text2_.resize(n);
    method_.resize(n);
    folded1_.resize(n);
    folded2_.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const auto& p = dataset_->pairs[i];
        text1_[i] = QString::fromStdString(p.text1);
        text2_[i] = QString::fromStdString(p.text2);
        method_[i] = QString::fromStdString(p.sampling_method);
        folded1_[i] = simple_case_fold(text1_[i]);
        folded2_[i] = simple_case_fold(text2_[i]);
    }
    sort_ranks_.clear();
    endResetModel();
}

namespace {
// Ranks scaled to (0, 1]: comparable across encoders whose cosine ranges differ (CLIP's cosines sit
// around 0.7-1, BERT pooler cosines around 0.9-1), which raw differences are not.
std::vector<double> rank_normalised(const std::vector<double>& scores) {
    std::vector<double> ranks = syn::eval::average_ranks(scores);
    const double n = static_cast<double>(scores.size());
    for (double& r : ranks) r /= n;
    return ranks;
}
}  // namespace

void PairTableModel::computeDisagreement() {
    disagreement_.clear();
    disagreement_label_.clear();
    if (encoders_.size() < 2) return;
    int a = -1, b = -1;
    for (int i = 0; i < encoderCount(); ++i) {
        if (a < 0 && encoders_[i].style == "clip") a = i;
        if (b < 0 && encoders_[i].style == "bert") b = i;
    }
    if (a < 0 || b < 0) {  // no CLIP/BERT pair: compare the first two encoders, and say so
        a = 0;
        b = 1;
    }
    for (double s : encoders_[a].scores)
        if (!std::isfinite(s)) return;
    for (double s : encoders_[b].scores)
        if (!std::isfinite(s)) return;
    const auto ra = rank_normalised(encoders_[a].scores);
    const auto rb = rank_normalised(encoders_[b].scores);
    disagreement_.resize(ra.size());
    for (size_t i = 0; i < ra.size(); ++i) disagreement_[i] = ra[i] - rb[i];
    disagreement_label_ = encoders_[a].label + " vs " + encoders_[b].label;
}

QModelIndex PairTableModel::index(int row, int column, const QModelIndex& parent) const {
    const int columns = kFirstScore + encoderCount() + (hasDisagreement() ? 1 : 0);
    if (parent.isValid() || row < 0 || column < 0 || row >= pairCount() || column >= columns) return {};
    return createIndex(row, column);
}

int PairTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : pairCount();
}

int PairTableModel::columnCount(const QModelIndex& parent) const {
    if (parent.isValid()) return 0;
    return kFirstScore + encoderCount() + (hasDisagreement() ? 1 : 0);
}

QVariant PairTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || !dataset_) return {};
    const int row = index.row(), col = index.column();
    const auto& p = pair(row);
    if (role == PairIndexRole) return row;
    if (role == SortRole) {
        switch (col) {
        case kIndex: return row;
        case kText1: return text1_[static_cast<size_t>(row)];
        case kText2: return text2_[static_cast<size_t>(row)];
        case kStsL: return p.sts_l;
        case kStsV: return p.sts_v;
        case kMethod: return method_[static_cast<size_t>(row)];
        default: break;
        }
        if (col == disagreementColumn()) return std::abs(disagreement(row));
        return encoder(col - kFirstScore).scores[static_cast<size_t>(row)];
    }
    if (role == Qt::DisplayRole) {
        switch (col) {
        case kIndex: return row + 1;
        case kText1: return text1_[static_cast<size_t>(row)];
        case kText2: return text2_[static_cast<size_t>(row)];
        case kStsL: return QString::number(p.sts_l, 'f', 2);
        case kStsV: return p.sts_v > 0.5 ? QStringLiteral("same image") : QStringLiteral("different");
        case kMethod: return method_[static_cast<size_t>(row)];
        default: break;
        }
        if (col == disagreementColumn()) return QString::number(disagreement(row), 'f', 3);
        return QString::number(encoder(col - kFirstScore).scores[static_cast<size_t>(row)], 'f', 4);
    }
    if (role == Qt::ToolTipRole && (col == kText1 || col == kText2)) {
        return QString("%1\n%2\n(CSV line %3)").arg(text1_[static_cast<size_t>(row)], text2_[static_cast<size_t>(row)])
            .arg(p.csv_line);
    }
    if (role == Qt::TextAlignmentRole && col != kText1 && col != kText2 && col != kMethod)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant PairTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case kIndex: return QStringLiteral("#");
        case kText1: return QStringLiteral("Caption 1");
        case kText2: return QStringLiteral("Caption 2");
        case kStsL: return QStringLiteral("STS-L");
        case kStsV: return QStringLiteral("STS-V");
        case kMethod: return QStringLiteral("Sampling");
        default: break;
        }
        if (section == disagreementColumn()) return QStringLiteral("Disagreement");
        if (section - kFirstScore < encoderCount()) return encoder(section - kFirstScore).label;
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case kStsL: return QStringLiteral("CxC human similarity rating, 0-5");
        case kStsV: return QStringLiteral("1 when both captions describe the same COCO image");
        case kMethod: return QStringLiteral("CxC sampling: c2c_cocaption (same image) or c2c_isim (different images)");
        default: break;
        }
        if (section == disagreementColumn())
            return QString("Rank-normalised score difference, %1; sort descending to see the pairs the two "
                           "encoders disagree on most").arg(disagreement_label_);
        if (section >= kFirstScore && section - kFirstScore < encoderCount())
            return QString("Cosine similarity under %1 (%2-style)").arg(encoder(section - kFirstScore).label,
                                                                        encoder(section - kFirstScore).style);
    }
    return {};
}

QStringList PairTableModel::samplingMethods() const {
    std::set<std::string> methods;
    if (dataset_)
        for (const auto& p : dataset_->pairs) methods.insert(p.sampling_method);
    QStringList out;
    for (const auto& m : methods) out << QString::fromStdString(m);
    return out;
}

int PairTableModel::compareRows(int column, int a, int b) const {
    auto numbers = [](double x, double y) {
        // NaN (a failed score) after every number, so that the order stays a strict weak order.
        const bool nx = std::isnan(x), ny = std::isnan(y);
        if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
        return x < y ? -1 : (x > y ? 1 : 0);
    };
    auto texts = [](const QString& x, const QString& y) {
        const int c = QString::compare(x, y, Qt::CaseSensitive);
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    };
    const size_t ia = static_cast<size_t>(a), ib = static_cast<size_t>(b);
    switch (column) {
    case kIndex: return numbers(a, b);
    case kText1: return texts(text1_[ia], text1_[ib]);
    case kText2: return texts(text2_[ia], text2_[ib]);
    case kStsL: return numbers(pair(a).sts_l, pair(b).sts_l);
    case kStsV: return numbers(pair(a).sts_v, pair(b).sts_v);
    case kMethod: return texts(method_[ia], method_[ib]);
    default: break;
    }
    if (column == disagreementColumn()) return numbers(std::abs(disagreement_[ia]), std::abs(disagreement_[ib]));
    const auto& scores = encoder(column - kFirstScore).scores;
    return numbers(scores[ia], scores[ib]);
}

const std::vector<int>& PairTableModel::sortRanks(int column) const {
    static const std::vector<int> none;
    if (column < 0 || column >= columnCount()) return none;
    if (sort_ranks_.size() != static_cast<size_t>(columnCount())) sort_ranks_.assign(static_cast<size_t>(columnCount()), {});
    auto& ranks = sort_ranks_[static_cast<size_t>(column)];
    if (!ranks.empty() || pairCount() == 0) return ranks;
    std::vector<int> order(static_cast<size_t>(pairCount()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const int c = compareRows(column, a, b);
        return c != 0 ? c < 0 : a < b;
    });
    ranks.resize(order.size());
    for (size_t pos = 0; pos < order.size(); ++pos) ranks[static_cast<size_t>(order[pos])] = static_cast<int>(pos);
    return ranks;
}

bool PairTableModel::captionContains(int row, const QString& folded_text) const {
    const size_t i = static_cast<size_t>(row);
    return folded1_[i].contains(folded_text, Qt::CaseSensitive) || folded2_[i].contains(folded_text, Qt::CaseSensitive);
}

// --- proxy -------------------------------------------------------------------------------------------

PairFilterProxy::PairFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(PairTableModel::SortRole);
    setDynamicSortFilter(false);  // re-sorting 44k rows on every data change would stall the GUI
}

void PairFilterProxy::setSourceModel(QAbstractItemModel* source) {
    if (sourceModel()) disconnect(sourceModel(), nullptr, this, nullptr);
    pair_model_ = qobject_cast<const PairTableModel*>(source);
    ranks_ = nullptr;
    QSortFilterProxyModel::setSourceModel(source);
    if (source)
        connect(source, &QAbstractItemModel::modelAboutToBeReset, this, [this] { ranks_ = nullptr; });
}

void PairFilterProxy::setFilter(const Filter& filter) {
    if (filter == filter_) return;
    filter_ = filter;
    folded_text_ = simple_case_fold(filter.text);
    method_ = filter.method.toStdString();
    // Not invalidateFilter(): without dynamic sorting it keeps the rows that stay in their old sorted
    // places and appends the newly accepted ones unsorted after them (the order restarts part-way
    // down). invalidate() rebuilds the rows from the source, filtered and then sorted by the current
    // column, in one layout change (selection and current row are kept where they stay visible).
    invalidate();
    emit filterApplied();
}

bool PairFilterProxy::filterAcceptsRow(int source_row, const QModelIndex&) const {
    const auto* model = pair_model_;
    if (!model || !model->hasData()) return true;
    const auto& p = model->pair(source_row);
    if (filter_.sts_v >= 0 && (p.sts_v > 0.5) != (filter_.sts_v == 1)) return false;
    if (p.sts_l < filter_.sts_l_min - 1e-9 || p.sts_l > filter_.sts_l_max + 1e-9) return false;
    if (!method_.empty() && method_ != p.sampling_method) return false;
    if (!folded_text_.isEmpty() && !model->captionContains(source_row, folded_text_)) return false;
    return true;
}

bool PairFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    if (!pair_model_ || left.column() != right.column()) return QSortFilterProxyModel::lessThan(left, right);
    if (!ranks_ || ranks_column_ != left.column()) {
        ranks_ = &pair_model_->sortRanks(left.column());
        ranks_column_ = left.column();
    }
    if (ranks_->empty()) return QSortFilterProxyModel::lessThan(left, right);
    return (*ranks_)[static_cast<size_t>(left.row())] < (*ranks_)[static_cast<size_t>(right.row())];
}

std::vector<int> PairFilterProxy::filteredPairs() const {
    std::vector<int> rows;
    const int n = rowCount();
    rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) rows.push_back(mapToSource(index(r, 0)).row());
    return rows;
}

// --- live correlations -------------------------------------------------------------------------------

CorrelationInput correlation_input(const PairTableModel& model, const std::vector<int>& pairs) {
    CorrelationInput in;
    in.sts_l.reserve(pairs.size());
    in.sts_v.reserve(pairs.size());
    for (int row : pairs) {
        in.sts_l.push_back(model.pair(row).sts_l);
        in.sts_v.push_back(model.pair(row).sts_v);
    }
    for (int e = 0; e < model.encoderCount(); ++e) {
        in.encoders.push_back(model.encoder(e).label);
        std::vector<double> s;
        s.reserve(pairs.size());
        for (int row : pairs) s.push_back(model.encoder(e).scores[static_cast<size_t>(row)]);
        in.scores.push_back(std::move(s));
    }
    return in;
}

std::vector<FilterCorrelation> filter_correlations(const PairTableModel& model, const std::vector<int>& pairs) {
    return filter_correlations(correlation_input(model, pairs));
}

std::vector<FilterCorrelation> filter_correlations(const CorrelationInput& input) {
    std::vector<FilterCorrelation> out;
    const auto& sts_l = input.sts_l;
    const auto& sts_v = input.sts_v;
    // syn::eval::spearman(x, y) is check_paired_inputs + pearson(average_ranks(x), average_ranks(y));
    // the same steps here, with each column ranked once instead of once per correlation (8 rankings
    // instead of 24 at six encoders), give the same numbers and the same errors.
    const std::vector<double> ranks_l = syn::eval::average_ranks(sts_l), ranks_v = syn::eval::average_ranks(sts_v);
    auto spearman = [](const std::vector<double>& s, const std::vector<double>& ranks_s, const std::vector<double>& y,
                       const std::vector<double>& ranks_y) {
        syn::eval::check_paired_inputs(s, y, "Spearman correlation");
        return syn::eval::pearson(ranks_s, ranks_y);
    };
    for (size_t e = 0; e < input.encoders.size(); ++e) {
        const auto& s = input.scores[e];
        FilterCorrelation c{input.encoders[e], 0, 0, 0, 0, {}};
        QStringList reasons;
        auto take = [&](const syn::eval::Correlation& r, const char* what) {
            if (!r.defined()) reasons << QString("%1: %2").arg(what, QString::fromStdString(r.undefined_reason));
            return r.value;
        };
        try {
            c.sts_l_pearson = take(syn::eval::pearson(s, sts_l), "STS-L r");
            const std::vector<double> ranks_s = syn::eval::average_ranks(s);
            c.sts_l_spearman = take(spearman(s, ranks_s, sts_l, ranks_l), "STS-L ρ");
            c.sts_v_pearson = take(syn::eval::pearson(s, sts_v), "STS-V r");
            c.sts_v_spearman = take(spearman(s, ranks_s, sts_v, ranks_v), "STS-V ρ");
        } catch (const std::exception& ex) {  // NaN scores: say so instead of showing a number
            const double nan = std::nan("");
            c.sts_l_pearson = c.sts_l_spearman = c.sts_v_pearson = c.sts_v_spearman = nan;
            reasons << QString::fromUtf8(ex.what());
        }
        reasons.removeDuplicates();
        c.undefined_reason = reasons.join("; ");
        out.push_back(c);
    }
    return out;
}

QString describe_correlations(const std::vector<FilterCorrelation>& correlations, size_t n) {
    auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'f', 3) : QStringLiteral("n/a"); };
    QStringList parts;
    parts << QString("n = %1").arg(n);
    for (const auto& c : correlations)
        parts << QString("%1: STS-L ρ %2 r %3 · STS-V ρ %4 r %5")
                     .arg(c.encoder, num(c.sts_l_spearman), num(c.sts_l_pearson), num(c.sts_v_spearman),
                          num(c.sts_v_pearson));
    return parts.join("   |   ");
}

}  // namespace syn::ui
