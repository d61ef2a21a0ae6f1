// The prefix-mapping trainer of the text-to-image probe.
#include "core/run/train_mapping.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/io/errors.h"
#include "models/mingpt.h"
#include "models/prefix_mapping.h"

namespace syn::run {

at::Tensor mapping_loss(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                        const at::Tensor& codes, int64_t sos_token) {
    auto targets = codes.to(gpt.device(), at::kLong);
    auto sos = at::full({targets.size(0), 1}, sos_token, targets.options());
    auto input = at::cat({sos, targets.narrow(1, 0, targets.size(1) - 1)}, 1);
    auto logits = gpt.forward_with_prefix(input, mapping.forward(text_embeddings.to(mapping.device())));
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}));
}

MappingTrainReport train_mapping(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                                 const at::Tensor& codes, const MappingTrainOptions& o, const CancelToken* cancel,
                                 const ProgressSink& progress) {
    if (!text_embeddings.defined() || text_embeddings.dim() != 2 || !codes.defined() || codes.dim() != 2 ||
        text_embeddings.size(0) != codes.size(0) || codes.size(0) == 0)
        throw Error("train-mapping: need text embeddings [N, D] and codes [N, L] for the same N > 0 samples");
    if (codes.size(1) < 1 || codes.size(1) > gpt.config().block_size)
        throw Error("train-mapping: " + std::to_string(codes.size(1)) + " codes per image, the GPT takes 1.." +
                    std::to_string(gpt.config().block_size));
    if (o.batch_size <= 0 || o.epochs <= 0 || !(o.learning_rate > 0.0))
        throw Error("train-mapping: batch_size, epochs and learning rate must be positive");

    for (auto& p : gpt.module().parameters()) p.set_requires_grad(false);  // the GPT stays frozen
    gpt.module().eval();
    mapping.module().train();
    torch::optim::AdamW optimizer(mapping.module().parameters(),
                                  torch::optim::AdamWOptions(o.learning_rate)
                                      .betas(std::make_tuple(o.beta1, o.beta2))
                                      .weight_decay(o.weight_decay));
    auto set_lr = [&](double lr) {
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    };

    const int64_t n = codes.size(0);
    const int64_t batches = (n + o.batch_size - 1) / o.batch_size;
    int64_t total = batches * o.epochs;
    if (o.max_steps > 0) total = std::min(total, o.max_steps);
    auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    torch::manual_seed(o.seed);  // dropout draws from the default generator

    MappingTrainReport report;
    double lr = o.learning_rate, best = INFINITY;
    int64_t bad_epochs = 0;
    for (int64_t epoch = 0; epoch < o.epochs && report.steps < total; ++epoch) {
        auto order = at::randperm(n, generator, at::TensorOptions().dtype(at::kLong));
        double sum = 0.0;
        int64_t count = 0;
        for (int64_t b = 0; b < batches && report.steps < total; ++b) {
            throw_if_cancelled(cancel, "training");
            auto rows = order.narrow(0, b * o.batch_size, std::min(o.batch_size, n - b * o.batch_size));
            optimizer.zero_grad();
            auto loss = mapping_loss(mapping, gpt, text_embeddings.index_select(0, rows), codes.index_select(0, rows),
                                     o.sos_token);
            loss.backward();
            optimizer.step();
            const double value = loss.item<double>();
            if (!std::isfinite(value)) throw Error("train-mapping: the loss became " + std::to_string(value) + " at step " +
                                                   std::to_string(report.steps + 1) + " (lower the learning rate?)");
            report.step_losses.push_back(value);
            sum += value;
            ++count;
            ++report.steps;
            if (progress) progress("training", report.steps, total);
        }
        const double epoch_loss = sum / double(count);
        report.epoch_losses.push_back(epoch_loss);
        // ReduceLROnPlateau(mode min, threshold_mode rel)
        if (epoch_loss < best * (1.0 - o.plateau_threshold)) {
            best = epoch_loss;
            bad_epochs = 0;
        } else if (++bad_epochs > o.plateau_patience) {
            lr *= o.plateau_factor;
            set_lr(lr);
            bad_epochs = 0;
        }
        report.learning_rates.push_back(lr);
    }
    mapping.module().eval();
    return report;
}

}  // namespace syn::run
