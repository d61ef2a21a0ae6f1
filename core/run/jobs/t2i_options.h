#pragma once
// Plain option and report structs of the text-to-image probe (no torch types): shared by the
// sampler (generate.h), the trainer (train_mapping.h), the jobs (t2i_job.h) and the GUI.
#include <cstdint>
#include <vector>

namespace syn::run {

struct SamplingOptions {
    int64_t num_tokens = 256;  // codes per image (16 x 16 for celebahq); at most the GPT's block_size
    double temperature = 1.0;  // 0: greedy (argmax)
    int64_t top_k = 0;         // 0: off (the study samples with top-k 250)
    double top_p = 1.0;        // 1: off (nucleus sampling otherwise)
    int64_t sos_token = 0;     // Net2NetTransformer's SOS
};

struct MappingTrainOptions {
    double learning_rate = 5e-4;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double weight_decay = 0.01;  // torch.optim.AdamW's default
    int64_t batch_size = 64;
    int64_t epochs = 4;
    int64_t max_steps = 0;       // 0: no limit (tests and quick runs stop early)
    int64_t sos_token = 0;
    uint64_t seed = 0;           // shuffling and dropout (epoch e draws from seed + e)
    // ReduceLROnPlateau (torch defaults): lr *= factor after `patience` epochs without improving the
    // best epoch loss by a relative `threshold`.
    double plateau_factor = 0.1;
    int64_t plateau_patience = 10;
    double plateau_threshold = 1e-4;
};

// Where training stands after a finished epoch: what a checkpoint stores so that a resumed run
// continues exactly as an uninterrupted one.
struct MappingTrainState {
    int64_t epochs_done = 0;
    int64_t steps = 0;
    double learning_rate = 0.0;  // 0: the options' learning rate
    double best_epoch_loss = 0.0;  // meaningful when epochs_done > 0
    int64_t bad_epochs = 0;
};

struct MappingTrainReport {
    std::vector<double> step_losses;     // one per optimiser step (the loss curve)
    std::vector<double> epoch_losses;    // mean over each finished epoch
    std::vector<double> learning_rates;  // per epoch, after the plateau rule
    int64_t steps = 0;
};

}  // namespace syn::run
