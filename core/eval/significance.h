#pragma once
// Is encoder A better than encoder B on the same pairs? Two answers:
// - parametric, for two dependent correlations that share one variable (j = the human / image
//   labels, k = scores of A, h = scores of B): Steiger's (1980) Z on Fisher-z values with the pooled
//   correlation (Steiger 1980, eqs. 10 and 14; as cocor's "steiger1980") and Williams' (1959) t
//   (Steiger 1980, eq. 7; cocor's "williams1959", psych::r.test), n-3 degrees of freedom.
//   Both assume Pearson correlations of (roughly) normal data; applied to Spearman correlations (the
//   r's of the ranks) they are an approximation, which is why the bootstrap is computed as well.
// - a paired bootstrap: each replicate resamples the pairs once and computes both correlations on the
//   same resample; the percentile interval of r_A - r_B and the two-sided p-value
//   p = min(1, 2 min((1 + #{d* <= 0}) / (B + 1), (1 + #{d* >= 0}) / (B + 1))), the smallest level at which
//   a percentile interval excludes 0, with the +1 correction that keeps p above 0.
// p-values come from Boost.Math's normal and Student t distributions.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "core/eval/bootstrap.h"
#include "core/eval/correlation.h"

namespace syn::eval {

struct DependentCorrelationTest {
    double r_jk = 0, r_jh = 0, r_kh = 0;
    std::size_t n = 0;
    double steiger_z = std::numeric_limits<double>::quiet_NaN();
    double steiger_p = std::numeric_limits<double>::quiet_NaN();  // two-sided, normal
    double williams_t = std::numeric_limits<double>::quiet_NaN();
    double williams_df = std::numeric_limits<double>::quiet_NaN();  // n - 3
    double williams_p = std::numeric_limits<double>::quiet_NaN();   // two-sided, Student t
    std::string undefined_reason;  // set (and the statistics NaN) when a correlation is NaN or ±1, or n < 4
};

// Tests H0: rho_jk = rho_jh given r_kh, the correlation between the two compared variables.
DependentCorrelationTest dependent_correlation_test(double r_jk, double r_jh, double r_kh, std::size_t n);

double normal_two_sided_p(double z);
double t_two_sided_p(double t, double df);

struct PairedBootstrap {
    double difference = std::numeric_limits<double>::quiet_NaN();  // r_A - r_B on the full sample
    BootstrapInterval ci;                                           // of the difference
    double p_two_sided = std::numeric_limits<double>::quiet_NaN();
};

// Paired bootstrap of the difference of two statistics from replicate values (NaN pairs are left out).
PairedBootstrap paired_difference(double estimate_a, double estimate_b, const std::vector<double>& replicates_a,
                                  const std::vector<double>& replicates_b, double level);

struct EncoderComparison {
    CorrelationKind kind = CorrelationKind::kSpearman;
    Correlation a;       // r(truth, scores_a)
    Correlation b;       // r(truth, scores_b)
    Correlation a_vs_b;  // r(scores_a, scores_b)
    DependentCorrelationTest parametric;
    PairedBootstrap bootstrap;
};

// Compares two encoders' scores against the same truth on the same pairs.
EncoderComparison compare_encoders(const std::vector<double>& truth, const std::vector<double>& scores_a,
                                   const std::vector<double>& scores_b, CorrelationKind kind,
                                   const BootstrapOptions& options);

// --- two independent samples (Table 3: CLIP-S / IS of groups of encoders) ---
// Non-finite values are refused (syn::Error); undefined statistics are NaN, with the reason said.

// A two-sample Student t-test with pooled variance (scipy.stats.ttest_ind, equal_var=True).
struct StudentTTest {
    double mean_a = std::numeric_limits<double>::quiet_NaN();
    double mean_b = std::numeric_limits<double>::quiet_NaN();
    double t = std::numeric_limits<double>::quiet_NaN();
    double df = std::numeric_limits<double>::quiet_NaN();
    double p = std::numeric_limits<double>::quiet_NaN();  // two-sided, Student t (t_two_sided_p)
    std::size_t n_a = 0, n_b = 0;
    std::string undefined_reason;          // set (and t, p NaN) when n_a + n_b < 3 or both samples are constant
};
StudentTTest pooled_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Sample mean and sd (n - 1); sd NaN for fewer than two values, both NaN for none.
struct MeanSd {
    double mean = std::numeric_limits<double>::quiet_NaN();
    double sd = std::numeric_limits<double>::quiet_NaN();
    std::size_t n = 0;
};
MeanSd mean_sd(const std::vector<double>& values);

}  // namespace syn::eval
