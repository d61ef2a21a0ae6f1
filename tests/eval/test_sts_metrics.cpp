#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

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

// --- The fast replicate engine against a straightforward reference --------------------------------
//
// The reference is the algorithm the engine replaced, written out plainly: each resample is drawn with
// resample_counts (the reproducibility contract), materialised, sorted to give mid-ranks, and each
// correlation is the count-weighted two-pass Pearson with four partial sums (the replicate definition).
// Every replicate statistic, interval bound, standard error and p-value must agree within 1e-12, and
// Spearman replicates bit for bit (they are exact integer arithmetic either way).
namespace {

double reference_weighted_pearson(const std::vector<double>& x, const std::vector<double>& y,
                                  const std::vector<std::uint32_t>& counts) {
    const std::size_t n = x.size();
    std::vector<double> w(counts.begin(), counts.end());
    std::size_t first = 0;
    while (first < n && w[first] == 0) ++first;
    if (first == n) return std::numeric_limits<double>::quiet_NaN();
    bool x_varies = false, y_varies = false;
    double t[4] = {0, 0, 0, 0}, sx[4] = {0, 0, 0, 0}, sy[4] = {0, 0, 0, 0};
    const std::size_t n4 = n - n % 4;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t lane = i < n4 ? i % 4 : 0;
        t[lane] += w[i];
        sx[lane] += w[i] * x[i];
        sy[lane] += w[i] * y[i];
        if (w[i] != 0 && x[i] != x[first]) x_varies = true;
        if (w[i] != 0 && y[i] != y[first]) y_varies = true;
    }
    if (!x_varies || !y_varies) return std::numeric_limits<double>::quiet_NaN();
    const double total = (t[0] + t[1]) + (t[2] + t[3]);
    const double mx = ((sx[0] + sx[1]) + (sx[2] + sx[3])) / total;
    const double my = ((sy[0] + sy[1]) + (sy[2] + sy[3])) / total;
    double sxx[4] = {0, 0, 0, 0}, syy[4] = {0, 0, 0, 0}, sxy[4] = {0, 0, 0, 0};
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t lane = i < n4 ? i % 4 : 0;
        const double dx = x[i] - mx, dy = y[i] - my;
        sxx[lane] += w[i] * dx * dx;
        syy[lane] += w[i] * dy * dy;
        sxy[lane] += w[i] * dx * dy;
    }
    const double vxx = (sxx[0] + sxx[1]) + (sxx[2] + sxx[3]);
    const double vyy = (syy[0] + syy[1]) + (syy[2] + syy[3]);
    const double vxy = (sxy[0] + sxy[1]) + (sxy[2] + sxy[3]);
    return std::clamp(vxy / std::sqrt(vxx * vyy), -1.0, 1.0);
}

// Mid-ranks within the resample by sorting the materialised draws: copies of pair i and pairs with
// equal values share the mean of the ranks they span. Returns the rank of each original pair.
std::vector<double> reference_resample_ranks(const std::vector<double>& values, const std::vector<std::uint32_t>& counts) {
    std::vector<std::pair<double, std::size_t>> draws;
    for (std::size_t i = 0; i < values.size(); ++i)
        for (std::uint32_t c = 0; c < counts[i]; ++c) draws.emplace_back(values[i], i);
    std::sort(draws.begin(), draws.end());
    std::vector<double> ranks(values.size(), 0.0);  // undrawn pairs: weight 0, value irrelevant
    for (std::size_t start = 0; start < draws.size();) {
        std::size_t end = start + 1;
        while (end < draws.size() && draws[end].first == draws[start].first) ++end;
        const double rank = 0.5 * static_cast<double>(start + 1 + end);
        for (std::size_t k = start; k < end; ++k) ranks[draws[k].second] = rank;
        start = end;
    }
    return ranks;
}

std::vector<double> reference_replicates(const std::vector<CorrelationSpec>& specs, const BootstrapOptions& options) {
    const std::size_t n = specs.front().x->size();
    std::vector<double> out;
    std::vector<std::uint32_t> counts;
    for (std::size_t r = 0; r < options.replicates; ++r) {
        resample_counts(n, options.seed, r, counts);
        for (const auto& s : specs) {
            if (s.kind == CorrelationKind::kPearson)
                out.push_back(reference_weighted_pearson(*s.x, *s.y, counts));
            else
                out.push_back(reference_weighted_pearson(reference_resample_ranks(*s.x, counts),
                                                         reference_resample_ranks(*s.y, counts), counts));
        }
    }
    return out;
}

// Within 1e-12, NaN only where the reference has NaN.
void expect_same(double fast, double reference, const std::string& what) {
    if (std::isnan(reference)) {
        EXPECT_TRUE(std::isnan(fast)) << what << ": " << fast << " where the reference is NaN";
    } else {
        EXPECT_NEAR(fast, reference, 1e-12) << what;
    }
}

bool same_bits(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same(const BootstrapInterval& fast, const BootstrapInterval& reference, const std::string& what) {
    expect_same(fast.estimate, reference.estimate, what + " estimate");
    expect_same(fast.lower, reference.lower, what + " lower");
    expect_same(fast.upper, reference.upper, what + " upper");
    expect_same(fast.standard_error, reference.standard_error, what + " standard error");
    EXPECT_EQ(fast.replicates, reference.replicates) << what;
    EXPECT_EQ(fast.undefined_replicates, reference.undefined_replicates) << what;
    EXPECT_EQ(fast.note, reference.note) << what;
}

struct Workload {
    std::vector<double> sts_l, sts_v;
    std::vector<std::string> methods;
    std::vector<std::vector<double>> encoders;
};

// n pairs (n mod 4 = 3, so the partial sums' tail is exercised): human scores on a 0..5 grid of
// steps of 0.2 (many ties), STS-V 0/1, three sampling methods of different sizes plus a tiny one with
// nearly constant human scores (some resamples are constant: undefined replicates). Encoders:
// continuous; rounded to 2 decimals (ties); small integers (heavy ties); a copy of the first (every
// paired difference exactly 0).
Workload make_workload(std::size_t n) {
    Workload w;
    std::mt19937_64 rng(2024);
    auto unit = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
    for (std::size_t i = 0; i < n; ++i) {
        const bool tiny = i % 401 == 7;  // 5 pairs
        const bool same = !tiny && unit() < 0.4;
        double human = same ? 2.0 + std::round(unit() * 15) / 5 : std::round(unit() * 25) / 5;
        if (tiny) human = i == 7 ? 1.0 : 3.0;
        w.sts_l.push_back(human);
        w.sts_v.push_back(same ? 1.0 : 0.0);
        w.methods.push_back(tiny ? "d_tiny" : same ? "a_same" : (i % 3 == 0 ? "b_other" : "c_other"));
    }
    w.encoders.resize(4);
    for (std::size_t i = 0; i < n; ++i) {
        const double h = w.sts_l[i] / 5;
        w.encoders[0].push_back(h + 0.3 * unit());
        w.encoders[1].push_back(std::round((h + 0.5 * unit()) * 100) / 100);
        w.encoders[2].push_back(std::floor(h * 4 + 2 * unit()));
    }
    w.encoders[3] = w.encoders[0];
    return w;
}

}  // namespace

TEST(StsMetricsEngine, ReplicatesEqualTheSortBasedReference) {
    const Workload w = make_workload(2003);
    const BootstrapOptions options{200, 77, 0.95, 2};
    std::vector<CorrelationSpec> specs;
    for (const auto& e : w.encoders)
        for (const auto* truth : {&w.sts_l, &w.sts_v})
            for (CorrelationKind kind : {CorrelationKind::kSpearman, CorrelationKind::kPearson}) {
                specs.push_back({&e, truth, kind});
                specs.push_back({truth, &e, kind});
            }
    specs.push_back({&w.encoders[1], &w.encoders[2], CorrelationKind::kSpearman});
    const std::vector<double> fast = bootstrap_correlation_replicates(specs, options);
    const std::vector<double> reference = reference_replicates(specs, options);
    ASSERT_EQ(fast.size(), reference.size());
    std::size_t spearman_bit_differences = 0;
    for (std::size_t i = 0; i < fast.size(); ++i) {
        expect_same(fast[i], reference[i], "replicate " + std::to_string(i / specs.size()) + ", spec " +
                                               std::to_string(i % specs.size()));
        if (specs[i % specs.size()].kind == CorrelationKind::kSpearman && !std::isnan(reference[i]) &&
            fast[i] != reference[i])
            ++spearman_bit_differences;
    }
    EXPECT_EQ(spearman_bit_differences, 0u);
    // Any thread count, the same numbers.
    EXPECT_EQ(bootstrap_correlation_replicates(specs, {200, 77, 0.95, 1}), fast);
    EXPECT_EQ(bootstrap_correlation_replicates(specs, {200, 77, 0.95, 3}), fast);
}

TEST(StsMetricsEngine, EveryIntervalAndPValueEqualsTheReference) {
    const Workload w = make_workload(2003);
    const BootstrapOptions options{200, 5, 0.9, 2};
    std::vector<const std::vector<double>*> scores;
    for (const auto& e : w.encoders) scores.push_back(&e);
    const StsMultiEvaluation fast = evaluate_sts_encoders(scores, w.sts_l, w.sts_v, w.methods, options, true);

    // The reference, group by group: the same groups as evaluate_sts ("all", then methods sorted).
    std::vector<std::pair<std::string, std::vector<std::size_t>>> groups{{"all", {}}};
    for (std::size_t i = 0; i < w.sts_l.size(); ++i) groups[0].second.push_back(i);
    for (const char* name : {"a_same", "b_other", "c_other", "d_tiny"}) {
        groups.push_back({name, {}});
        for (std::size_t i = 0; i < w.methods.size(); ++i)
            if (w.methods[i] == name) groups.back().second.push_back(i);
    }
    ASSERT_EQ(fast.encoders.size(), 4u);
    ASSERT_EQ(fast.comparisons.size(), 6u);
    std::size_t undefined_seen = 0, zero_differences_seen = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        auto take = [&](const std::vector<double>& v) {
            std::vector<double> out;
            for (std::size_t i : groups[g].second) out.push_back(v[i]);
            return out;
        };
        const std::vector<double> l = take(w.sts_l), v = take(w.sts_v);
        std::vector<std::vector<double>> s;
        for (const auto& e : w.encoders) s.push_back(take(e));
        const std::vector<double>* truths[2] = {&l, &v};
        const CorrelationKind kinds[2] = {CorrelationKind::kSpearman, CorrelationKind::kPearson};
        // Reference replicates of r(scores, truth) (evaluate_sts's order) and r(truth, scores) (compare's).
        std::vector<std::vector<double>> ref_eval(4 * s.size()), ref_compare(4 * s.size());
        for (std::size_t e = 0; e < s.size(); ++e)
            for (std::size_t f = 0; f < 4; ++f) {
                ref_eval[4 * e + f] = reference_replicates({{&s[e], truths[f / 2], kinds[f % 2]}}, options);
                ref_compare[4 * e + f] = reference_replicates({{truths[f / 2], &s[e], kinds[f % 2]}}, options);
            }
        for (std::size_t e = 0; e < s.size(); ++e) {
            const StsScores& got = g == 0 ? fast.encoders[e].all : fast.encoders[e].by_method.at(g - 1);
            EXPECT_EQ(got.group, groups[g].first);
            EXPECT_EQ(got.n, l.size());
            const CorrelationEstimate* fields[4] = {&got.spearman_l, &got.pearson_l, &got.spearman_v, &got.pearson_v};
            for (std::size_t f = 0; f < 4; ++f) {
                const CorrelationSpec spec{&s[e], truths[f / 2], kinds[f % 2]};
                const Correlation point = correlation(spec.kind, *spec.x, *spec.y);
                BootstrapInterval ci = percentile_interval(point.value, ref_eval[4 * e + f], options.level);
                if (!point.defined()) ci.note = "undefined on the full sample: " + point.undefined_reason;
                const std::string what = "encoder " + std::to_string(e) + " " + groups[g].first + " field " + std::to_string(f);
                expect_same(fields[f]->point.value, point.value, what + " point");
                EXPECT_EQ(fields[f]->point.undefined_reason, point.undefined_reason) << what;
                expect_same(fields[f]->ci, ci, what);
                undefined_seen += ci.undefined_replicates;
            }
        }
        for (const StsEncoderComparison& pair : fast.comparisons) {
            ASSERT_EQ(pair.rows.size(), 4 * groups.size());
            for (std::size_t f = 0; f < 4; ++f) {
                const StsComparisonRow& row = pair.rows[4 * g + f];
                const std::vector<double>& truth = *truths[f / 2];
                const CorrelationKind kind = kinds[f % 2];
                const std::string what = "comparison " + std::to_string(pair.a) + "-" + std::to_string(pair.b) + " " +
                                         groups[g].first + " row " + std::to_string(f);
                EXPECT_EQ(row.group, groups[g].first) << what;
                EXPECT_EQ(row.target, f / 2 == 0 ? "STS-L" : "STS-V") << what;
                EXPECT_EQ(row.comparison.kind, kind) << what;
                // compare_encoders as it was: both correlations on the same resamples.
                const Correlation a = correlation(kind, truth, s[pair.a]), b = correlation(kind, truth, s[pair.b]);
                const Correlation ab = correlation(kind, s[pair.a], s[pair.b]);
                const PairedBootstrap boot = paired_difference(a.value, b.value, ref_compare[4 * pair.a + f],
                                                               ref_compare[4 * pair.b + f], options.level);
                const DependentCorrelationTest par = dependent_correlation_test(a.value, b.value, ab.value, truth.size());
                const EncoderComparison& c = row.comparison;
                expect_same(c.a.value, a.value, what + " r_a");
                expect_same(c.b.value, b.value, what + " r_b");
                expect_same(c.a_vs_b.value, ab.value, what + " r_ab");
                expect_same(c.bootstrap.difference, boot.difference, what + " difference");
                expect_same(c.bootstrap.p_two_sided, boot.p_two_sided, what + " bootstrap p");
                expect_same(c.bootstrap.ci, boot.ci, what + " difference");
                expect_same(c.parametric.steiger_z, par.steiger_z, what + " Steiger z");
                expect_same(c.parametric.steiger_p, par.steiger_p, what + " Steiger p");
                expect_same(c.parametric.williams_t, par.williams_t, what + " Williams t");
                expect_same(c.parametric.williams_p, par.williams_p, what + " Williams p");
                EXPECT_EQ(c.parametric.undefined_reason, par.undefined_reason) << what;
                if (boot.difference == 0 && boot.ci.lower == 0 && boot.ci.upper == 0) ++zero_differences_seen;
            }
        }
    }
    // The workload reaches the corner cases it was built for.
    EXPECT_GT(undefined_seen, 0u);
    EXPECT_GT(zero_differences_seen, 0u);

    // The single-encoder and two-encoder calls give the same numbers as the batch, bit for bit.
    const StsEvaluation one = evaluate_sts(w.encoders[2], w.sts_l, w.sts_v, w.methods, options);
    EXPECT_EQ(one.all.spearman_l.ci.lower, fast.encoders[2].all.spearman_l.ci.lower);
    EXPECT_EQ(one.by_method.at(2).pearson_l.ci.upper, fast.encoders[2].by_method.at(2).pearson_l.ci.upper);
    EXPECT_EQ(one.by_method.at(3).spearman_l.ci.undefined_replicates,
              fast.encoders[2].by_method.at(3).spearman_l.ci.undefined_replicates);
    const auto rows = compare_encoders_sts(w.encoders[1], w.encoders[2], w.sts_l, w.sts_v, w.methods, options);
    const StsEncoderComparison& pair_12 = fast.comparisons[3];
    ASSERT_EQ(pair_12.a, 1u);
    ASSERT_EQ(pair_12.b, 2u);
    ASSERT_EQ(rows.size(), pair_12.rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_TRUE(same_bits(rows[i].comparison.bootstrap.ci.lower, pair_12.rows[i].comparison.bootstrap.ci.lower)) << i;
        EXPECT_TRUE(same_bits(rows[i].comparison.bootstrap.p_two_sided, pair_12.rows[i].comparison.bootstrap.p_two_sided))
            << i;
    }
    // Without compare_by_method (as the sts job asks), only the "all" rows.
    const StsMultiEvaluation overall = evaluate_sts_encoders(scores, w.sts_l, w.sts_v, w.methods, options);
    ASSERT_EQ(overall.comparisons[3].rows.size(), 4u);
    EXPECT_EQ(overall.comparisons[3].rows[1].comparison.bootstrap.ci.upper, pair_12.rows[1].comparison.bootstrap.ci.upper);
}

TEST(StsMetricsEngine, LargeSamplesAtAndAboveTheExactLimit) {
    // 200,000 pairs: the integer path at its limit (W^3 < 2^53); 200,001: the materialised path.
    for (std::size_t n : {200000u, 200001u}) {
        std::mt19937_64 rng(n);
        std::vector<double> human(n), scores(n);
        for (std::size_t i = 0; i < n; ++i) {
            human[i] = static_cast<double>(uniform_below(rng, 26)) / 5;
            scores[i] = human[i] + static_cast<double>(uniform_below(rng, 1000)) / 100;
        }
        const std::vector<CorrelationSpec> specs{{&scores, &human, CorrelationKind::kSpearman},
                                                 {&scores, &human, CorrelationKind::kPearson}};
        const BootstrapOptions options{2, 3, 0.95, 2};
        const std::vector<double> fast = bootstrap_correlation_replicates(specs, options);
        const std::vector<double> reference = reference_replicates(specs, options);
        ASSERT_EQ(fast.size(), reference.size());
        for (std::size_t i = 0; i < fast.size(); ++i) {
            EXPECT_NEAR(fast[i], reference[i], 1e-12) << n << " " << i;
            if (i % 2 == 0) EXPECT_EQ(fast[i], reference[i]) << n << " " << i;  // Spearman: exact
        }
    }
}
