// The prefix-mapping trainer of the text-to-image probe.
#include "core/run/jobs/train_mapping.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/io/errors.h"
#include "core/io/torch/autocast.h"
#include "core/run/distributed.h"
#include "models/mingpt.h"
#include "models/prefix_mapping.h"

namespace syn::run {

namespace {

// The captions of each image as CSR arrays, so one can be drawn per image per epoch.
struct CaptionIndex {
    std::vector<int64_t> first, count, captions;  // per image: captions[first[i] .. first[i] + count[i])
    std::vector<int64_t> captioned_images;        // images with at least one caption, ascending
};

CaptionIndex index_captions(const MappingData& d) {
    const int64_t images = d.codes.size(0);
    CaptionIndex x;
    x.first.assign(images, 0);
    x.count.assign(images, 0);
    if (!d.caption_image.defined()) {  // caption t is image t (or the random baseline: no captions at all)
        x.captions.resize(images);
        for (int64_t i = 0; i < images; ++i) x.first[i] = i, x.count[i] = 1, x.captions[i] = i;
    } else {
        auto owner = d.caption_image.to(at::kCPU, at::kLong).contiguous();
        const int64_t* o = owner.data_ptr<int64_t>();
        for (int64_t t = 0; t < owner.numel(); ++t) ++x.count[o[t]];
        for (int64_t i = 1; i < images; ++i) x.first[i] = x.first[i - 1] + x.count[i - 1];
        std::vector<int64_t> fill = x.first;
        x.captions.resize(owner.numel());
        for (int64_t t = 0; t < owner.numel(); ++t) x.captions[fill[o[t]]++] = t;
    }
    for (int64_t i = 0; i < images; ++i)
        if (x.count[i] > 0) x.captioned_images.push_back(i);
    return x;
}

void check_data(const MappingData& d, const models::MinGPT& gpt, const models::PrefixMapping& mapping) {
    if (!d.codes.defined() || d.codes.dim() != 2 || d.codes.size(0) == 0)
        throw Error("train-mapping: need the images' codes [N, L] for N > 0 images");
    if (d.codes.size(1) < 1 || d.codes.size(1) > gpt.config().block_size)
        throw Error("train-mapping: " + std::to_string(d.codes.size(1)) + " codes per image, the GPT takes 1.." +
                    std::to_string(gpt.config().block_size));
    const bool random = d.random_dim > 0;
    const int64_t width = random ? d.random_dim : (d.text.defined() && d.text.dim() == 2 ? d.text.size(1) : -1);
    if (!random && width < 0) throw Error("train-mapping: need text embeddings [T, D] (or the random baseline)");
    if (width != mapping.text_dim())
        throw Error("train-mapping: text vectors are " + std::to_string(width) + " wide, the mapping takes " +
                    std::to_string(mapping.text_dim()));
    if (d.caption_image.defined()) {
        if (random) throw Error("train-mapping: the random baseline takes no captions");
        if (d.caption_image.dim() != 1 || d.caption_image.size(0) != d.text.size(0))
            throw Error("train-mapping: caption_image must give one image per caption");
        if (d.caption_image.numel() > 0 &&
            (d.caption_image.min().item<int64_t>() < 0 || d.caption_image.max().item<int64_t>() >= d.codes.size(0)))
            throw Error("train-mapping: caption_image names an image outside 0.." + std::to_string(d.codes.size(0) - 1));
    } else if (!random && d.text.size(0) != d.codes.size(0)) {
        throw Error("train-mapping: " + std::to_string(d.text.size(0)) + " text vectors for " +
                    std::to_string(d.codes.size(0)) + " images (give caption_image when they differ)");
    }
}

}  // namespace

at::Tensor mapping_loss(models::PrefixMapping& mapping, models::MinGPT& gpt, const at::Tensor& text_embeddings,
                        const at::Tensor& codes, int64_t sos_token) {
    auto targets = codes.to(gpt.device(), at::kLong);
    auto sos = at::full({targets.size(0), 1}, sos_token, targets.options());
    auto input = at::cat({sos, targets.narrow(1, 0, targets.size(1) - 1)}, 1);
    auto logits = gpt.forward_with_prefix(input, mapping.forward(text_embeddings.to(mapping.device())));
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kFloat), targets.reshape({-1}));
}

int64_t mapping_samples_per_epoch(const MappingData& d) {
    if (d.all_captions && d.caption_image.defined()) return d.caption_image.size(0);
    return static_cast<int64_t>(index_captions(d).captioned_images.size());
}

MappingTrainReport train_mapping(models::PrefixMapping& mapping, models::MinGPT& gpt, const MappingData& data,
                                 const MappingTrainOptions& o, MappingTrainState& state,
                                 const MappingTrainReport& previous, const MappingTrainHooks& hooks) {
    check_data(data, gpt, mapping);
    if (o.batch_size <= 0 || o.epochs <= 0 || !(o.learning_rate > 0.0))
        throw Error("train-mapping: batch_size, epochs and learning rate must be positive");
    DataParallel* const dist = hooks.dist;
    if (dist) dist->require_batch_for_world(o.batch_size, "train-mapping");
    const CaptionIndex captions = index_captions(data);
    const int64_t samples = mapping_samples_per_epoch(data);
    if (samples == 0) throw Error("train-mapping: no image has a caption");

    for (auto& p : gpt.module().parameters()) p.set_requires_grad(false);  // the GPT stays frozen
    gpt.module().eval();
    mapping.module().train();
    torch::optim::AdamW optimizer(mapping.module().parameters(),
                                  torch::optim::AdamWOptions(o.learning_rate)
                                      .betas(std::make_tuple(o.beta1, o.beta2))
                                      .weight_decay(o.weight_decay));
    if (state.epochs_done > 0 && hooks.restore_optimizer) hooks.restore_optimizer(optimizer);
    if (dist) dist->broadcast_parameters(mapping.module().parameters());  // identical replicas to start from
    double lr = state.learning_rate > 0.0 ? state.learning_rate : o.learning_rate;
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

    const int64_t batches = (samples + o.batch_size - 1) / o.batch_size;
    int64_t total = batches * o.epochs;
    if (o.max_steps > 0) total = std::min(total, o.max_steps);
    const auto long_cpu = at::TensorOptions().dtype(at::kLong);

    MappingTrainReport report = previous;
    double best = state.epochs_done > 0 ? state.best_epoch_loss : INFINITY;
    int64_t epochs_this_call = 0;
    for (int64_t epoch = state.epochs_done; epoch < o.epochs && state.steps < total; ++epoch) {
        if (hooks.stop_after_epochs > 0 && epochs_this_call == hooks.stop_after_epochs) break;
        auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed + static_cast<uint64_t>(epoch));
        torch::manual_seed(o.seed + static_cast<uint64_t>(epoch));  // dropout draws from the default generator
        // This epoch's samples as (caption row, image row) pairs.
        at::Tensor caption_rows, image_rows;
        if (data.all_captions && data.caption_image.defined()) {
            caption_rows = at::randperm(samples, generator, long_cpu);
            image_rows = data.caption_image.to(at::kCPU, at::kLong).index_select(0, caption_rows);
        } else {
            auto pick = at::randperm(samples, generator, long_cpu);
            auto u = at::rand({samples}, generator, at::TensorOptions().dtype(at::kDouble));
            image_rows = at::empty({samples}, long_cpu);
            caption_rows = at::empty({samples}, long_cpu);
            for (int64_t s = 0; s < samples; ++s) {
                const int64_t image = captions.captioned_images[pick[s].item<int64_t>()];
                const int64_t k = std::min<int64_t>(captions.count[image] - 1,
                                                    static_cast<int64_t>(u[s].item<double>() * captions.count[image]));
                image_rows[s] = image;
                caption_rows[s] = captions.captions[captions.first[image] + k];
            }
        }
        double sum = 0.0;
        int64_t count = 0;
        bool agreed_cancel = false;  // distributed: every rank stops at the same step
        for (int64_t b = 0; b < batches && state.steps < total; ++b) {
            if (dist) {
                if (agreed_cancel) throw Cancelled{"training"};
            } else {
                throw_if_cancelled(hooks.cancel, "training");
            }
            const int64_t begin = b * o.batch_size, size = std::min(o.batch_size, samples - begin);
            // The random baseline draws the whole global batch on every rank (the generator stays in
            // step with the single-process run); each rank then takes its slice [lo, hi).
            at::Tensor random_text = data.random_dim > 0
                                         ? at::randn({size, data.random_dim}, generator, at::TensorOptions().dtype(at::kFloat))
                                         : at::Tensor();
            const auto [lo, hi] = dist ? rank_slice(size, dist->rank(), dist->world_size()) : std::pair<int64_t, int64_t>(0, size);
            optimizer.zero_grad();
            double value = 0.0;
            if (hi > lo) {
                at::Tensor text = data.random_dim > 0
                                      ? random_text.narrow(0, lo, hi - lo)
                                      : data.text.index_select(0, caption_rows.narrow(0, begin + lo, hi - lo).to(data.text.device()));
                auto codes = data.codes.index_select(0, image_rows.narrow(0, begin + lo, hi - lo).to(data.codes.device()));
                at::Tensor loss;
                {
                    compat::CudaAutocast autocast(hooks.autocast);
                    loss = mapping_loss(mapping, gpt, text, codes, o.sos_token);
                }
                // The mean over the slice weighted by its share: the ranks' sum is the batch mean.
                if (dist) loss = loss * (double(hi - lo) / double(size));
                loss.backward();
                value = loss.item<double>();
            }
            if (dist) {
                dist->allreduce_gradients(mapping.module().parameters());
                const auto v = dist->allreduce_sum({value, hooks.cancel && hooks.cancel->cancelled() ? 1.0 : 0.0});
                value = v[0];
                agreed_cancel = v[1] > 0;
            }
            optimizer.step();
            if (!std::isfinite(value))
                throw Error("train-mapping: the loss became " + std::to_string(value) + " at step " +
                            std::to_string(state.steps + 1) + " (lower the learning rate?)");
            report.step_losses.push_back(value);
            sum += value;
            ++count;
            ++state.steps;
            report.steps = state.steps;
            if (hooks.on_step) hooks.on_step(state.steps, value);
            if (hooks.progress) hooks.progress({Stage::training, "", state.steps, total});
        }
        const double epoch_loss = sum / double(count);
        report.epoch_losses.push_back(epoch_loss);
        // ReduceLROnPlateau(mode min, threshold_mode rel), stepped once per epoch on the epoch loss.
        if (epoch_loss < best * (1.0 - o.plateau_threshold)) {
            best = epoch_loss;
            state.bad_epochs = 0;
        } else if (++state.bad_epochs > o.plateau_patience) {
            lr *= o.plateau_factor;
            for (auto& group : optimizer.param_groups())
                static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
            state.bad_epochs = 0;
        }
        report.learning_rates.push_back(lr);
        state.epochs_done = epoch + 1;
        state.learning_rate = lr;
        state.best_epoch_loss = best;
        ++epochs_this_call;
        if (hooks.on_epoch_end) hooks.on_epoch_end(state, report, optimizer);
    }
    mapping.module().eval();
    return report;
}

}  // namespace syn::run
