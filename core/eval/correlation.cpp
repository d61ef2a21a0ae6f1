#include "core/eval/correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/eval/significance.h"
#include "core/io/errors.h"

namespace syn::eval {

const char* to_string(CorrelationKind kind) {
    return kind == CorrelationKind::kPearson ? "Pearson" : "Spearman";
}

void check_paired_inputs(const std::vector<double>& x, const std::vector<double>& y, const std::string& what) {
    if (x.size() != y.size())
        throw Error(what + ": the two inputs differ in length (" + std::to_string(x.size()) + " vs " +
                    std::to_string(y.size()) + ")");
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i])) throw Error(what + ": x[" + std::to_string(i) + "] is not a finite number");
        if (!std::isfinite(y[i])) throw Error(what + ": y[" + std::to_string(i) + "] is not a finite number");
    }
}

namespace {

bool is_constant(const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *lo == *hi;
}

}  // namespace

Correlation pearson(const std::vector<double>& x, const std::vector<double>& y) {
    check_paired_inputs(x, y, "Pearson correlation");
    Correlation result;
    result.n = x.size();
    if (x.size() < 2) {
        result.undefined_reason = "fewer than 2 pairs";
        return result;
    }
    // Exact test on the values: a two-pass variance of identical values can come out as a tiny
    // non-zero number (the mean is rounded), which would turn noise into a correlation.
    const bool x_const = is_constant(x), y_const = is_constant(y);
    if (x_const || y_const) {
        result.undefined_reason = x_const && y_const ? "both inputs are constant"
                                  : x_const          ? "x is constant (zero variance)"
                                                     : "y is constant (zero variance)";
        return result;
    }
    // Two passes (means, then centred sums): accurate for data far from zero, unlike the one-pass
    // sum-of-squares formula.
    const double n = static_cast<double>(x.size());
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
    double sxx = 0, syy = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    result.value = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
    return result;
}

std::vector<double> average_ranks(const std::vector<double>& values) {
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> ranks(values.size());
    for (std::size_t start = 0; start < order.size();) {
        std::size_t end = start + 1;
        while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
        // Positions start..end-1 hold ranks start+1..end; their mean is (start+1+end)/2.
        const double rank = 0.5 * static_cast<double>(start + 1 + end);
        for (std::size_t k = start; k < end; ++k) ranks[order[k]] = rank;
        start = end;
    }
    return ranks;
}

Correlation spearman(const std::vector<double>& x, const std::vector<double>& y) {
    check_paired_inputs(x, y, "Spearman correlation");
    return pearson(average_ranks(x), average_ranks(y));
}

Correlation correlation(CorrelationKind kind, const std::vector<double>& x, const std::vector<double>& y) {
    return kind == CorrelationKind::kPearson ? pearson(x, y) : spearman(x, y);
}

double correlation_p_value(double r, std::size_t n) {
    if (std::isnan(r) || n < 3) return std::numeric_limits<double>::quiet_NaN();
    if (std::abs(r) >= 1.0) return 0.0;
    const double df = static_cast<double>(n - 2);
    const double t = r * std::sqrt(df / (1.0 - r * r));
    return t_two_sided_p(t, df);  // the one t-test p-value (significance.cpp)
}

double fisher_z(double r) { return std::atanh(r); }

}  // namespace syn::eval
