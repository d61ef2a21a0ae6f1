#include <gtest/gtest.h>

#include <cmath>

#include "core/eval/significance.h"

using namespace syn::eval;

// Published worked examples. Where the inputs were printed rounded to 4 decimals the tolerance
// allows for that rounding (|dz/dr| * 5e-5 is about 1e-3 at these n).

// cocor (Diedenhofen & Musch 2015, PLoS ONE 10(4): e0121945), as run in the rmcorr package's
// "Comparing Correlations" vignette (Bakdash & Marusich), overlapping dependent correlations:
// r.jk = 0.8066, r.jh = 0.2383, r.kh = 0.2255, n = 177 ->
//   steiger1980: z = 8.5460;  williams1959: t = 9.3823, df = 174.
TEST(Significance, CocorRmcorrVignetteExample) {
    const auto t = dependent_correlation_test(0.8066, 0.2383, 0.2255, 177);
    EXPECT_TRUE(t.undefined_reason.empty());
    EXPECT_NEAR(t.steiger_z, 8.5460, 2e-3);
    EXPECT_NEAR(t.williams_t, 9.3823, 2e-3);
    EXPECT_EQ(t.williams_df, 174);
    EXPECT_LT(t.steiger_p, 1e-10);
}

// cocor output quoted in a public analysis script (ann_mmse example), n = 553:
// r.jk = 0.2493, r.jh = 0.3395, r.kh = 0.4082 -> steiger1980 z = -2.0660, p-value = 0.0388;
// r.jk = 0.0228, r.jh = 0.3522, r.kh = 0.3718 -> steiger1980 z = -7.1345.
TEST(Significance, CocorSteigerExamplesN553) {
    const auto a = dependent_correlation_test(0.2493, 0.3395, 0.4082, 553);
    EXPECT_NEAR(a.steiger_z, -2.0660, 2e-3);
    EXPECT_NEAR(a.steiger_p, 0.0388, 5e-4);
    const auto b = dependent_correlation_test(0.0228, 0.3522, 0.3718, 553);
    EXPECT_NEAR(b.steiger_z, -7.1345, 2e-3);
}

// bruceR::cor_diff documentation (Williams' t for r(X,Y) vs r(X,Z)):
// cor_diff(r1 = 0.20, r2 = 0.45, n = 100, rcov = 0.80) -> t(97) = -4.56, p = 1e-05. Exact inputs.
TEST(Significance, BruceRWilliamsExample) {
    const auto t = dependent_correlation_test(0.20, 0.45, 0.80, 100);
    EXPECT_NEAR(t.williams_t, -4.56, 5e-3);
    EXPECT_EQ(t.williams_df, 97);
    EXPECT_NEAR(t.williams_p, 1e-5, 0.6e-5);  // printed with one significant digit
}

TEST(Significance, SymmetryAndDegenerateInputs) {
    const auto ab = dependent_correlation_test(0.6, 0.4, 0.5, 80);
    const auto ba = dependent_correlation_test(0.4, 0.6, 0.5, 80);
    EXPECT_NEAR(ab.steiger_z, -ba.steiger_z, 1e-12);
    EXPECT_NEAR(ab.williams_p, ba.williams_p, 1e-12);
    const auto same = dependent_correlation_test(0.5, 0.5, 0.3, 80);
    EXPECT_EQ(same.steiger_z, 0.0);
    EXPECT_NEAR(same.steiger_p, 1.0, 1e-12);
    EXPECT_FALSE(dependent_correlation_test(NAN, 0.5, 0.3, 80).undefined_reason.empty());
    EXPECT_FALSE(dependent_correlation_test(1.0, 0.5, 0.3, 80).undefined_reason.empty());
    EXPECT_TRUE(std::isnan(dependent_correlation_test(0.5, 0.4, 0.3, 3).steiger_z));
}

TEST(Significance, DistributionsComeOutRight) {
    EXPECT_NEAR(normal_two_sided_p(1.959963984540054), 0.05, 1e-12);
    EXPECT_NEAR(t_two_sided_p(2.228138851986274, 10), 0.05, 1e-10);  // t_{0.975, 10}
}

TEST(Significance, PairedBootstrapDetectsARealDifferenceAndNotAFakeOne) {
    std::mt19937_64 rng(1);
    const std::size_t n = 2000;
    std::vector<double> truth(n), good(n), bad(n), good_copy(n);
    for (std::size_t i = 0; i < n; ++i) {
        truth[i] = static_cast<double>(uniform_below(rng, 1000));
        const double e1 = static_cast<double>(uniform_below(rng, 1000)) - 500;
        const double e2 = static_cast<double>(uniform_below(rng, 1000)) - 500;
        good[i] = truth[i] + 0.3 * e1;
        bad[i] = truth[i] + 1.5 * e2;
        good_copy[i] = good[i];  // an identical encoder: every paired difference is exactly 0
    }
    const BootstrapOptions options{500, 42, 0.95, 2};
    for (CorrelationKind kind : {CorrelationKind::kSpearman, CorrelationKind::kPearson}) {
        const auto cmp = compare_encoders(truth, good, bad, kind, options);
        EXPECT_GT(cmp.a.value, cmp.b.value);
        EXPECT_GT(cmp.bootstrap.ci.lower, 0.0);
        EXPECT_LE(cmp.bootstrap.ci.lower, cmp.bootstrap.difference);
        EXPECT_GE(cmp.bootstrap.ci.upper, cmp.bootstrap.difference);
        EXPECT_NEAR(cmp.bootstrap.p_two_sided, 2.0 / 501.0, 1e-12);  // no replicate at or below 0
        EXPECT_LT(cmp.parametric.steiger_p, 1e-6);
        EXPECT_LT(cmp.parametric.williams_p, 1e-6);

        const auto tie = compare_encoders(truth, good, good_copy, kind, options);
        EXPECT_NEAR(tie.bootstrap.difference, 0.0, 1e-12);
        EXPECT_NEAR(tie.bootstrap.p_two_sided, 1.0, 1e-12);
    }
}

TEST(Significance, PairedDifferenceUsesTheSameReplicates) {
    // Replicates that differ by a constant give a degenerate interval at that constant: the pairing
    // is what makes the difference precise.
    const std::vector<double> a{0.50, 0.60, 0.55, 0.70}, b{0.40, 0.50, 0.45, 0.60};
    const auto d = paired_difference(0.6, 0.5, a, b, 0.95);
    EXPECT_NEAR(d.ci.lower, 0.1, 1e-12);
    EXPECT_NEAR(d.ci.upper, 0.1, 1e-12);
    EXPECT_NEAR(d.p_two_sided, 2.0 / 5.0, 1e-12);
}
