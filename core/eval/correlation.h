#pragma once
// Pearson and Spearman correlations. Spearman is Pearson on average ranks (ties share the mean of the
// ranks they span), which is the textbook definition and what scipy.stats.spearmanr computes.
// A correlation that is not defined (fewer than two pairs, a constant input) is returned as NaN
// together with the reason; it is never replaced by 0 or another number. Inputs of different length
// or holding NaN / infinity throw syn::Error: those are caller errors, not statistics.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace syn::eval {

enum class CorrelationKind { kPearson, kSpearman };
const char* to_string(CorrelationKind kind);  // "Pearson" / "Spearman"

struct Correlation {
    double value = std::numeric_limits<double>::quiet_NaN();
    std::size_t n = 0;
    std::string undefined_reason;  // empty when `value` is defined
    bool defined() const { return undefined_reason.empty(); }
};

Correlation pearson(const std::vector<double>& x, const std::vector<double>& y);
Correlation spearman(const std::vector<double>& x, const std::vector<double>& y);
Correlation correlation(CorrelationKind kind, const std::vector<double>& x, const std::vector<double>& y);

// 1-based ranks; tied values get the average of the ranks they occupy ([10, 20, 20, 30] -> [1, 2.5, 2.5, 4]).
std::vector<double> average_ranks(const std::vector<double>& values);

// Two-sided p-value of H0: rho = 0 with t = r sqrt((n-2)/(1-r^2)) on n-2 degrees of freedom
// (Student t from Boost.Math); for Spearman this is the same large-sample approximation scipy uses.
// NaN when r is NaN or n < 3.
double correlation_p_value(double r, std::size_t n);

// Fisher's r-to-z, atanh(r).
double fisher_z(double r);

// Throws syn::Error unless x and y have the same length and hold only finite numbers; `what` names
// the computation in the message.
void check_paired_inputs(const std::vector<double>& x, const std::vector<double>& y, const std::string& what);

}  // namespace syn::eval
