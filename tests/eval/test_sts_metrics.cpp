#include <gtest/gtest.h>

#include <cmath>

#include "core/eval/sts_metrics.h"
#include "core/io/errors.h"

using namespace syn::eval;

namespace {

struct Toy {
    std::vector<double> scores, other, sts_l, sts_v;
    std::vector<std::string> methods;
};

// Half same-image pairs (STS-V 1, high human scores), half different-image pairs.
Toy make_toy(std::size_t n) {
    Toy t;
    std::mt19937_64 rng(4);
    for (std::size_t i = 0; i < n; ++i) {
        const bool same = i % 2 == 0;
        const double human = same ? 3.0 + static_cast<double>(uniform_below(rng, 21)) / 10.0
                                  : static_cast<double>(uniform_below(rng, 31)) / 10.0;
        t.sts_l.push_back(human);
        t.sts_v.push_back(same ? 1.0 : 0.0);
        t.methods.push_back(same ? "c2c_cocaption" : "c2c_isim");
        t.scores.push_back(human / 5.0 + static_cast<double>(uniform_below(rng, 100)) / 250.0);
        t.other.push_back(human / 5.0 + static_cast<double>(uniform_below(rng, 100)) / 60.0);
    }
    return t;
}

}  // namespace

TEST(StsMetrics, AllNumbersWithIntervalsAndBreakdown) {
    const Toy t = make_toy(600);
    const BootstrapOptions options{300, 11, 0.95, 2};
    const StsEvaluation e = evaluate_sts(t.scores, t.sts_l, t.sts_v, t.methods, options);
    EXPECT_EQ(e.all.n, 600u);
    EXPECT_NEAR(e.all.spearman_l.point.value, spearman(t.scores, t.sts_l).value, 1e-15);
    EXPECT_NEAR(e.all.pearson_l.point.value, pearson(t.scores, t.sts_l).value, 1e-15);
    EXPECT_NEAR(e.all.spearman_v.point.value, spearman(t.scores, t.sts_v).value, 1e-15);
    EXPECT_NEAR(e.all.pearson_v.point.value, pearson(t.scores, t.sts_v).value, 1e-15);
    for (const CorrelationEstimate* c : {&e.all.spearman_l, &e.all.pearson_l, &e.all.spearman_v, &e.all.pearson_v}) {
        EXPECT_LE(c->ci.lower, c->point.value);
        EXPECT_GE(c->ci.upper, c->point.value);
    }
    ASSERT_EQ(e.by_method.size(), 2u);
    EXPECT_EQ(e.by_method[0].group, "c2c_cocaption");
    EXPECT_EQ(e.by_method[0].n, 300u);
    // Within one sampling method STS-V is constant: undefined, said so, never a number.
    EXPECT_FALSE(e.by_method[0].spearman_v.point.defined());
    EXPECT_TRUE(std::isnan(e.by_method[0].pearson_v.ci.lower));
    EXPECT_NE(e.by_method[0].pearson_v.ci.note.find("constant"), std::string::npos);
    EXPECT_TRUE(e.by_method[1].spearman_l.point.defined());
    // The group's numbers are the correlations over its rows only.
    std::vector<double> s, l;
    for (std::size_t i = 1; i < t.scores.size(); i += 2) {
        s.push_back(t.scores[i]);
        l.push_back(t.sts_l[i]);
    }
    EXPECT_NEAR(e.by_method[1].spearman_l.point.value, spearman(s, l).value, 1e-15);
}

TEST(StsMetrics, LengthMismatchThrows) {
    const Toy t = make_toy(10);
    std::vector<double> short_l(t.sts_l.begin(), t.sts_l.end() - 1);
    EXPECT_THROW(evaluate_sts(t.scores, short_l, t.sts_v, t.methods, {}), syn::Error);
    EXPECT_THROW(evaluate_sts(t.scores, t.sts_l, t.sts_v, {"x"}, {}), syn::Error);
}

TEST(StsMetrics, EncoderComparisonRows) {
    const Toy t = make_toy(400);
    const auto rows = compare_encoders_sts(t.scores, t.other, t.sts_l, t.sts_v, t.methods, {200, 3, 0.95, 2});
    ASSERT_EQ(rows.size(), 12u);  // 3 groups x 2 targets x 2 kinds
    EXPECT_EQ(rows[0].group, "all");
    EXPECT_EQ(rows[0].target, "STS-L");
    EXPECT_EQ(rows[0].comparison.kind, CorrelationKind::kSpearman);
    EXPECT_EQ(rows[3].target, "STS-V");
    EXPECT_EQ(rows[3].comparison.kind, CorrelationKind::kPearson);
    // `scores` has less noise than `other`: A beats B against the human scores.
    EXPECT_GT(rows[0].comparison.bootstrap.difference, 0);
    EXPECT_GT(rows[0].comparison.bootstrap.ci.lower, 0);
    // STS-V within c2c_cocaption is constant: the comparison is undefined, not a number.
    EXPECT_EQ(rows[6].group, "c2c_cocaption");
    EXPECT_EQ(rows[6].target, "STS-V");
    EXPECT_TRUE(std::isnan(rows[6].comparison.bootstrap.p_two_sided));
    EXPECT_FALSE(rows[6].comparison.parametric.undefined_reason.empty());
}
