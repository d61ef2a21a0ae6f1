#pragma once
// The Inception Score (Salimans et al. 2016) from classifier logits, computed as torch-fidelity's
// isc_features_to_metric does (in double precision):
//   p_i = softmax(logits_i); the N rows are cut into `splits` contiguous chunks
//   [k*N/splits, (k+1)*N/splits); per chunk IS_k = exp(mean_i KL(p_i || mean_chunk p));
//   result = mean and population std (numpy's np.std, ddof=0) of the IS_k.
// The logits are torch-fidelity's 'logits_unbiased' of its InceptionV3 (models/inception_v3.h).
//
// Difference from torch-fidelity: its default (samples_shuffle=True) first permutes the rows with
// numpy's RandomState(2020); we do not reproduce numpy's generator and keep the rows in the order
// given. The split assignment therefore differs, so the per-split scores and the std differ; the
// mean over splits (what papers report) differs only by how the rows happen to fall into splits.
// Shuffle the rows yourself beforehand if the generation order is correlated with content.
// Torch-free: plain row-major vectors in.
#include <cstdint>
#include <vector>

namespace syn::eval {

struct InceptionScore {
    double mean = 0;                  // mean of the per-split scores
    double std = 0;                   // population std over splits (ddof = 0, like np.std)
    std::vector<double> split_scores; // exp(mean KL) of each split, in order
    int64_t samples = 0;              // N
    int64_t classes = 0;              // C
    int splits = 0;
};

// torch-fidelity's default number of splits (isc_splits).
constexpr int kDefaultInceptionSplits = 10;

// `logits` is row-major [rows, classes]. Throws syn::Error for: classes < 1, splits < 1,
// rows < splits (a split would be empty), logits.size() != rows * classes, and a non-finite logit
// (the message names its row and column).
// A probability that underflows to exactly 0 contributes 0 to the KL sum (its limit); torch-fidelity
// would produce NaN there (0 * inf) only when a whole split gives a class probability 0.
InceptionScore inception_score(const std::vector<double>& logits, int64_t rows, int64_t classes,
                               int splits = kDefaultInceptionSplits);
InceptionScore inception_score(const std::vector<float>& logits, int64_t rows, int64_t classes,
                               int splits = kDefaultInceptionSplits);

}  // namespace syn::eval
