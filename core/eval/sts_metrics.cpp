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

}  // namespace

StsEvaluation evaluate_sts(const std::vector<double>& model_scores, const std::vector<double>& sts_l,
                           const std::vector<double>& sts_v, const std::vector<std::string>& methods,
                           const BootstrapOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t n = model_scores.size();
    check_lengths(n, sts_l, "STS-L");
    check_lengths(n, sts_v, "STS-V");
    StsEvaluation out;
    out.options = options;
    for (const Group& group : make_groups(n, methods)) {
        const std::vector<double> s = take(model_scores, group.rows);
        const std::vector<double> l = take(sts_l, group.rows);
        const std::vector<double> v = take(sts_v, group.rows);
        const auto estimates = bootstrap_correlations({{&s, &l, CorrelationKind::kSpearman},
                                                       {&s, &l, CorrelationKind::kPearson},
                                                       {&s, &v, CorrelationKind::kSpearman},
                                                       {&s, &v, CorrelationKind::kPearson}},
                                                      options);
        StsScores scores;
        scores.group = group.name;
        scores.n = group.rows.size();
        scores.spearman_l = estimates[0];
        scores.pearson_l = estimates[1];
        scores.spearman_v = estimates[2];
        scores.pearson_v = estimates[3];
        if (group.name == "all")
            out.all = std::move(scores);
        else
            out.by_method.push_back(std::move(scores));
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
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
    std::vector<StsComparisonRow> rows;
    for (const Group& group : make_groups(n, methods)) {
        const std::vector<double> a = take(scores_a, group.rows);
        const std::vector<double> b = take(scores_b, group.rows);
        const std::vector<double> l = take(sts_l, group.rows);
        const std::vector<double> v = take(sts_v, group.rows);
        for (const auto& [target, truth] : {std::pair<const char*, const std::vector<double>*>{"STS-L", &l},
                                            std::pair<const char*, const std::vector<double>*>{"STS-V", &v}})
            for (CorrelationKind kind : {CorrelationKind::kSpearman, CorrelationKind::kPearson})
                rows.push_back({group.name, target, compare_encoders(*truth, a, b, kind, options)});
    }
    return rows;
}

}  // namespace syn::eval
