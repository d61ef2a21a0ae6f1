#pragma once
// Nonparametric bootstrap of correlations: pairs are resampled with replacement, every replicate
// recomputes the statistic, and the interval is the percentile interval of the replicates.
//
// Reproducibility: replicate r draws its indices from its own std::mt19937_64 seeded with
// std::seed_seq{seed, r} (both algorithms are fixed by the C++ standard), and indices are drawn with
// Lemire's multiply-and-reject method written out here (std::uniform_int_distribution differs between
// standard libraries). Hence the same seed gives the same interval on every platform, for any
// number of threads.
//
// Speed: a resample is kept as a count per original pair (sum = n). Ranks within a resample are
// computed in O(n) from one global sort per column (the draws per run of equal values, then a prefix
// sum over the runs in value order), so a Spearman replicate costs no sort. Specs requested together
// share their resamples, and within a replicate every column is ranked / centred once however many
// specs use it; each spec then costs one pass for its cross sum. Replicates run on a few std::threads.
// The values equal the plain definition (pearson_weighted on the values or on the resample's
// mid-ranks) bit for bit: Spearman is computed in exact integer arithmetic (n <= 200,000; above, the
// ranks are materialised as before), Pearson with the same partial sums in the same order.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/eval/correlation.h"

namespace syn::eval {

struct BootstrapOptions {
    std::size_t replicates = 1000;
    std::uint64_t seed = 20240229;
    double level = 0.95;   // central interval: percentiles (1-level)/2 and (1+level)/2
    unsigned threads = 0;  // 0: std::thread::hardware_concurrency(), at most 8
};

struct BootstrapInterval {
    double estimate = std::numeric_limits<double>::quiet_NaN();  // on the original sample
    double lower = std::numeric_limits<double>::quiet_NaN();
    double upper = std::numeric_limits<double>::quiet_NaN();
    double standard_error = std::numeric_limits<double>::quiet_NaN();  // sd of the defined replicates
    double level = 0.95;
    std::size_t replicates = 0;            // replicates drawn
    std::size_t undefined_replicates = 0;  // replicates whose statistic was undefined (e.g. constant)
    std::string note;                      // why the interval is NaN, when it is
};

struct CorrelationEstimate {
    Correlation point;
    BootstrapInterval ci;
};

// --- building blocks (public so that tests and other statistics can use them) --------------------

// Uniform integer in [0, bound), bound >= 1; Lemire (2019), "Fast random integer generation in an
// interval", exact (no modulo bias) and identical on every standard library.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound);
// The generator of replicate `replicate` of a bootstrap seeded with `seed`.
std::mt19937_64 replicate_rng(std::uint64_t seed, std::uint64_t replicate);
// counts[i] = how often pair i is drawn in that replicate (counts.size() = n, sum = n).
void resample_counts(std::size_t n, std::uint64_t seed, std::uint64_t replicate, std::vector<std::uint32_t>& counts);

// Quantile q in [0,1] of sorted values with linear interpolation between order statistics
// (Hyndman & Fan type 7, numpy's default).
double quantile_sorted(const std::vector<double>& sorted, double q);
// Percentile interval from replicate values (NaN entries are counted as undefined and left out).
BootstrapInterval percentile_interval(double estimate, std::vector<double> replicate_values, double level);

// Average ranks of `values` within a resample given as counts, in O(n): each copy of a pair counts
// as one observation, so ranks run over 1..sum(counts) with ties (equal values, and copies of one
// pair) sharing their mean rank. With all counts 1 this equals average_ranks(values).
class ResampleRanker {
public:
    explicit ResampleRanker(const std::vector<double>& values);
    void ranks(const std::uint32_t* counts, double* out) const;
    std::size_t size() const { return order_.size(); }

private:
    std::vector<std::uint32_t> order_;        // indices sorted by value
    std::vector<std::uint32_t> group_start_;  // start of each run of equal values in order_, plus end
};

// Pearson correlation of the resample (x[i], y[i]) repeated counts[i] times; NaN if either side is
// constant over the drawn pairs.
double weighted_pearson(const double* x, const double* y, const std::uint32_t* counts, std::size_t n);

// Runs `replicates` resamples of n pairs on worker threads. make_worker() is called once per thread
// and returns the function that turns one replicate's counts into k statistics (written to out[0..k)).
// Returns replicates*k values, replicate-major.
using ReplicateFunction = std::function<void(const std::uint32_t* counts, double* out)>;
std::vector<double> run_bootstrap(std::size_t n, std::size_t k, const BootstrapOptions& options,
                                  const std::function<ReplicateFunction()>& make_worker);

// --- correlations ------------------------------------------------------------------------------------

struct CorrelationSpec {
    const std::vector<double>* x = nullptr;
    const std::vector<double>* y = nullptr;
    CorrelationKind kind = CorrelationKind::kSpearman;
};

// Several correlations over the same n pairs, all from one shared set of resamples (their intervals
// are computed from the same replicates; columns shared between specs are ranked once per replicate,
// and repeated specs, or Spearman specs that only swap x and y, are computed once).
std::vector<CorrelationEstimate> bootstrap_correlations(const std::vector<CorrelationSpec>& specs,
                                                        const BootstrapOptions& options);
CorrelationEstimate bootstrap_correlation(const std::vector<double>& x, const std::vector<double>& y,
                                          CorrelationKind kind, const BootstrapOptions& options);

// Per replicate, the correlation of every spec (replicate-major, specs.size() values per replicate):
// the raw material of paired comparisons.
std::vector<double> bootstrap_correlation_replicates(const std::vector<CorrelationSpec>& specs,
                                                     const BootstrapOptions& options);

unsigned resolve_threads(unsigned requested);

}  // namespace syn::eval
