#include <gtest/gtest.h>

#include <cmath>

#include "core/eval/correlation.h"
#include "core/io/errors.h"

using namespace syn::eval;

namespace {

// Independent reference: textbook two-pass Pearson in long double, written separately from the
// library's code.
double reference_pearson(const std::vector<double>& x, const std::vector<double>& y) {
    long double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= x.size();
    my /= y.size();
    long double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return static_cast<double>(sxy / std::sqrt(sxx * syy));
}

}  // namespace

TEST(Correlation, PerfectAndInverse) {
    const std::vector<double> x{1, 2, 3, 4, 5};
    EXPECT_NEAR(pearson(x, {2, 4, 6, 8, 10}).value, 1.0, 1e-15);
    EXPECT_NEAR(pearson(x, {10, 8, 6, 4, 2}).value, -1.0, 1e-15);
    EXPECT_NEAR(spearman(x, {1, 4, 9, 16, 25}).value, 1.0, 1e-15);
    EXPECT_NEAR(spearman(x, {5, 1, 0.5, -3, -100}).value, -1.0, 1e-15);
}

TEST(Correlation, ScipyDocumentedExamples) {
    // scipy.stats.pearsonr docs: x = [1, 2, 3, 4, 5], y = [10, 9, 2.5, 6, 4]
    //   -> statistic -0.7426106572325057, pvalue 0.15055580885344558.
    const std::vector<double> x{1, 2, 3, 4, 5};
    const Correlation r = pearson(x, {10, 9, 2.5, 6, 4});
    EXPECT_NEAR(r.value, -0.7426106572325057, 1e-14);
    EXPECT_NEAR(correlation_p_value(r.value, 5), 0.15055580885344558, 1e-12);
    // scipy.stats.spearmanr docs: [1, 2, 3, 4, 5] vs [5, 6, 7, 8, 7]
    //   -> statistic 0.8207826816681233, pvalue 0.08858700531354381 (t approximation, n-2 df).
    const Correlation s = spearman(x, {5, 6, 7, 8, 7});
    EXPECT_NEAR(s.value, 0.8207826816681233, 1e-14);
    EXPECT_NEAR(correlation_p_value(s.value, 5), 0.08858700531354381, 1e-12);
}

TEST(Correlation, AgreesWithIndependentLongDoubleComputation) {
    // Anscombe's quartet, set I (x, y1): r = 0.81642 to 5 places in Anscombe (1973).
    const std::vector<double> x{10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5};
    const std::vector<double> y{8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68};
    EXPECT_NEAR(pearson(x, y).value, reference_pearson(x, y), 1e-14);
    EXPECT_NEAR(pearson(x, y).value, 0.81642, 5e-6);
    // Shifting far from zero would break a one-pass formula; the value must not move.
    std::vector<double> xs = x, ys = y;
    for (auto& v : xs) v += 1e8;
    for (auto& v : ys) v -= 1e7;
    EXPECT_NEAR(pearson(xs, ys).value, reference_pearson(x, y), 1e-9);
}

TEST(Correlation, TiesGetAverageRanks) {
    EXPECT_EQ(average_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
    EXPECT_EQ(average_ranks({3, 1, 3, 3}), (std::vector<double>{3, 1, 3, 3}));
    // Spearman of [1,2,2,3] vs [1,2,3,4], by hand: ranks x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4], both
    // with mean 2.5; dx = [-1.5, 0, 0, 1.5], dy = [-1.5, -0.5, 0.5, 1.5];
    // sum dx*dy = 2.25 + 0 + 0 + 2.25 = 4.5, sum dx^2 = 4.5, sum dy^2 = 5;
    // rho = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10) = 0.9486832980505138.
    EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 2, 3, 4}).value, 3.0 / std::sqrt(10.0), 1e-15);
    // The "no ties" shortcut 1 - 6 sum d^2 / (n (n^2 - 1)) would give 1 - 6*0.5/60 = 0.95: not what we want.
    EXPECT_GT(std::abs(spearman({1, 2, 2, 3}, {1, 2, 3, 4}).value - 0.95), 1e-3);
}

TEST(Correlation, SpearmanIsInvariantToMonotoneTransforms) {
    const std::vector<double> x{0.3, -1.2, 2.5, 0.7, 0.7, 4.1, -0.2, 1.9};
    const std::vector<double> y{1.0, 0.2, 3.3, 0.9, 1.4, 2.0, 0.1, 2.2};
    std::vector<double> fx, gy;
    for (double v : x) fx.push_back(std::exp(3 * v) + 7);  // strictly increasing
    for (double v : y) gy.push_back(-std::pow(v, 3));      // strictly decreasing
    const double rho = spearman(x, y).value;
    EXPECT_NEAR(spearman(fx, y).value, rho, 1e-15);
    EXPECT_NEAR(spearman(x, gy).value, -rho, 1e-15);
    EXPECT_GT(std::abs(pearson(fx, y).value - pearson(x, y).value), 1e-3);  // Pearson is not invariant
}

TEST(Correlation, ConstantInputIsNaNWithAReason) {
    const Correlation c = pearson({1, 2, 3}, {0.1, 0.1, 0.1});
    EXPECT_TRUE(std::isnan(c.value));
    EXPECT_FALSE(c.defined());
    EXPECT_EQ(c.undefined_reason, "y is constant (zero variance)");
    EXPECT_EQ(spearman({4, 4, 4}, {1, 2, 3}).undefined_reason, "x is constant (zero variance)");
    EXPECT_EQ(pearson({7}, {1}).undefined_reason, "fewer than 2 pairs");
    EXPECT_TRUE(std::isnan(correlation_p_value(c.value, 3)));
    // 0.1 repeated: a mean of 0.1's is not exactly 0.1, yet the answer must still be "undefined".
    std::vector<double> tenths(1000, 0.1), ramp(1000);
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(i);
    EXPECT_FALSE(pearson(ramp, tenths).defined());
}

TEST(Correlation, BadInputsThrow) {
    EXPECT_THROW(pearson({1, 2}, {1, 2, 3}), syn::Error);
    EXPECT_THROW(spearman({1, std::nan("")}, {1, 2}), syn::Error);
    EXPECT_THROW(pearson({1, 2}, {1, INFINITY}), syn::Error);
}
