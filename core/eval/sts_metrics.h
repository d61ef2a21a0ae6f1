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

}  // namespace syn::eval
