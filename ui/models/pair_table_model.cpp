#include "ui/models/pair_table_model.h"

#include <QColor>
#include <QFont>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/eval/correlation.h"
#include "core/run/sts_job.h"
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

void PairTableModel::setScores(std::shared_ptr<const syn::data::StsDataset> dataset,
                               std::vector<EncoderScores> encoders) {
    beginResetModel();
    dataset_ = std::move(dataset);
    result_.reset();
    encoders_.clear();
    const size_t n = dataset_ ? dataset_->pairs.size() : 0;
    for (auto& e : encoders) {
        // A score vector of the wrong length belongs to other data: refuse it rather than misalign.
        if (e.scores.size() == n) encoders_.push_back(std::move(e));
    }
    computeDisagreement();
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
        case kText1: return QString::fromStdString(p.text1);
        case kText2: return QString::fromStdString(p.text2);
        case kStsL: return p.sts_l;
        case kStsV: return p.sts_v;
        case kMethod: return QString::fromStdString(p.sampling_method);
        default: break;
        }
        if (col == disagreementColumn()) return std::abs(disagreement(row));
        return encoder(col - kFirstScore).scores[static_cast<size_t>(row)];
    }
    if (role == Qt::DisplayRole) {
        switch (col) {
        case kIndex: return row + 1;
        case kText1: return QString::fromStdString(p.text1);
        case kText2: return QString::fromStdString(p.text2);
        case kStsL: return QString::number(p.sts_l, 'f', 2);
        case kStsV: return p.sts_v > 0.5 ? QStringLiteral("same image") : QStringLiteral("different");
        case kMethod: return QString::fromStdString(p.sampling_method);
        default: break;
        }
        if (col == disagreementColumn()) return QString::number(disagreement(row), 'f', 3);
        return QString::number(encoder(col - kFirstScore).scores[static_cast<size_t>(row)], 'f', 4);
    }
    if (role == Qt::ToolTipRole && (col == kText1 || col == kText2)) {
        return QString("%1\n%2\n(CSV line %3)").arg(QString::fromStdString(p.text1), QString::fromStdString(p.text2))
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

// --- proxy -------------------------------------------------------------------------------------------

PairFilterProxy::PairFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(PairTableModel::SortRole);
    setDynamicSortFilter(false);  // re-sorting 44k rows on every data change would stall the GUI
}

void PairFilterProxy::setFilter(const Filter& filter) {
    if (filter == filter_) return;
    filter_ = filter;
    invalidateFilter();
    emit filterApplied();
}

bool PairFilterProxy::filterAcceptsRow(int source_row, const QModelIndex&) const {
    const auto* model = qobject_cast<const PairTableModel*>(sourceModel());
    if (!model || !model->hasData()) return true;
    const auto& p = model->pair(source_row);
    if (filter_.sts_v >= 0 && (p.sts_v > 0.5) != (filter_.sts_v == 1)) return false;
    if (p.sts_l < filter_.sts_l_min - 1e-9 || p.sts_l > filter_.sts_l_max + 1e-9) return false;
    if (!filter_.method.isEmpty() && filter_.method.toStdString() != p.sampling_method) return false;
    if (!filter_.text.isEmpty()) {
        const QString t1 = QString::fromStdString(p.text1), t2 = QString::fromStdString(p.text2);
        if (!t1.contains(filter_.text, Qt::CaseInsensitive) && !t2.contains(filter_.text, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

std::vector<int> PairFilterProxy::filteredPairs() const {
    std::vector<int> rows;
    const int n = rowCount();
    rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) rows.push_back(mapToSource(index(r, 0)).row());
    return rows;
}

// --- live correlations -------------------------------------------------------------------------------

std::vector<FilterCorrelation> filter_correlations(const PairTableModel& model, const std::vector<int>& pairs) {
    std::vector<FilterCorrelation> out;
    std::vector<double> sts_l, sts_v;
    sts_l.reserve(pairs.size());
    sts_v.reserve(pairs.size());
    for (int row : pairs) {
        sts_l.push_back(model.pair(row).sts_l);
        sts_v.push_back(model.pair(row).sts_v);
    }
    for (int e = 0; e < model.encoderCount(); ++e) {
        std::vector<double> s;
        s.reserve(pairs.size());
        for (int row : pairs) s.push_back(model.encoder(e).scores[static_cast<size_t>(row)]);
        FilterCorrelation c{model.encoder(e).label, 0, 0, 0, 0, {}};
        QStringList reasons;
        auto take = [&](const syn::eval::Correlation& r, const char* what) {
            if (!r.defined()) reasons << QString("%1: %2").arg(what, QString::fromStdString(r.undefined_reason));
            return r.value;
        };
        try {
            c.sts_l_pearson = take(syn::eval::pearson(s, sts_l), "STS-L r");
            c.sts_l_spearman = take(syn::eval::spearman(s, sts_l), "STS-L ρ");
            c.sts_v_pearson = take(syn::eval::pearson(s, sts_v), "STS-V r");
            c.sts_v_spearman = take(syn::eval::spearman(s, sts_v), "STS-V ρ");
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
