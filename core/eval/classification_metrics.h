#pragma once
// Classification metrics of GLUE, with scikit-learn's definitions and degenerate cases: accuracy,
// binary F1 (positive class 1), Matthews correlation (multiclass form; 0 when undefined, as
// sklearn.metrics.matthews_corrcoef returns). STS-B uses Pearson / Spearman from correlation.h.
// Inputs of different length, empty inputs or negative class ids throw syn::Error.
#include <cstdint>
#include <vector>

namespace syn::eval {

// counts[t][p]: how many items of true class t were predicted as p. Sized to the largest class id + 1
// (at least `num_classes`).
std::vector<std::vector<int64_t>> confusion_matrix(const std::vector<int>& truth, const std::vector<int>& predicted,
                                                   int num_classes = 0);

double accuracy(const std::vector<int>& truth, const std::vector<int>& predicted);

struct BinaryCounts {
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
};
BinaryCounts binary_counts(const std::vector<int>& truth, const std::vector<int>& predicted, int positive = 1);

// 2 tp / (2 tp + fp + fn); 0 when there is no positive in either truth or prediction (sklearn's
// zero_division default). Labels other than 0 / `positive` are counted as negatives.
double f1_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive = 1);
double precision_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive = 1);
double recall_binary(const std::vector<int>& truth, const std::vector<int>& predicted, int positive = 1);

// Matthews correlation coefficient, Gorodkin's multiclass form as sklearn computes it from the
// confusion matrix; 0 when the denominator is 0 (one class only in truth or in prediction).
double matthews_corrcoef(const std::vector<int>& truth, const std::vector<int>& predicted);

}  // namespace syn::eval
