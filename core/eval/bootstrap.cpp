#include "core/eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/io/errors.h"

namespace syn::eval {

namespace {

// Full 64x64 -> 128-bit product as (high, low), written with 32-bit halves so that it needs no
// compiler extension; exact, hence the same result everywhere.
inline void multiply_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& high, std::uint64_t& low) {
    const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo;
    const std::uint64_t hi_lo = a_hi * b_lo;
    const std::uint64_t lo_hi = a_lo * b_hi;
    const std::uint64_t hi_hi = a_hi * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    high = hi_hi + (hi_lo >> 32) + (cross >> 32);
    low = (cross << 32) | (lo_lo & 0xffffffffu);
}

}  // namespace

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
    if (bound == 0) throw Error("uniform_below: empty range");
    std::uint64_t high, low;
    multiply_64x64(rng(), bound, high, low);
    if (low < bound) {
        const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
        while (low < threshold) multiply_64x64(rng(), bound, high, low);
    }
    return high;
}

std::mt19937_64 replicate_rng(std::uint64_t seed, std::uint64_t replicate) {
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(replicate), static_cast<std::uint32_t>(replicate >> 32)};
    return std::mt19937_64(seq);
}

void resample_counts(std::size_t n, std::uint64_t seed, std::uint64_t replicate, std::vector<std::uint32_t>& counts) {
    counts.assign(n, 0);
    if (n == 0) return;
    std::mt19937_64 rng = replicate_rng(seed, replicate);
    for (std::size_t i = 0; i < n; ++i) ++counts[uniform_below(rng, n)];
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double h = q * static_cast<double>(sorted.size() - 1);
    const std::size_t lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

BootstrapInterval percentile_interval(double estimate, std::vector<double> values, double level) {
    if (!(level > 0.0 && level < 1.0)) throw Error("bootstrap: confidence level must lie in (0, 1)");
    BootstrapInterval ci;
    ci.estimate = estimate;
    ci.level = level;
    ci.replicates = values.size();
    const auto defined_end = std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); });
    ci.undefined_replicates = static_cast<std::size_t>(values.end() - defined_end);
    values.erase(defined_end, values.end());
    if (std::isnan(estimate)) {
        ci.note = "the statistic is undefined on the full sample";
        return ci;
    }
    if (values.size() < 2) {
        ci.note = "fewer than 2 replicates with a defined statistic";
        return ci;
    }
    std::sort(values.begin(), values.end());
    ci.lower = quantile_sorted(values, (1.0 - level) / 2.0);
    ci.upper = quantile_sorted(values, (1.0 + level) / 2.0);
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    ci.standard_error = std::sqrt(ss / static_cast<double>(values.size() - 1));
    if (ci.undefined_replicates > 0)
        ci.note = std::to_string(ci.undefined_replicates) + " of " + std::to_string(ci.replicates) +
                  " replicates had an undefined statistic and were left out";
    return ci;
}

ResampleRanker::ResampleRanker(const std::vector<double>& values) {
    if (values.size() > std::numeric_limits<std::uint32_t>::max()) throw Error("ResampleRanker: too many values");
    order_.resize(values.size());
    std::iota(order_.begin(), order_.end(), std::uint32_t{0});
    std::stable_sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) { return values[a] < values[b]; });
    for (std::size_t k = 0; k < order_.size(); ++k)
        if (k == 0 || values[order_[k]] != values[order_[k - 1]]) group_start_.push_back(static_cast<std::uint32_t>(k));
    group_start_.push_back(static_cast<std::uint32_t>(order_.size()));
}

void ResampleRanker::ranks(const std::uint32_t* counts, double* out) const {
    // Walk the runs of equal values in sorted order: a run drawn W times in all, after C earlier
    // draws, occupies ranks C+1..C+W, so each of its draws gets the mean C + (W+1)/2.
    double before = 0.0;
    for (std::size_t g = 0; g + 1 < group_start_.size(); ++g) {
        const std::uint32_t begin = group_start_[g], end = group_start_[g + 1];
        std::uint64_t drawn = 0;
        for (std::uint32_t k = begin; k < end; ++k) drawn += counts[order_[k]];
        const double rank = before + 0.5 * (static_cast<double>(drawn) + 1.0);
        for (std::uint32_t k = begin; k < end; ++k) out[order_[k]] = rank;
        before += static_cast<double>(drawn);
    }
}

namespace {

// Pearson of the pairs weighted by w (resample counts as doubles; 0 = not drawn). Branch-free with
// four partial sums per quantity, so the loops pipeline well; the summation order is fixed, so the
// result is the same on every run and thread count.
double pearson_weighted(const double* x, const double* y, const double* w, std::size_t n) {
    // Constant over the drawn pairs is tested exactly, against the first drawn value (see pearson()).
    std::size_t first = 0;
    while (first < n && w[first] == 0) ++first;
    if (first == n) return std::numeric_limits<double>::quiet_NaN();
    const double x0 = x[first], y0 = y[first];
    double t[4] = {0, 0, 0, 0}, sx[4] = {0, 0, 0, 0}, sy[4] = {0, 0, 0, 0};
    unsigned x_varies = 0, y_varies = 0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; ++k) {
            const double wk = w[i + k];
            t[k] += wk;
            sx[k] += wk * x[i + k];
            sy[k] += wk * y[i + k];
            x_varies |= static_cast<unsigned>(wk != 0) & static_cast<unsigned>(x[i + k] != x0);
            y_varies |= static_cast<unsigned>(wk != 0) & static_cast<unsigned>(y[i + k] != y0);
        }
    for (; i < n; ++i) {
        t[0] += w[i];
        sx[0] += w[i] * x[i];
        sy[0] += w[i] * y[i];
        x_varies |= static_cast<unsigned>(w[i] != 0) & static_cast<unsigned>(x[i] != x0);
        y_varies |= static_cast<unsigned>(w[i] != 0) & static_cast<unsigned>(y[i] != y0);
    }
    if (!x_varies || !y_varies) return std::numeric_limits<double>::quiet_NaN();
    const double total = (t[0] + t[1]) + (t[2] + t[3]);
    const double mx = ((sx[0] + sx[1]) + (sx[2] + sx[3])) / total;
    const double my = ((sy[0] + sy[1]) + (sy[2] + sy[3])) / total;
    double sxx[4] = {0, 0, 0, 0}, syy[4] = {0, 0, 0, 0}, sxy[4] = {0, 0, 0, 0};
    for (i = 0; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; ++k) {
            const double dx = x[i + k] - mx, dy = y[i + k] - my, wk = w[i + k];
            sxx[k] += wk * dx * dx;
            syy[k] += wk * dy * dy;
            sxy[k] += wk * dx * dy;
        }
    for (; i < n; ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxx[0] += w[i] * dx * dx;
        syy[0] += w[i] * dy * dy;
        sxy[0] += w[i] * dx * dy;
    }
    const double vxx = (sxx[0] + sxx[1]) + (sxx[2] + sxx[3]);
    const double vyy = (syy[0] + syy[1]) + (syy[2] + syy[3]);
    const double vxy = (sxy[0] + sxy[1]) + (sxy[2] + sxy[3]);
    return std::clamp(vxy / std::sqrt(vxx * vyy), -1.0, 1.0);
}

}  // namespace

double weighted_pearson(const double* x, const double* y, const std::uint32_t* counts, std::size_t n) {
    const std::vector<double> w(counts, counts + n);
    return pearson_weighted(x, y, w.data(), n);
}

unsigned resolve_threads(unsigned requested) {
    if (requested > 0) return requested;
    const unsigned hw = std::thread::hardware_concurrency();
    return std::max(1u, std::min(hw == 0 ? 1u : hw, 8u));
}

std::vector<double> run_bootstrap(std::size_t n, std::size_t k, const BootstrapOptions& options,
                                  const std::function<ReplicateFunction()>& make_worker) {
    if (options.replicates == 0) throw Error("bootstrap: the number of replicates must be at least 1");
    if (n > std::numeric_limits<std::uint32_t>::max()) throw Error("bootstrap: too many pairs");
    std::vector<double> results(options.replicates * k, std::numeric_limits<double>::quiet_NaN());
    const unsigned threads =
        static_cast<unsigned>(std::min<std::size_t>(resolve_threads(options.threads), options.replicates));

    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&](unsigned t) {
        try {
            ReplicateFunction fn = make_worker();
            std::vector<std::uint32_t> counts;
            // Static striding: which thread runs a replicate does not change its result, since each
            // replicate has its own generator.
            for (std::size_t r = t; r < options.replicates; r += threads) {
                resample_counts(n, options.seed, r, counts);
                fn(counts.data(), results.data() + r * k);
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (!failure) failure = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    if (failure) std::rethrow_exception(failure);
    return results;
}

namespace {

// Columns used by the specs, each listed once, and whether it needs ranks per replicate.
struct ColumnPlan {
    std::vector<const std::vector<double>*> columns;
    std::vector<bool> ranked;
    std::vector<ResampleRanker> rankers;          // one per ranked column (index via ranker_of)
    std::vector<int> ranker_of;                   // column -> ranker index or -1
    std::vector<std::pair<int, int>> spec_columns;

    explicit ColumnPlan(const std::vector<CorrelationSpec>& specs) {
        std::map<const std::vector<double>*, int> index;
        auto add = [&](const std::vector<double>* column, bool rank) {
            auto [it, inserted] = index.emplace(column, static_cast<int>(columns.size()));
            if (inserted) {
                columns.push_back(column);
                ranked.push_back(rank);
            } else if (rank) {
                ranked[it->second] = true;
            }
            return it->second;
        };
        for (const auto& s : specs) {
            const bool rank = s.kind == CorrelationKind::kSpearman;
            spec_columns.emplace_back(add(s.x, rank), add(s.y, rank));
        }
        ranker_of.assign(columns.size(), -1);
        for (std::size_t c = 0; c < columns.size(); ++c)
            if (ranked[c]) {
                ranker_of[c] = static_cast<int>(rankers.size());
                rankers.emplace_back(*columns[c]);
            }
    }
};

std::size_t check_specs(const std::vector<CorrelationSpec>& specs) {
    if (specs.empty()) throw Error("bootstrap: no correlation requested");
    for (const auto& s : specs)
        if (!s.x || !s.y) throw Error("bootstrap: a correlation spec has no data");
    const std::size_t n = specs.front().x->size();
    for (const auto& s : specs) {
        if (s.x->size() != n || s.y->size() != n)
            throw Error("bootstrap: the correlations requested together must be over the same pairs (lengths " +
                        std::to_string(s.x->size()) + ", " + std::to_string(s.y->size()) + " vs " +
                        std::to_string(n) + ")");
        check_paired_inputs(*s.x, *s.y, "bootstrap");
    }
    return n;
}

}  // namespace

std::vector<double> bootstrap_correlation_replicates(const std::vector<CorrelationSpec>& specs,
                                                     const BootstrapOptions& options) {
    const std::size_t n = check_specs(specs);
    const ColumnPlan plan(specs);
    const std::size_t k = specs.size();
    auto make_worker = [&]() -> ReplicateFunction {
        // Per-thread rank buffers, reused across that thread's replicates.
        auto rank_buffers = std::make_shared<std::vector<std::vector<double>>>(plan.rankers.size(),
                                                                                std::vector<double>(n));
        auto weights = std::make_shared<std::vector<double>>(n);
        return [&, rank_buffers, weights, k](const std::uint32_t* counts, double* out) {
            for (std::size_t i = 0; i < n; ++i) (*weights)[i] = counts[i];
            for (std::size_t r = 0; r < plan.rankers.size(); ++r) plan.rankers[r].ranks(counts, (*rank_buffers)[r].data());
            for (std::size_t s = 0; s < k; ++s) {
                const bool rank = specs[s].kind == CorrelationKind::kSpearman;
                auto data = [&](int column) {
                    return rank ? (*rank_buffers)[plan.ranker_of[column]].data() : plan.columns[column]->data();
                };
                out[s] = pearson_weighted(data(plan.spec_columns[s].first), data(plan.spec_columns[s].second),
                                          weights->data(), n);
            }
        };
    };
    return run_bootstrap(n, k, options, make_worker);
}

std::vector<CorrelationEstimate> bootstrap_correlations(const std::vector<CorrelationSpec>& specs,
                                                        const BootstrapOptions& options) {
    const std::vector<double> replicates = bootstrap_correlation_replicates(specs, options);
    const std::size_t k = specs.size();
    std::vector<CorrelationEstimate> out(k);
    for (std::size_t s = 0; s < k; ++s) {
        out[s].point = correlation(specs[s].kind, *specs[s].x, *specs[s].y);
        std::vector<double> values(options.replicates);
        for (std::size_t r = 0; r < options.replicates; ++r) values[r] = replicates[r * k + s];
        out[s].ci = percentile_interval(out[s].point.value, std::move(values), options.level);
        if (!out[s].point.defined()) out[s].ci.note = "undefined on the full sample: " + out[s].point.undefined_reason;
    }
    return out;
}

CorrelationEstimate bootstrap_correlation(const std::vector<double>& x, const std::vector<double>& y,
                                          CorrelationKind kind, const BootstrapOptions& options) {
    return bootstrap_correlations({CorrelationSpec{&x, &y, kind}}, options).front();
}

}  // namespace syn::eval
