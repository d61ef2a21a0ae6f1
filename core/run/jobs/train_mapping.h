#pragma once
// Training the text-to-GPT prefix map (PAPER.md section 3): the text encoder and the GPT stay
// frozen; the images' code indices and the captions' embeddings are computed once beforehand (the
// caller caches them), and only the Linear + Dropout map learns to make the GPT, prompted by
// T(E(text)), predict the image's codes: mean cross-entropy over the codes, AdamW (lr 5e-4,
// betas 0.9 / 0.95), batch 64, 4 epochs, ReduceLROnPlateau on the epoch loss.
//
// Determinism and resumption: epoch e draws its sample order, caption choice, random-baseline
// vectors (CPU generator seeded with seed + e) and dropout (torch::manual_seed(seed + e)) afresh,
// so a run resumed from the state and optimizer saved at the end of epoch e continues exactly as
// the uninterrupted run would.
//
// Data-parallel (hooks.dist, distributed.h): every rank draws the same epoch (order, captions, and
// the random baseline's vectors for the whole global batch), takes its contiguous slice of each
// batch, weights its mean loss by its share and SUM-all-reduces the gradients: the steps and the
// reported (all-reduced) losses equal the single-process run's up to float rounding. Dropout masks
// differ per rank.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/run/progress.h"
#include "core/run/jobs/t2i_options.h"

namespace syn::models {
class MinGPT;
class PrefixMapping;
}  // namespace syn::models
namespace torch::optim {
class Optimizer;
}

namespace syn::run {

class DataParallel;

struct MappingData {
    at::Tensor codes;          // [I, L] int64 code indices of the images (L <= the GPT's block_size)
    at::Tensor text;           // [T, D] caption embeddings; undefined for the random baseline
    at::Tensor caption_image;  // [T] int64, the image of each caption; undefined: caption t is image t
    int64_t random_dim = 0;    // > 0: the random baseline, N(0, 1) vectors of this width instead of text
    // false: each epoch visits every image once with one of its captions drawn at random (the
    // MM-CelebA-HQ loaders' convention); true: every (image, caption) pair each epoch.
    bool all_captions = false;
};

struct MappingTrainHooks {
    const CancelToken* cancel = nullptr;  // checked before every step (Cancelled)
    ProgressSink progress;                // ("training", step, total steps)
    std::function<void(int64_t step, double loss)> on_step;
    // After every finished epoch, with the state to save and the optimizer (for its moments).
    std::function<void(const MappingTrainState&, const MappingTrainReport&, torch::optim::Optimizer&)> on_epoch_end;
    // Before the first step of a resumed run: load the saved optimizer state into `optimizer`.
    std::function<void(torch::optim::Optimizer&)> restore_optimizer;
    bool autocast = false;        // bfloat16 autocast of the forward pass (CUDA only)
    int64_t stop_after_epochs = 0;  // stop after this many epochs in this call (0: to the end)
    // Data-parallel over these processes (options.batch_size is the global batch, at least the world
    // size); nullptr: one process. on_epoch_end runs on every rank (the caller lets rank 0 write).
    DataParallel* dist = nullptr;
};

// Mean cross-entropy of the codes [B, L] under the prefix mapping(text) [B, D] (no side effects;
// keeps autograd for the mapping). The GPT input is [SOS, codes[:, :-1]].
at::Tensor mapping_loss(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                        const at::Tensor& codes, int64_t sos_token = 0);

// Samples per epoch: the images, or all captions with data.all_captions.
int64_t mapping_samples_per_epoch(const MappingData& data);

// Freezes the GPT (requires_grad off, eval mode), trains the mapping in place (train mode during,
// eval mode after) from `state` (a fresh start when state.epochs_done == 0; `state` and the
// returned report continue `previous`). Cancelled when the token is set: the mapping keeps the
// weights of the last finished step, `state` those of the last finished epoch.
MappingTrainReport train_mapping(models::PrefixMapping& mapping, models::MinGPT& gpt, const MappingData& data,
                                 const MappingTrainOptions& options, MappingTrainState& state,
                                 const MappingTrainReport& previous = {}, const MappingTrainHooks& hooks = {});

}  // namespace syn::run
