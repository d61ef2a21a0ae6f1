// The Inception Score from logits: textbook values, a hand-computed case, and a second, plainly
// written implementation on random logits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/eval/inception_score.h"
#include "core/io/errors.h"

using syn::eval::inception_score;
using syn::eval::InceptionScore;

namespace {

// One-hot logits: `hot` for the class, -1000 elsewhere (exp(-1000) is exactly 0 in double).
std::vector<double> one_hot_rows(const std::vector<int>& classes_of_rows, int classes) {
    std::vector<double> out;
    for (int c : classes_of_rows)
        for (int j = 0; j < classes; ++j) out.push_back(j == c ? 5.0 : -1000.0);
    return out;
}

// Reference: naive softmax (exp / sum), KL as sum p log p - sum p log q, split bounds k*N/S.
InceptionScore reference(const std::vector<double>& logits, int n, int c, int splits) {
    std::vector<std::vector<double>> p(n, std::vector<double>(c));
    for (int i = 0; i < n; ++i) {
        double z = 0;
        for (int j = 0; j < c; ++j) z += std::exp(logits[i * c + j]);
        for (int j = 0; j < c; ++j) p[i][j] = std::exp(logits[i * c + j]) / z;
    }
    InceptionScore r;
    for (int k = 0; k < splits; ++k) {
        const int lo = k * n / splits, hi = (k + 1) * n / splits;
        std::vector<double> q(c, 0.0);
        for (int i = lo; i < hi; ++i)
            for (int j = 0; j < c; ++j) q[j] += p[i][j] / (hi - lo);
        double total = 0;
        for (int i = lo; i < hi; ++i) {
            double plogp = 0, plogq = 0;
            for (int j = 0; j < c; ++j) {
                plogp += p[i][j] * std::log(p[i][j]);
                plogq += p[i][j] * std::log(q[j]);
            }
            total += plogp - plogq;
        }
        r.split_scores.push_back(std::exp(total / (hi - lo)));
    }
    for (double s : r.split_scores) r.mean += s / splits;
    for (double s : r.split_scores) r.std += (s - r.mean) * (s - r.mean) / splits;
    r.std = std::sqrt(r.std);
    return r;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const syn::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected syn::Error";
    return {};
}

}  // namespace

TEST(InceptionScore, IdenticalRowsGiveOne) {
    // Every row the same distribution (uniform, and a non-uniform one): p_i == mean p, KL = 0.
    const std::vector<double> uniform(20 * 7, 0.25);
    InceptionScore s = inception_score(uniform, 20, 7);
    EXPECT_NEAR(s.mean, 1.0, 1e-12);
    EXPECT_NEAR(s.std, 0.0, 1e-12);
    EXPECT_EQ(s.split_scores.size(), 10u);
    EXPECT_EQ(s.samples, 20);
    EXPECT_EQ(s.classes, 7);

    std::vector<double> same;
    for (int i = 0; i < 12; ++i) same.insert(same.end(), {1.0, -2.0, 0.5});
    EXPECT_NEAR(inception_score(same, 12, 3, 4).mean, 1.0, 1e-12);
}

TEST(InceptionScore, OneHotRowsSpreadOverKClassesGiveK) {
    // 24 rows, classes 0..3 in turn; 3 splits of 8 rows hold every class twice: IS = 4 per split.
    std::vector<int> cls;
    for (int i = 0; i < 24; ++i) cls.push_back(i % 4);
    const InceptionScore s = inception_score(one_hot_rows(cls, 6), 24, 6, 3);
    for (double v : s.split_scores) EXPECT_NEAR(v, 4.0, 1e-9);
    EXPECT_NEAR(s.mean, 4.0, 1e-9);
    EXPECT_NEAR(s.std, 0.0, 1e-9);
}

TEST(InceptionScore, StdIsThePopulationStdOverSplits) {
    // Split 1: identical rows (IS 1). Split 2: one-hot over 2 classes (IS 2). np.std([1, 2]) = 0.5.
    std::vector<double> logits = {0, 0, 0, 0, 0, 0, 0, 0};
    const std::vector<double> hot = one_hot_rows({0, 1, 0, 1}, 2);
    logits.insert(logits.end(), hot.begin(), hot.end());
    const InceptionScore s = inception_score(logits, 8, 2, 2);
    ASSERT_EQ(s.split_scores.size(), 2u);
    EXPECT_NEAR(s.split_scores[0], 1.0, 1e-12);
    EXPECT_NEAR(s.split_scores[1], 2.0, 1e-9);
    EXPECT_NEAR(s.mean, 1.5, 1e-9);
    EXPECT_NEAR(s.std, 0.5, 1e-9);
}

TEST(InceptionScore, HandComputedTwoByTwo) {
    // p0 = (3/4, 1/4), p1 = (1/4, 3/4), mean (1/2, 1/2):
    // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 3/4 ln 3 - ln 2 for both rows; IS = 3^(3/4) / 2.
    const std::vector<double> logits = {std::log(3.0), 0.0, 0.0, std::log(3.0)};
    const InceptionScore s = inception_score(logits, 2, 2, 1);
    EXPECT_NEAR(s.mean, std::pow(3.0, 0.75) / 2.0, 1e-14);
    EXPECT_NEAR(s.mean, 1.1397535284, 1e-9);
    EXPECT_EQ(s.std, 0.0);
    // Logits shifted per row give the same probabilities.
    const std::vector<double> shifted = {std::log(3.0) + 100, 100, -50, std::log(3.0) - 50};
    EXPECT_NEAR(inception_score(shifted, 2, 2, 1).mean, s.mean, 1e-12);
}

TEST(InceptionScore, MatchesAPlainImplementationOnRandomLogits) {
    std::mt19937 rng(7);
    std::normal_distribution<double> normal(0.0, 3.0);
    for (const auto& [n, c, splits] : std::vector<std::tuple<int, int, int>>{{20, 9, 3}, {50, 31, 10}, {7, 4, 7}, {13, 5, 1}}) {
        std::vector<double> logits(static_cast<size_t>(n) * c);
        for (double& x : logits) x = normal(rng);
        const InceptionScore got = inception_score(logits, n, c, splits);
        const InceptionScore want = reference(logits, n, c, splits);
        ASSERT_EQ(got.split_scores.size(), want.split_scores.size());
        for (size_t k = 0; k < want.split_scores.size(); ++k)
            EXPECT_NEAR(got.split_scores[k], want.split_scores[k], 1e-10) << "split " << k;
        EXPECT_NEAR(got.mean, want.mean, 1e-10);
        EXPECT_NEAR(got.std, want.std, 1e-10);
        // One row per split makes every split's mean its own row: IS 1; otherwise above 1.
        if (n == splits) EXPECT_NEAR(got.mean, 1.0, 1e-12);
        else EXPECT_GT(got.mean, 1.0);

        // The float overload agrees on float-representable data.
        std::vector<float> f(logits.begin(), logits.end());
        std::vector<double> back(f.begin(), f.end());
        EXPECT_NEAR(inception_score(f, n, c, splits).mean, inception_score(back, n, c, splits).mean, 1e-12);
    }
}

TEST(InceptionScore, RowOrderDecidesTheSplits) {
    // Sorted by class, each split of a 2-split run holds one class only (IS 1); interleaved, 2.
    const InceptionScore sorted = inception_score(one_hot_rows({0, 0, 1, 1}, 2), 4, 2, 2);
    const InceptionScore mixed = inception_score(one_hot_rows({0, 1, 0, 1}, 2), 4, 2, 2);
    EXPECT_NEAR(sorted.mean, 1.0, 1e-9);
    EXPECT_NEAR(mixed.mean, 2.0, 1e-9);
}

TEST(InceptionScore, BadInputIsAnError) {
    std::vector<double> logits(5 * 3, 0.0);
    EXPECT_NE(error_of([&] { inception_score(logits, 5, 3, 10); }).find("5 samples cannot fill 10 splits"),
              std::string::npos);
    EXPECT_NE(error_of([&] { inception_score(logits, 5, 3, 0); }).find("at least 1 split"), std::string::npos);
    EXPECT_NE(error_of([&] { inception_score(logits, 4, 3, 2); }).find("15 logits do not form 4 rows of 3"),
              std::string::npos);
    EXPECT_NE(error_of([&] { inception_score(logits, 5, 0, 1); }).find("at least 1 class"), std::string::npos);

    logits[3 * 3 + 1] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_NE(error_of([&] { inception_score(logits, 5, 3, 1); }).find("row 3, class 1 is not finite"),
              std::string::npos);
    std::vector<float> f(5 * 3, 0.f);
    f[2 * 3] = std::numeric_limits<float>::infinity();
    EXPECT_NE(error_of([&] { inception_score(f, 5, 3, 1); }).find("row 2, class 0 is not finite"),
              std::string::npos);
}
