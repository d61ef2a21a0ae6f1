#include "core/eval/inception_score.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/io/errors.h"

namespace syn::eval {
namespace {

void check_arguments(size_t size, int64_t rows, int64_t classes, int splits) {
    if (classes < 1) throw Error("inception score: need at least 1 class, got " + std::to_string(classes));
    if (splits < 1) throw Error("inception score: need at least 1 split, got " + std::to_string(splits));
    if (rows < splits)
        throw Error("inception score: " + std::to_string(rows) + " samples cannot fill " + std::to_string(splits) +
                    " splits (need at least one sample per split)");
    if (static_cast<uint64_t>(rows) > size / static_cast<uint64_t>(classes) ||
        size != static_cast<size_t>(rows) * static_cast<size_t>(classes))
        throw Error("inception score: " + std::to_string(size) + " logits do not form " + std::to_string(rows) +
                    " rows of " + std::to_string(classes) + " classes");
}

// Softmax and log-softmax of one row (max-shifted, as torch does). Throws for a non-finite logit.
template <class T>
void softmax_row(const T* logits, int64_t row, int64_t classes, double* p, double* log_p) {
    double max = -INFINITY;
    for (int64_t j = 0; j < classes; ++j) {
        const double x = static_cast<double>(logits[j]);
        if (!std::isfinite(x))
            throw Error("inception score: logit of row " + std::to_string(row) + ", class " + std::to_string(j) +
                        " is not finite (" + std::to_string(x) + ")");
        max = std::max(max, x);
    }
    double sum = 0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(logits[j]) - max);
    const double log_sum = std::log(sum);
    for (int64_t j = 0; j < classes; ++j) {
        log_p[j] = static_cast<double>(logits[j]) - max - log_sum;
        p[j] = std::exp(log_p[j]);
    }
}

template <class T>
InceptionScore compute(const std::vector<T>& logits, int64_t rows, int64_t classes, int splits) {
    check_arguments(logits.size(), rows, classes, splits);
    const size_t c = static_cast<size_t>(classes);
    std::vector<double> p(static_cast<size_t>(rows) * c), log_p(p.size());
    for (int64_t i = 0; i < rows; ++i)
        softmax_row(logits.data() + i * classes, i, classes, p.data() + i * classes, log_p.data() + i * classes);

    InceptionScore out;
    out.samples = rows;
    out.classes = classes;
    out.splits = splits;
    std::vector<double> q(c), log_q(c);
    for (int k = 0; k < splits; ++k) {
        // torch-fidelity's bounds: [k * N // splits, (k + 1) * N // splits).
        const int64_t begin = k * rows / splits, end = (k + 1) * rows / splits;
        const double n = static_cast<double>(end - begin);
        std::fill(q.begin(), q.end(), 0.0);
        for (int64_t i = begin; i < end; ++i)
            for (size_t j = 0; j < c; ++j) q[j] += p[static_cast<size_t>(i) * c + j];
        for (size_t j = 0; j < c; ++j) {
            q[j] /= n;
            log_q[j] = std::log(q[j]);
        }
        double kl_sum = 0;
        for (int64_t i = begin; i < end; ++i) {
            double kl = 0;
            for (size_t j = 0; j < c; ++j) {
                const size_t ij = static_cast<size_t>(i) * c + j;
                if (p[ij] > 0) kl += p[ij] * (log_p[ij] - log_q[j]);  // 0 * log 0 := 0
            }
            kl_sum += kl;
        }
        out.split_scores.push_back(std::exp(kl_sum / n));
    }
    double sum = 0;
    for (double s : out.split_scores) sum += s;
    out.mean = sum / splits;
    double var = 0;
    for (double s : out.split_scores) var += (s - out.mean) * (s - out.mean);
    out.std = std::sqrt(var / splits);
    return out;
}

}  // namespace

InceptionScore inception_score(const std::vector<double>& logits, int64_t rows, int64_t classes, int splits) {
    return compute(logits, rows, classes, splits);
}

InceptionScore inception_score(const std::vector<float>& logits, int64_t rows, int64_t classes, int splits) {
    return compute(logits, rows, classes, splits);
}

}  // namespace syn::eval
