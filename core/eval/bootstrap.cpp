#include "core/eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/io/errors.h"

namespace syn::eval {

namespace {

// Full 64x64 -> 128-bit product as (high, low): with a 128-bit integer where the compiler has one,
// else with 32-bit halves; exact either way, hence the same result everywhere.
inline void multiply_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& high, std::uint64_t& low) {
#if defined(__SIZEOF_INT128__)
    const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
    high = static_cast<std::uint64_t>(product >> 64);
    low = static_cast<std::uint64_t>(product);
#else
    const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    const std::uint64_t lo_lo = a_lo * b_lo;
    const std::uint64_t hi_lo = a_hi * b_lo;
    const std::uint64_t lo_hi = a_lo * b_hi;
    const std::uint64_t hi_hi = a_hi * b_hi;
    const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    high = hi_hi + (hi_lo >> 32) + (cross >> 32);
    low = (cross << 32) | (lo_lo & 0xffffffffu);
#endif
}

// Lemire's method, bound >= 1.
inline std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
    std::uint64_t high, low;
    multiply_64x64(rng(), bound, high, low);
    if (low < bound) {
        const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
        while (low < threshold) multiply_64x64(rng(), bound, high, low);
    }
    return high;
}

}  // namespace

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
    if (bound == 0) throw Error("uniform_below: empty range");
    return draw_below(rng, bound);
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
    for (std::size_t i = 0; i < n; ++i) ++counts[draw_below(rng, n)];
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

// --- The replicate engine ----------------------------------------------------------------------------
//
// What a replicate computes is defined by pearson_weighted() above: Pearson of the pairs weighted by
// their draw counts, on the values (Pearson) or on the mid-ranks within the resample (Spearman),
// two-pass, with four partial sums per quantity. The engine computes exactly that, but shares work:
//
// * every column is prepared once per replicate, however many specs use it: for Pearson its mean,
//   whether it varies over the drawn pairs and its sum of squares (the same partial sums, in the
//   same order, as pearson_weighted); for Spearman its ranks in O(n) from one global sort;
// * a spec then costs one pass for its cross sum. Identical specs, and Spearman specs that differ
//   only in the order of x and y (the same number, see below), are computed once.
//
// Spearman is exact. In a resample of W = n draws, a mid-rank is a multiple of 1/2, their weighted
// mean is exactly (W+1)/2, and every centred product w (r_x - m)(r_y - m) is a multiple of 1/4 below
// W^3/4; for W^3 < 2^53 every partial sum in pearson_weighted is therefore exact, whatever its order.
// So are the integer sums used here on E = 2r - (W+1) (an integer, |E| < W): sum w E_x E_y = 4 sum
// w (r_x - m)(r_y - m). Both give the same three sums, hence the same correlation to the last bit.
// Above kExactRankLimit pairs the ranks are materialised and pearson_weighted is called as before.
constexpr std::size_t kExactRankLimit = 200000;  // 200000^3 < 2^53

constexpr std::size_t kBlock = 256;  // elements per block of the cross-sum sweep (a multiple of 4)

// A column's sort order and its runs of equal values.
struct RankIndex {
    std::vector<std::uint32_t> order;   // indices sorted by value (stable); used when all values differ
    std::vector<std::uint32_t> run_of;  // pair -> index of its run of equal values (in value order)
    std::size_t runs = 0;
    bool all_distinct = false;

    explicit RankIndex(const std::vector<double>& values) {
        order.resize(values.size());
        std::iota(order.begin(), order.end(), std::uint32_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return values[a] < values[b]; });
        run_of.resize(values.size());
        for (std::size_t k = 0; k < order.size(); ++k) {
            if (k > 0 && values[order[k]] != values[order[k - 1]]) ++runs;
            run_of[order[k]] = static_cast<std::uint32_t>(runs);
        }
        if (!order.empty()) ++runs;
        all_distinct = runs == order.size();
        if (all_distinct) run_of = {};
        else order = {};
    }

    // E[i] = 2 r_i - (W+1) for the mid-rank r_i of pair i's draws within the resample (undrawn pairs
    // get the value of their run, which is multiplied by a zero weight), and returns sum_i c_i E_i^2.
    // A run of equal values drawn D times in all after B earlier draws spans ranks B+1..B+D, so its
    // mid-rank is B + (D+1)/2 and E = 2B + D - W. drawn, run_e: scratch tables.
    template <typename Count>
    std::int64_t centred_ranks(const Count* counts, std::int64_t total, double* E, std::vector<std::int64_t>& drawn,
                               std::vector<double>& run_e) const {
        std::int64_t before = 0, sum_squares = 0;
        if (all_distinct) {  // runs of one: walk the sort order
            for (const std::uint32_t i : order) {
                const std::int64_t c = counts[i];
                const std::int64_t e = 2 * before + c - total;
                E[i] = static_cast<double>(e);
                sum_squares += c * e * e;
                before += c;
            }
            return sum_squares;
        }
        // Draws per run, then each run's E, then E per pair: sequential passes over the pairs and
        // random access only to the run table (small when there are many ties).
        const std::size_t n = run_of.size();
        drawn.assign(runs, 0);
        run_e.resize(runs);
        for (std::size_t i = 0; i < n; ++i) drawn[run_of[i]] += counts[i];
        for (std::size_t r = 0; r < runs; ++r) {
            const std::int64_t e = 2 * before + drawn[r] - total;
            run_e[r] = static_cast<double>(e);
            sum_squares += drawn[r] * e * e;
            before += drawn[r];
        }
        for (std::size_t i = 0; i < n; ++i) E[i] = run_e[run_of[i]];
        return sum_squares;
    }
};

// The distinct computations behind a list of specs.
struct EnginePlan {
    std::size_t n = 0;
    std::vector<const std::vector<double>*> raw;  // columns used by Pearson specs
    std::vector<bool> raw_constant;               // raw column holds one value only
    std::vector<const std::vector<double>*> ranked_columns;
    std::vector<RankIndex> ranked;                // columns used by Spearman specs
    struct Task {
        bool spearman = false;
        std::size_t x = 0, y = 0;  // slots in `raw` or `ranked`
    };
    std::vector<Task> pearson_tasks, spearman_tasks;
    std::vector<std::size_t> spec_task;  // spec -> task; Spearman tasks are numbered after Pearson's

    explicit EnginePlan(const std::vector<CorrelationSpec>& specs) {
        n = specs.front().x->size();
        std::map<const std::vector<double>*, std::size_t> raw_slot, ranked_slot;
        auto slot = [](std::map<const std::vector<double>*, std::size_t>& slots,
                       std::vector<const std::vector<double>*>& list, const std::vector<double>* column) {
            auto [it, inserted] = slots.emplace(column, list.size());
            if (inserted) list.push_back(column);
            return it->second;
        };
        std::map<std::pair<std::size_t, std::size_t>, std::size_t> pearson_index, spearman_index;
        std::vector<std::pair<bool, std::size_t>> spec_ref;
        for (const auto& s : specs) {
            if (s.kind == CorrelationKind::kPearson) {
                const auto key = std::make_pair(slot(raw_slot, raw, s.x), slot(raw_slot, raw, s.y));
                auto [it, inserted] = pearson_index.emplace(key, pearson_tasks.size());
                if (inserted) pearson_tasks.push_back({false, key.first, key.second});
                spec_ref.emplace_back(false, it->second);
            } else {
                std::size_t a = slot(ranked_slot, ranked_columns, s.x), b = slot(ranked_slot, ranked_columns, s.y);
                if (a > b) std::swap(a, b);  // exact, hence symmetric
                auto [it, inserted] = spearman_index.emplace(std::make_pair(a, b), spearman_tasks.size());
                if (inserted) spearman_tasks.push_back({true, a, b});
                spec_ref.emplace_back(true, it->second);
            }
        }
        for (const auto& [is_spearman, task] : spec_ref) spec_task.push_back(is_spearman ? pearson_tasks.size() + task : task);
        for (const auto* column : raw)
            raw_constant.push_back(std::adjacent_find(column->begin(), column->end(), std::not_equal_to<double>()) ==
                                   column->end());
        ranked.reserve(ranked_columns.size());
        for (const auto* column : ranked_columns) ranked.emplace_back(*column);
    }
};

inline double sum4(const double* v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// The kernels below keep four partial sums, lane k for the pairs i = k mod 4 (and the last n mod 4
// pairs added to lane 0 afterwards), exactly as pearson_weighted does. With GCC / Clang the four
// lanes are one vector of four doubles; element-wise IEEE operations, so each lane computes what the
// scalar partial sum computes, bit for bit.
#if defined(__GNUC__)
// Lanes (0, 1) and (2, 3) as two vectors of two doubles (SSE2 on x86-64, NEON on arm64).
typedef double Vec2 __attribute__((vector_size(16)));
inline Vec2 load2(const double* p) {
    Vec2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store2(double* p, Vec2 v) { std::memcpy(p, &v, sizeof v); }

// sum[k] += w x over the lanes.
void kernel_weighted_sum(const double* x, const double* w, std::size_t n4, double* sum) {
    Vec2 lo = load2(sum), hi = load2(sum + 2);
    for (std::size_t i = 0; i < n4; i += 4) {
        lo += load2(w + i) * load2(x + i);
        hi += load2(w + i + 2) * load2(x + i + 2);
    }
    store2(sum, lo);
    store2(sum + 2, hi);
}

// d = x - m, wd = w d, ss += wd d over len (a multiple of 4) pairs.
void kernel_centre(const double* x, const double* w, double m, std::size_t len, double* d, double* wd, double* ss) {
    Vec2 lo = load2(ss), hi = load2(ss + 2);
    const Vec2 mean = {m, m};
    for (std::size_t j = 0; j < len; j += 4) {
        const Vec2 d0 = load2(x + j) - mean, d1 = load2(x + j + 2) - mean;
        const Vec2 wd0 = load2(w + j) * d0, wd1 = load2(w + j + 2) * d1;
        lo += wd0 * d0;
        hi += wd1 * d1;
        store2(d + j, d0);
        store2(d + j + 2, d1);
        store2(wd + j, wd0);
        store2(wd + j + 2, wd1);
    }
    store2(ss, lo);
    store2(ss + 2, hi);
}

// acc += a b over len pairs.
void kernel_dot(const double* a, const double* b, std::size_t len, double* acc) {
    Vec2 lo = load2(acc), hi = load2(acc + 2);
    for (std::size_t j = 0; j < len; j += 4) {
        lo += load2(a + j) * load2(b + j);
        hi += load2(a + j + 2) * load2(b + j + 2);
    }
    store2(acc, lo);
    store2(acc + 2, hi);
}

// acc += w a b over len pairs.
void kernel_dot3(const double* w, const double* a, const double* b, std::size_t len, double* acc) {
    Vec2 lo = load2(acc), hi = load2(acc + 2);
    for (std::size_t j = 0; j < len; j += 4) {
        lo += load2(w + j) * load2(a + j) * load2(b + j);
        hi += load2(w + j + 2) * load2(a + j + 2) * load2(b + j + 2);
    }
    store2(acc, lo);
    store2(acc + 2, hi);
}
#else
void kernel_weighted_sum(const double* x, const double* w, std::size_t n4, double* sum) {
    for (std::size_t i = 0; i < n4; i += 4)
        for (int k = 0; k < 4; ++k) sum[k] += w[i + k] * x[i + k];
}
void kernel_centre(const double* x, const double* w, double m, std::size_t len, double* d, double* wd, double* ss) {
    for (std::size_t j = 0; j < len; j += 4)
        for (int k = 0; k < 4; ++k) {
            d[j + k] = x[j + k] - m;
            wd[j + k] = w[j + k] * d[j + k];
            ss[k] += wd[j + k] * d[j + k];
        }
}
void kernel_dot(const double* a, const double* b, std::size_t len, double* acc) {
    for (std::size_t j = 0; j < len; j += 4)
        for (int k = 0; k < 4; ++k) acc[k] += a[j + k] * b[j + k];
}
void kernel_dot3(const double* w, const double* a, const double* b, std::size_t len, double* acc) {
    for (std::size_t j = 0; j < len; j += 4)
        for (int k = 0; k < 4; ++k) acc[k] += w[j + k] * a[j + k] * b[j + k];
}
#endif

// One worker's buffers and the computation of one replicate.
class EngineWorker {
public:
    explicit EngineWorker(const EnginePlan& plan)
        : plan_(plan),
          n_(plan.n),
          w_(plan.n),
          ranks_(plan.ranked.size() * plan.n),
          rank_ss_(plan.ranked.size()),
          mean_(plan.raw.size()),
          varies_(plan.raw.size()),
          centred_(plan.raw.size() * kBlock),
          weighted_(plan.raw.size() * kBlock),
          raw_ss_(plan.raw.size() * 4),
          cross_(plan.pearson_tasks.size() * 4),
          rank_cross_(plan.spearman_tasks.size() * 4),
          task_value_(plan.pearson_tasks.size() + plan.spearman_tasks.size()) {}

    void operator()(const std::uint32_t* counts, double* out) {
        const std::size_t n = n_;
        if (n == 0) {  // nothing drawn: undefined, as in pearson_weighted
            for (std::size_t s = 0; s < plan_.spec_task.size(); ++s) out[s] = std::numeric_limits<double>::quiet_NaN();
            return;
        }
        // Counts as doubles (the weights), and as bytes when they fit, which keeps the rank passes'
        // random reads in the L1 cache.
        std::uint32_t largest = 0;
        for (std::size_t i = 0; i < n; ++i) {
            w_[i] = counts[i];
            largest = std::max(largest, counts[i]);
        }
        const std::int64_t total = static_cast<std::int64_t>(n);
        if (largest <= 0xff && !plan_.ranked.empty()) {
            small_counts_.resize(n);
            for (std::size_t i = 0; i < n; ++i) small_counts_[i] = static_cast<std::uint8_t>(counts[i]);
            for (std::size_t c = 0; c < plan_.ranked.size(); ++c)
                rank_ss_[c] = plan_.ranked[c].centred_ranks(small_counts_.data(), total, ranks_.data() + c * n, run_drawn_, run_e_);
        } else {
            for (std::size_t c = 0; c < plan_.ranked.size(); ++c)
                rank_ss_[c] = plan_.ranked[c].centred_ranks(counts, total, ranks_.data() + c * n, run_drawn_, run_e_);
        }
        prepare_raw_columns();

        std::fill(raw_ss_.begin(), raw_ss_.end(), 0.0);
        std::fill(cross_.begin(), cross_.end(), 0.0);
        std::fill(rank_cross_.begin(), rank_cross_.end(), 0.0);
        const std::size_t n4 = n - n % 4;
        for (std::size_t start = 0; start < n4; start += kBlock) sweep(start, std::min(start + kBlock, n4));
        tail(n4);

        const std::size_t pearson_count = plan_.pearson_tasks.size();
        for (std::size_t t = 0; t < pearson_count; ++t) {
            const auto& task = plan_.pearson_tasks[t];
            if (!varies_[task.x] || !varies_[task.y]) {
                task_value_[t] = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            const double vxx = sum4(&raw_ss_[4 * task.x]), vyy = sum4(&raw_ss_[4 * task.y]);
            const double vxy = sum4(&cross_[4 * t]);
            task_value_[t] = std::clamp(vxy / std::sqrt(vxx * vyy), -1.0, 1.0);
        }
        for (std::size_t t = 0; t < plan_.spearman_tasks.size(); ++t) {
            const auto& task = plan_.spearman_tasks[t];
            double& value = task_value_[pearson_count + t];
            if (rank_ss_[task.x] == 0 || rank_ss_[task.y] == 0) {  // one run of values drawn: constant ranks
                value = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            // Exact integers (see above); a quarter of each is pearson_weighted's sum on the mid-ranks.
            const double vxx = 0.25 * static_cast<double>(rank_ss_[task.x]);
            const double vyy = 0.25 * static_cast<double>(rank_ss_[task.y]);
            const double vxy = 0.25 * sum4(&rank_cross_[4 * t]);
            value = std::clamp(vxy / std::sqrt(vxx * vyy), -1.0, 1.0);
        }
        for (std::size_t s = 0; s < plan_.spec_task.size(); ++s) out[s] = task_value_[plan_.spec_task[s]];
    }

private:
    // Mean and "varies over the drawn pairs" of each raw column, as in pearson_weighted (the total
    // weight is exactly n).
    void prepare_raw_columns() {
        const std::size_t n = n_;
        const double* w = w_.data();
        std::size_t first = 0;
        while (first < n && w[first] == 0) ++first;
        const std::size_t n4 = n - n % 4;
        for (std::size_t c = 0; c < plan_.raw.size(); ++c) {
            const double* x = plan_.raw[c]->data();
            // Varies: some drawn value differs from the first drawn one (found after a few pairs
            // unless the column is nearly constant).
            bool varies = false;
            if (!plan_.raw_constant[c])
                for (std::size_t i = first + 1; i < n && !varies; ++i) varies = w[i] != 0 && x[i] != x[first];
            varies_[c] = varies;
            if (!varies) {  // every correlation with it is NaN; the mean is not used
                mean_[c] = 0;
                continue;
            }
            double sx[4] = {0, 0, 0, 0};
            kernel_weighted_sum(x, w, n4, sx);
            for (std::size_t i = n4; i < n; ++i) sx[0] += w[i] * x[i];
            mean_[c] = sum4(sx) / static_cast<double>(n);
        }
    }

    // Pairs [begin, end) of the main part (end <= n - n mod 4, both multiples of 4).
    void sweep(std::size_t begin, std::size_t end) {
        const std::size_t len = end - begin;
        const double* w = w_.data() + begin;
        for (std::size_t c = 0; c < plan_.raw.size(); ++c)
            kernel_centre(plan_.raw[c]->data() + begin, w, mean_[c], len, centred_.data() + c * kBlock,
                          weighted_.data() + c * kBlock, &raw_ss_[4 * c]);
        for (std::size_t t = 0; t < plan_.pearson_tasks.size(); ++t) {
            const auto& task = plan_.pearson_tasks[t];
            kernel_dot(weighted_.data() + task.x * kBlock, centred_.data() + task.y * kBlock, len, &cross_[4 * t]);
        }
        for (std::size_t t = 0; t < plan_.spearman_tasks.size(); ++t) {
            const auto& task = plan_.spearman_tasks[t];
            kernel_dot3(w, ranks_.data() + task.x * n_ + begin, ranks_.data() + task.y * n_ + begin, len,
                        &rank_cross_[4 * t]);
        }
    }

    // The last n mod 4 pairs, added to partial sum 0 as pearson_weighted does.
    void tail(std::size_t n4) {
        const double* w = w_.data();
        for (std::size_t i = n4; i < n_; ++i) {
            for (std::size_t c = 0; c < plan_.raw.size(); ++c) {
                const double d = (*plan_.raw[c])[i] - mean_[c];
                centred_[c * kBlock] = d;
                weighted_[c * kBlock] = w[i] * d;
                raw_ss_[4 * c] += weighted_[c * kBlock] * d;
            }
            for (std::size_t t = 0; t < plan_.pearson_tasks.size(); ++t) {
                const auto& task = plan_.pearson_tasks[t];
                cross_[4 * t] += weighted_[task.x * kBlock] * centred_[task.y * kBlock];
            }
            for (std::size_t t = 0; t < plan_.spearman_tasks.size(); ++t) {
                const auto& task = plan_.spearman_tasks[t];
                rank_cross_[4 * t] += w[i] * ranks_[task.x * n_ + i] * ranks_[task.y * n_ + i];
            }
        }
    }

    const EnginePlan& plan_;
    std::size_t n_;
    std::vector<double> w_;
    std::vector<std::uint8_t> small_counts_;
    std::vector<std::int64_t> run_drawn_;  // per run of a ranked column: draws, and E
    std::vector<double> run_e_;
    std::vector<double> ranks_;           // ranked column c at [c*n, (c+1)*n): E = 2 r - (W+1)
    std::vector<std::int64_t> rank_ss_;   // sum c_i E_i^2 per ranked column
    std::vector<double> mean_;
    std::vector<bool> varies_;
    std::vector<double> centred_, weighted_;  // per raw column, one block: x - mean, w (x - mean)
    std::vector<double> raw_ss_, cross_, rank_cross_;  // 4 partial sums each
    std::vector<double> task_value_;
};

// The straightforward path for very large n: materialised mid-ranks and pearson_weighted per spec.
std::vector<double> replicates_materialised(const std::vector<CorrelationSpec>& specs, std::size_t n,
                                            const BootstrapOptions& options) {
    std::map<const std::vector<double>*, std::size_t> ranked_slot;
    std::vector<ResampleRanker> rankers;
    for (const auto& s : specs)
        if (s.kind == CorrelationKind::kSpearman)
            for (const auto* column : {s.x, s.y})
                if (ranked_slot.emplace(column, rankers.size()).second) rankers.emplace_back(*column);
    const std::size_t k = specs.size();
    auto make_worker = [&]() -> ReplicateFunction {
        auto rank_buffers = std::make_shared<std::vector<std::vector<double>>>(rankers.size(), std::vector<double>(n));
        auto weights = std::make_shared<std::vector<double>>(n);
        return [&, rank_buffers, weights, k](const std::uint32_t* counts, double* out) {
            for (std::size_t i = 0; i < n; ++i) (*weights)[i] = counts[i];
            for (std::size_t r = 0; r < rankers.size(); ++r) rankers[r].ranks(counts, (*rank_buffers)[r].data());
            for (std::size_t s = 0; s < k; ++s) {
                const bool rank = specs[s].kind == CorrelationKind::kSpearman;
                auto data = [&](const std::vector<double>* column) {
                    return rank ? (*rank_buffers)[ranked_slot.at(column)].data() : column->data();
                };
                out[s] = pearson_weighted(data(specs[s].x), data(specs[s].y), weights->data(), n);
            }
        };
    };
    return run_bootstrap(n, k, options, make_worker);
}

}  // namespace

std::vector<double> bootstrap_correlation_replicates(const std::vector<CorrelationSpec>& specs,
                                                     const BootstrapOptions& options) {
    const std::size_t n = check_specs(specs);
    if (n > kExactRankLimit) return replicates_materialised(specs, n, options);
    const EnginePlan plan(specs);
    auto make_worker = [&plan]() -> ReplicateFunction {
        auto worker = std::make_shared<EngineWorker>(plan);
        return [worker](const std::uint32_t* counts, double* out) { (*worker)(counts, out); };
    };
    return run_bootstrap(n, specs.size(), options, make_worker);
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
