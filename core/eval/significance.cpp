#include "core/eval/significance.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "core/io/errors.h"

namespace syn::eval {

double normal_two_sided_p(double z) {
    if (std::isnan(z)) return std::numeric_limits<double>::quiet_NaN();
    const boost::math::normal standard;
    return 2.0 * boost::math::cdf(boost::math::complement(standard, std::abs(z)));
}

double t_two_sided_p(double t, double df) {
    if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
    const boost::math::students_t dist(df);
    return 2.0 * boost::math::cdf(boost::math::complement(dist, std::abs(t)));
}

DependentCorrelationTest dependent_correlation_test(double r_jk, double r_jh, double r_kh, std::size_t n) {
    DependentCorrelationTest test;
    test.r_jk = r_jk;
    test.r_jh = r_jh;
    test.r_kh = r_kh;
    test.n = n;
    if (std::isnan(r_jk) || std::isnan(r_jh) || std::isnan(r_kh)) {
        test.undefined_reason = "a correlation is undefined (NaN)";
        return test;
    }
    if (std::abs(r_jk) >= 1 || std::abs(r_jh) >= 1 || std::abs(r_kh) >= 1) {
        test.undefined_reason = "a correlation is +-1 (Fisher z and the variance are infinite)";
        return test;
    }
    if (n < 4) {
        test.undefined_reason = "fewer than 4 pairs (n - 3 degrees of freedom)";
        return test;
    }
    const double nd = static_cast<double>(n);

    // Steiger (1980), eq. 10: the covariance term of the two Fisher z's under H0, with the pooled
    // r-bar = (r_jk + r_jh)/2 in place of the two correlations; eq. 14: the Z statistic.
    const double rbar = 0.5 * (r_jk + r_jh);
    const double rbar2 = rbar * rbar;
    const double c = (r_kh * (1 - 2 * rbar2) - 0.5 * rbar2 * (1 - 2 * rbar2 - r_kh * r_kh)) / ((1 - rbar2) * (1 - rbar2));
    test.steiger_z = (fisher_z(r_jk) - fisher_z(r_jh)) * std::sqrt(nd - 3) / std::sqrt(2 - 2 * c);
    test.steiger_p = normal_two_sided_p(test.steiger_z);

    // Williams (1959) as given by Steiger (1980), eq. 7; |R| is the determinant of the 3x3
    // correlation matrix.
    const double det = 1 - r_jk * r_jk - r_jh * r_jh - r_kh * r_kh + 2 * r_jk * r_jh * r_kh;
    const double denominator = 2 * ((nd - 1) / (nd - 3)) * det + rbar2 * std::pow(1 - r_kh, 3);
    if (!(denominator > 0)) {
        test.undefined_reason = "the three correlations are inconsistent (not a valid correlation matrix)";
        return test;
    }
    test.williams_t = (r_jk - r_jh) * std::sqrt((nd - 1) * (1 + r_kh)) / std::sqrt(denominator);
    test.williams_df = nd - 3;
    test.williams_p = t_two_sided_p(test.williams_t, test.williams_df);
    return test;
}

PairedBootstrap paired_difference(double estimate_a, double estimate_b, const std::vector<double>& replicates_a,
                                  const std::vector<double>& replicates_b, double level) {
    if (replicates_a.size() != replicates_b.size())
        throw Error("paired bootstrap: the two encoders have different numbers of replicates");
    PairedBootstrap out;
    out.difference = estimate_a - estimate_b;
    std::vector<double> diffs(replicates_a.size());
    std::size_t below = 0, above = 0, defined = 0;
    for (std::size_t r = 0; r < diffs.size(); ++r) {
        diffs[r] = replicates_a[r] - replicates_b[r];  // NaN if either is undefined
        if (std::isnan(diffs[r])) continue;
        ++defined;
        if (diffs[r] <= 0) ++below;
        if (diffs[r] >= 0) ++above;
    }
    out.ci = percentile_interval(out.difference, std::move(diffs), level);
    if (!std::isnan(out.difference) && defined > 0) {
        const double b = static_cast<double>(defined);
        const double tail = std::min((1.0 + below) / (b + 1.0), (1.0 + above) / (b + 1.0));
        out.p_two_sided = std::min(1.0, 2.0 * tail);
    }
    return out;
}

EncoderComparison compare_encoders(const std::vector<double>& truth, const std::vector<double>& scores_a,
                                   const std::vector<double>& scores_b, CorrelationKind kind,
                                   const BootstrapOptions& options) {
    EncoderComparison out;
    out.kind = kind;
    out.a = correlation(kind, truth, scores_a);
    out.b = correlation(kind, truth, scores_b);
    out.a_vs_b = correlation(kind, scores_a, scores_b);
    out.parametric = dependent_correlation_test(out.a.value, out.b.value, out.a_vs_b.value, truth.size());

    // Both correlations on the same resampled indices, in one pass.
    const std::vector<double> replicates =
        bootstrap_correlation_replicates({{&truth, &scores_a, kind}, {&truth, &scores_b, kind}}, options);
    std::vector<double> ra(options.replicates), rb(options.replicates);
    for (std::size_t r = 0; r < options.replicates; ++r) {
        ra[r] = replicates[2 * r];
        rb[r] = replicates[2 * r + 1];
    }
    out.bootstrap = paired_difference(out.a.value, out.b.value, ra, rb, options.level);
    return out;
}

// --- two independent samples (Table 3: groups of encoders) ---------------------------------------

MeanSd mean_sd(const std::vector<double>& values) {
    MeanSd m;
    m.n = values.size();
    if (values.empty()) return m;
    double sum = 0.0;
    for (double v : values) sum += v;
    m.mean = sum / static_cast<double>(values.size());
    if (values.size() > 1) {
        double ss = 0.0;
        for (double v : values) ss += (v - m.mean) * (v - m.mean);
        m.sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
    }
    return m;
}

StudentTTest pooled_t_test(const std::vector<double>& a, const std::vector<double>& b) {
    StudentTTest t;
    t.n_a = a.size();
    t.n_b = b.size();
    for (double v : a)
        if (!std::isfinite(v)) throw Error("t-test: the first sample holds a value that is not finite");
    for (double v : b)
        if (!std::isfinite(v)) throw Error("t-test: the second sample holds a value that is not finite");
    const MeanSd ma = mean_sd(a), mb = mean_sd(b);
    t.mean_a = ma.mean;
    t.mean_b = mb.mean;
    if (a.empty() || b.empty() || a.size() + b.size() < 3) {
        t.undefined_reason = "needs a value in each sample and three in all";
        return t;
    }
    auto sum_sq = [](const std::vector<double>& x, double mean) {
        double ss = 0.0;
        for (double v : x) ss += (v - mean) * (v - mean);
        return ss;
    };
    t.df = static_cast<double>(a.size() + b.size() - 2);
    const double pooled_var = (sum_sq(a, ma.mean) + sum_sq(b, mb.mean)) / t.df;
    const double se = std::sqrt(pooled_var * (1.0 / double(a.size()) + 1.0 / double(b.size())));
    if (!(se > 0.0)) {
        t.undefined_reason = "no variance in either sample";
        return t;
    }
    t.t = (ma.mean - mb.mean) / se;
    t.p = t_two_sided_p(t.t, t.df);
    return t;
}

}  // namespace syn::eval
