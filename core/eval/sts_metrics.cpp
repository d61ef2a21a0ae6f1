#include "core/eval/sts_metrics.h"

#include <chrono>
#include <map>

#include "core/io/errors.h"

namespace syn::eval {

namespace {

struct Group {
    std::string name;
    std::vector<std::size_t> rows;
};

// "all" first, then each sampling_method (std::map keeps them sorted).
std::vector<Group> make_groups(std::size_t n, const std::vector<std::string>& methods) {
    if (!methods.empty() && methods.size() != n)
        throw Error("STS evaluation: " + std::to_string(methods.size()) + " sampling methods for " +
                    std::to_string(n) + " pairs");
    std::vector<Group> groups(1);
    groups[0].name = "all";
    groups[0].rows.resize(n);
    for (std::size_t i = 0; i < n; ++i) groups[0].rows[i] = i;
    std::map<std::string, std::vector<std::size_t>> by_method;
    for (std::size_t i = 0; i < methods.size(); ++i) by_method[methods[i]].push_back(i);
    for (auto& [name, rows] : by_method) groups.push_back({name, std::move(rows)});
    return groups;
}

std::vector<double> take(const std::vector<double>& v, const std::vector<std::size_t>& rows) {
    std::vector<double> out;
    out.reserve(rows.size());
    for (std::size_t i : rows) out.push_back(v[i]);
    return out;
}

void check_lengths(std::size_t n, const std::vector<double>& v, const char* what) {
    if (v.size() != n)
        throw Error(std::string("STS evaluation: ") + what + " has " + std::to_string(v.size()) + " values for " +
                    std::to_string(n) + " pairs");
}

// Everything evaluate_sts, compare_encoders_sts and evaluate_sts_encoders compute, from one call of
// bootstrap_correlation_replicates per group. evaluate: the four estimates of every encoder per group;
// compare: the paired comparisons of every two encoders ("all" only, or per group too).
struct Computation {
    bool evaluate = true;
    bool compare = false;
    bool compare_by_method = false;
};

StsMultiEvaluation compute(const std::vector<const std::vector<double>*>& scores, const std::vector<double>& sts_l,
                           const std::vector<double>& sts_v, const std::vector<std::string>& methods,
                           const BootstrapOptions& options, const Computation& what) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t m = scores.size();
    StsMultiEvaluation out;
    out.encoders.resize(what.evaluate ? m : 0);
    for (auto& e : out.encoders) e.options = options;
    if (what.compare)
        for (std::size_t a = 0; a < m; ++a)
            for (std::size_t b = a + 1; b < m; ++b) out.comparisons.push_back({a, b, {}});

    const CorrelationKind kinds[2] = {CorrelationKind::kSpearman, CorrelationKind::kPearson};
    for (const Group& group : make_groups(sts_l.size(), methods)) {
        const bool compare_here = what.compare && (group.name == "all" || what.compare_by_method);
        if (!what.evaluate && !compare_here) continue;
        const std::vector<double> l = take(sts_l, group.rows);
        const std::vector<double> v = take(sts_v, group.rows);
        const std::vector<double>* truths[2] = {&l, &v};
        std::vector<std::vector<double>> s(m);
        for (std::size_t e = 0; e < m; ++e) s[e] = take(*scores[e], group.rows);

        // The specs, in the order of the calls they stand for (the first one with invalid input names
        // it, as that call would).
        std::vector<CorrelationSpec> specs;
        std::vector<std::size_t> eval_first(m), compare_first(m);
        if (what.evaluate)
            for (std::size_t e = 0; e < m; ++e) {
                eval_first[e] = specs.size();  // + 2 target + kind: STS-L Sp, STS-L P, STS-V Sp, STS-V P
                for (const auto* truth : truths)
                    for (CorrelationKind kind : kinds) specs.push_back({&s[e], truth, kind});
            }
        if (compare_here)
            for (std::size_t e = 0; e < m; ++e) {
                compare_first[e] = specs.size();  // r(truth, scores), the order compare_encoders uses
                for (const auto* truth : truths)
                    for (CorrelationKind kind : kinds) specs.push_back({truth, &s[e], kind});
            }
        const std::vector<double> replicates = bootstrap_correlation_replicates(specs, options);
        const std::size_t k = specs.size();
        auto replicate_values = [&](std::size_t spec) {
            std::vector<double> values(options.replicates);
            for (std::size_t r = 0; r < options.replicates; ++r) values[r] = replicates[r * k + spec];
            return values;
        };

        // Estimates on the group itself; Spearman as spearman() computes it, from ranks kept per column.
        std::map<const std::vector<double>*, std::vector<double>> ranks;
        auto ranks_of = [&](const std::vector<double>* column) -> const std::vector<double>& {
            auto it = ranks.find(column);
            if (it == ranks.end()) it = ranks.emplace(column, average_ranks(*column)).first;
            return it->second;
        };
        auto estimate = [&](CorrelationKind kind, const std::vector<double>* x, const std::vector<double>* y) {
            return kind == CorrelationKind::kPearson ? pearson(*x, *y) : pearson(ranks_of(x), ranks_of(y));
        };

        if (what.evaluate)
            for (std::size_t e = 0; e < m; ++e) {
                StsScores scores_e;
                scores_e.group = group.name;
                scores_e.n = group.rows.size();
                CorrelationEstimate* fields[4] = {&scores_e.spearman_l, &scores_e.pearson_l, &scores_e.spearman_v,
                                                  &scores_e.pearson_v};
                for (std::size_t f = 0; f < 4; ++f) {
                    const CorrelationSpec& spec = specs[eval_first[e] + f];
                    CorrelationEstimate& est = *fields[f];
                    est.point = estimate(spec.kind, spec.x, spec.y);
                    est.ci = percentile_interval(est.point.value, replicate_values(eval_first[e] + f), options.level);
                    if (!est.point.defined()) est.ci.note = "undefined on the full sample: " + est.point.undefined_reason;
                }
                if (group.name == "all")
                    out.encoders[e].all = std::move(scores_e);
                else
                    out.encoders[e].by_method.push_back(std::move(scores_e));
            }

        if (compare_here) {
            // r(truth, scores_e) per encoder, target and kind, and their replicates, computed once.
            std::vector<Correlation> vs_truth(m * 4);
            std::vector<std::vector<double>> truth_replicates(m * 4);
            for (std::size_t e = 0; e < m; ++e)
                for (std::size_t f = 0; f < 4; ++f) {
                    const CorrelationSpec& spec = specs[compare_first[e] + f];
                    vs_truth[e * 4 + f] = estimate(spec.kind, spec.x, spec.y);
                    truth_replicates[e * 4 + f] = replicate_values(compare_first[e] + f);
                }
            for (StsEncoderComparison& pair : out.comparisons) {
                const std::size_t a = pair.a, b = pair.b;
                for (std::size_t t = 0; t < 2; ++t)
                    for (std::size_t kk = 0; kk < 2; ++kk) {
                        const std::size_t f = 2 * t + kk;
                        EncoderComparison c;
                        c.kind = kinds[kk];
                        c.a = vs_truth[a * 4 + f];
                        c.b = vs_truth[b * 4 + f];
                        c.a_vs_b = estimate(c.kind, &s[a], &s[b]);
                        c.parametric = dependent_correlation_test(c.a.value, c.b.value, c.a_vs_b.value, group.rows.size());
                        c.bootstrap = paired_difference(c.a.value, c.b.value, truth_replicates[a * 4 + f],
                                                        truth_replicates[b * 4 + f], options.level);
                        pair.rows.push_back({group.name, t == 0 ? "STS-L" : "STS-V", std::move(c)});
                    }
            }
        }
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto& e : out.encoders) e.seconds = out.seconds;
    return out;
}

}  // namespace

StsEvaluation evaluate_sts(const std::vector<double>& model_scores, const std::vector<double>& sts_l,
                           const std::vector<double>& sts_v, const std::vector<std::string>& methods,
                           const BootstrapOptions& options) {
    const std::size_t n = model_scores.size();
    check_lengths(n, sts_l, "STS-L");
    check_lengths(n, sts_v, "STS-V");
    return std::move(compute({&model_scores}, sts_l, sts_v, methods, options, {true, false, false}).encoders.front());
}

std::vector<StsComparisonRow> compare_encoders_sts(const std::vector<double>& scores_a,
                                                   const std::vector<double>& scores_b,
                                                   const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                                                   const std::vector<std::string>& methods,
                                                   const BootstrapOptions& options) {
    const std::size_t n = scores_a.size();
    check_lengths(n, scores_b, "encoder B's scores");
    check_lengths(n, sts_l, "STS-L");
    check_lengths(n, sts_v, "STS-V");
    return std::move(compute({&scores_a, &scores_b}, sts_l, sts_v, methods, options, {false, true, true})
                         .comparisons.front()
                         .rows);
}

StsMultiEvaluation evaluate_sts_encoders(const std::vector<const std::vector<double>*>& scores,
                                         const std::vector<double>& sts_l, const std::vector<double>& sts_v,
                                         const std::vector<std::string>& methods, const BootstrapOptions& options,
                                         bool compare_by_method) {
    if (scores.empty()) throw Error("STS evaluation: no encoder scores");
    const std::size_t n = sts_l.size();
    check_lengths(n, sts_v, "STS-V");
    for (std::size_t e = 0; e < scores.size(); ++e) {
        if (!scores[e]) throw Error("STS evaluation: encoder " + std::to_string(e) + " has no scores");
        check_lengths(n, *scores[e], ("encoder " + std::to_string(e) + "'s scores").c_str());
    }
    return compute(scores, sts_l, sts_v, methods, options, {true, true, compare_by_method});
}

}  // namespace syn::eval
