#include "core/eval/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/io/errors.h"

namespace syn::eval {
namespace {

void check_labels(const std::vector<int>& truth, const std::vector<int>& predicted, const char* what) {
    if (truth.size() != predicted.size())
        throw Error(std::string(what) + ": truth has " + std::to_string(truth.size()) + " labels, predictions " +
                    std::to_string(predicted.size()));
    if (truth.empty()) throw Error(std::string(what) + ": no labels");
    for (std::size_t i = 0; i < truth.size(); ++i)
        if (truth[i] < 0 || predicted[i] < 0)
            throw Error(std::string(what) + ": negative class id at item " + std::to_string(i));
}

}  // namespace

std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int>& truth, const std::vector<int>& predicted,
                                                   int num_classes) {
    check_labels(truth, predicted, "confusion matrix");
    int k = num_classes;
    for (std::size_t i = 0; i < truth.size(); ++i) k = std::max({k, truth[i] + 1, predicted[i] + 1});
    std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
    for (std::size_t i = 0; i < truth.size(); ++i) ++counts[truth[i]][predicted[i]];
    return counts;
}

double accuracy(const std::vector<int>& truth, const std::vector<int>& predicted) {
    check_labels(truth, predicted, "accuracy");
    std::size_t correct = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) correct += truth[i] == predicted[i];
    return double(correct) / double(truth.size());
}

BinaryCounts binary_counts(const std::vector<int>& truth, const std::vector<int>& predicted, int positive) {
    check_labels(truth, predicted, "binary counts");
    BinaryCounts c;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const bool t = truth[i] == positive, p = predicted[i] == positive;
        if (t && p) ++c.tp;
        else if (!t && p) ++c.fp;
        else if (t && !p) ++c.fn;
        else ++c.tn;
    }
    return c;
}

double f1_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive) {
    const BinaryCounts c = binary_counts(truth, predicted, positive);
    const int64_t denominator = 2 * c.tp + c.fp + c.fn;
    return denominator == 0 ? 0.0 : 2.0 * double(c.tp) / double(denominator);
}

double precision_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive) {
    const BinaryCounts c = binary_counts(truth, predicted, positive);
    return c.tp + c.fp == 0 ? 0.0 : double(c.tp) / double(c.tp + c.fp);
}

double recall_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive) {
    const BinaryCounts c = binary_counts(truth, predicted, positive);
    return c.tp + c.fn == 0 ? 0.0 : double(c.tp) / double(c.tp + c.fn);
}

double matthews_corrcoef(const std::vector<int>& truth, const std::vector<int>& predicted) {
    const auto counts = confusion_matrix(truth, predicted);
    const std::size_t k = counts.size();
    // Long double: with QQP's 40k items the products n^2 reach 1.6e9 per term, fine in double too,
    // but the differences below cancel; the extra precision costs nothing here.
    std::vector<long double> t_sum(k, 0), p_sum(k, 0);
    long double correct = 0, n = 0;
    for (std::size_t t = 0; t < k; ++t)
        for (std::size_t p = 0; p < k; ++p) {
            t_sum[t] += counts[t][p];
            p_sum[p] += counts[t][p];
            n += counts[t][p];
            if (t == p) correct += counts[t][p];
        }
    long double tp_dot = 0, pp_dot = 0, tt_dot = 0;
    for (std::size_t c = 0; c < k; ++c) {
        tp_dot += t_sum[c] * p_sum[c];
        pp_dot += p_sum[c] * p_sum[c];
        tt_dot += t_sum[c] * t_sum[c];
    }
    const long double cov_ytyp = correct * n - tp_dot;
    const long double cov_ypyp = n * n - pp_dot;
    const long double cov_ytyt = n * n - tt_dot;
    if (cov_ypyp * cov_ytyt == 0) return 0.0;
    return double(cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp));
}

}  // namespace syn::eval
