#pragma once
// All STS numbers of the paper's Table 2 for one encoder (Spearman and Pearson of the model's
// cosine scores against STS-L and against STS-V), each with a bootstrap interval, over all pairs and
// per sampling_method; and the pairwise comparison of two encoders on the same table.
// Plain vectors in, so eval stays independent of core/data (StsDataset::sts_l_values() etc. feed it).
#include <cstddef>
#include <string>
#include <vector>

#include "core/eval/bootstrap.h"
#include "core/eval/significance.h"

namespace syn::eval {

struct StsScores {
    std::string group;  // "all" or a sampling_method
    std::size_t n = 0;
    CorrelationEstimate spearman_l, pearson_l;  // vs STS-L (human scores)
    CorrelationEstimate spearman_v, pearson_v;  // vs STS-V (same image 1 / 0); undefined within a
                                                // group where STS-V is constant (e.g. c2c_cocaption)
};

struct StsEvaluation {
    StsScores all;
    std::vector<StsScores> by_method;  // sorted by method name
    BootstrapOptions options;
    double seconds = 0;  // wall time of the whole evaluation (bootstrap included)
};

// One shared set of resamples for the four numbers of a group (each group is resampled within
// itself, with the same seed). `methods` may be empty (no breakdown).
StsEvaluation evaluate_sts(const std::vector<double>& model_scores, const std::vector<double>& sts_l,
                           const std::vector<double>& sts_v, const std::vector<std::string>& methods,
                           const BootstrapOptions& options);

struct StsComparisonRow {
    std::string group;   // "all" or a sampling_method
    std::string target;  // "STS-L" or "STS-V"
    EncoderComparison comparison;
};

// Encoder A vs B: for each group, target and kind (Spearman, Pearson), the Steiger / Williams tests
// and the paired bootstrap. Rows in a fixed order: group, then target, then Spearman before Pearson.
std::vector<StsComparisonRow> compare_encoders_sts(const std::vector<double>& scores_a,
                                                   const std::vector<double>& scores_b,
                                                   const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                                                   const std::vector<std::string>& methods,
                                                   const BootstrapOptions& options);

// --- several encoders at once (what an sts run with N encoders computes) ------------------------------

struct StsEncoderComparison {
    std::size_t a = 0, b = 0;            // indices into the scores given, a < b
    std::vector<StsComparisonRow> rows;  // as compare_encoders_sts returns them
};

struct StsMultiEvaluation {
    std::vector<StsEvaluation> encoders;             // one per encoder, in the order given
    std::vector<StsEncoderComparison> comparisons;  // every a < b: (0,1), (0,2), ..., (1,2), ...
    double seconds = 0;                             // wall time of the whole computation
};

// For every encoder the numbers of evaluate_sts(*scores[e], sts_l, sts_v, methods, options), and for
// every two encoders a < b the rows of compare_encoders_sts(*scores[a], *scores[b], sts_l, sts_v,
// compare_by_method ? methods : {}, options); the same numbers as those calls give (bit for bit), but
// each group is resampled once for all of them: a replicate draws its pairs, ranks STS-L, STS-V and
// each encoder's scores once, and every interval and every paired comparison uses them. (Each
// StsEvaluation's `seconds` is the wall time of the whole computation.)
StsMultiEvaluation evaluate_sts_encoders(const std::vector<const std::vector<double>*>& scores,
                                         const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                                         const std::vector<std::string>& methods, const BootstrapOptions& options,
                                         bool compare_by_method = false);

}  // namespace syn::eval
