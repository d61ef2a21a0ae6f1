#pragma once
// Training the text-to-GPT prefix map (PAPER.md section 3): the text encoder and the GPT stay
// frozen; the images' code indices and the captions' embeddings are computed once beforehand (the
// caller caches them), and only the Linear + Dropout map learns to make the GPT, prompted by
// T(E(text)), predict the image's codes: mean cross-entropy over the codes, AdamW (lr 5e-4,
// betas 0.9 / 0.95), batch 64, 4 epochs, ReduceLROnPlateau on the epoch loss.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/run/progress.h"

namespace syn::models {
class MinGPT;
class PrefixMapping;
}  // namespace syn::models

namespace syn::run {

struct MappingTrainOptions {
    double learning_rate = 5e-4;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double weight_decay = 0.01;  // torch.optim.AdamW's default
    int64_t batch_size = 64;
    int64_t epochs = 4;
    int64_t max_steps = 0;       // 0: no limit (tests and quick runs stop early)
    int64_t sos_token = 0;
    uint64_t seed = 0;           // shuffling and dropout
    // ReduceLROnPlateau (torch defaults): lr *= factor after `patience` epochs without improving the
    // best epoch loss by a relative `threshold`.
    double plateau_factor = 0.1;
    int64_t plateau_patience = 10;
    double plateau_threshold = 1e-4;
};

struct MappingTrainReport {
    std::vector<double> step_losses;   // one per optimiser step (the loss curve)
    std::vector<double> epoch_losses;  // mean over each finished epoch
    std::vector<double> learning_rates;  // per epoch, after the plateau rule
    int64_t steps = 0;
};

// Mean cross-entropy of the codes [B, L] under the prefix mapping(text) [B, D] (no side effects;
// keeps autograd for the mapping). The GPT input is [SOS, codes[:, :-1]].
at::Tensor mapping_loss(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                        const at::Tensor& codes, int64_t sos_token = 0);

// text_embeddings [N, D] float, codes [N, L] int64 (L <= the GPT's block_size). Freezes the GPT's
// parameters (requires_grad off), trains the mapping in place (train mode during, eval mode after).
// Progress ("training", step, total steps); Cancelled when the token is set (the mapping keeps the
// weights of the last finished step).
MappingTrainReport train_mapping(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                                 const at::Tensor& codes, const MappingTrainOptions& options,
                                 const CancelToken* cancel = nullptr, const ProgressSink& progress = {});

}  // namespace syn::run
