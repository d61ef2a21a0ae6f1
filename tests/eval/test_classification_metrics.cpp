// Metric values checked against hand-computed confusion matrices and scikit-learn's documented examples.
#include <gtest/gtest.h>

#include <cmath>

#include "core/eval/classification_metrics.h"
#include "core/io/errors.h"

using namespace syn::eval;

TEST(ClassificationMetrics, ConfusionMatrixCountsTruthByPrediction) {
    const auto c = confusion_matrix({0, 0, 1, 1, 2, 2, 2}, {0, 1, 1, 1, 2, 0, 2});
    const std::vector<std::vector<int64_t>> expected = {{1, 1, 0}, {0, 2, 0}, {1, 0, 2}};
    EXPECT_EQ(c, expected);
    EXPECT_EQ(confusion_matrix({0}, {0}, 3).size(), 3u);
}

TEST(ClassificationMetrics, Accuracy) {
    // sklearn: accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) = 0.5
    EXPECT_DOUBLE_EQ(accuracy({0, 1, 2, 3}, {0, 2, 1, 3}), 0.5);
    EXPECT_DOUBLE_EQ(accuracy({1, 1, 1}, {1, 1, 1}), 1.0);
}

TEST(ClassificationMetrics, MatthewsSklearnDocExample) {
    // sklearn: matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]) = -0.333...  (-1 written as 0)
    EXPECT_NEAR(matthews_corrcoef({1, 1, 1, 0}, {1, 0, 1, 1}), -1.0 / 3.0, 1e-12);
}

TEST(ClassificationMetrics, MatthewsBinaryMatchesTextbookFormula) {
    // tp 3, tn 4, fp 1, fn 2: (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn))
    std::vector<int> t = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    std::vector<int> p = {1, 1, 1, 0, 0, 0, 0, 0, 0, 1};
    const double expected = (3.0 * 4.0 - 1.0 * 2.0) / std::sqrt(4.0 * 5.0 * 5.0 * 6.0);
    EXPECT_NEAR(matthews_corrcoef(t, p), expected, 1e-12);
    EXPECT_NEAR(matthews_corrcoef(t, t), 1.0, 1e-12);
    std::vector<int> inverted;
    for (int v : t) inverted.push_back(1 - v);
    EXPECT_NEAR(matthews_corrcoef(t, inverted), -1.0, 1e-12);
}

TEST(ClassificationMetrics, MatthewsMulticlassHandComputed) {
    // C = [[1,1,0],[0,2,0],[1,0,2]]: c = 5, n = 7, t = (2,2,3), p = (2,3,2):
    // (5*7 - 16) / sqrt((49 - 17)(49 - 17)) = 19 / 32.
    EXPECT_NEAR(matthews_corrcoef({0, 0, 1, 1, 2, 2, 2}, {0, 1, 1, 1, 2, 0, 2}), 19.0 / 32.0, 1e-12);
}

TEST(ClassificationMetrics, MatthewsDegenerateCasesAreZeroAsInSklearn) {
    EXPECT_EQ(matthews_corrcoef({1, 1, 1}, {1, 0, 1}), 0.0);  // one class in truth
    EXPECT_EQ(matthews_corrcoef({1, 0, 1}, {0, 0, 0}), 0.0);  // one class predicted (CoLA's collapse)
    EXPECT_EQ(matthews_corrcoef({0}, {0}), 0.0);
}

TEST(ClassificationMetrics, F1SklearnDocExamples) {
    // sklearn: f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average=None) = [0.8, 0, 0]
    const std::vector<int> t = {0, 1, 2, 0, 1, 2}, p = {0, 2, 1, 0, 0, 1};
    EXPECT_NEAR(f1_binary(t, p, 0), 0.8, 1e-12);
    EXPECT_EQ(f1_binary(t, p, 1), 0.0);
    EXPECT_EQ(f1_binary(t, p, 2), 0.0);
    // sklearn: f1_score([0,0,0,0,0,0], [0,0,0,0,0,0]) = 0.0 (zero_division: no positives anywhere)
    EXPECT_EQ(f1_binary({0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}), 0.0);
    // sklearn: f1_score([1,1,1], [1,1,1]) = 1.0... and a hand example: tp 2, fp 1, fn 1 -> 4 / 6
    EXPECT_EQ(f1_binary({1, 1, 1}, {1, 1, 1}), 1.0);
    EXPECT_NEAR(f1_binary({1, 1, 1, 0}, {1, 1, 0, 1}), 4.0 / 6.0, 1e-12);
    EXPECT_NEAR(precision_binary({1, 1, 1, 0}, {1, 1, 0, 0}), 1.0, 1e-12);
    EXPECT_NEAR(recall_binary({1, 1, 1, 0}, {1, 1, 0, 0}), 2.0 / 3.0, 1e-12);
}

TEST(ClassificationMetrics, BadInputThrows) {
    EXPECT_THROW(accuracy({0, 1}, {0}), syn::Error);
    EXPECT_THROW(accuracy({}, {}), syn::Error);
    EXPECT_THROW(f1_binary({0, -1}, {0, 1}), syn::Error);
    EXPECT_THROW(matthews_corrcoef({0, 1, 1}, {1, 1}), syn::Error);
}
