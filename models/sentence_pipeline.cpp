#include "models/sentence_pipeline.h"

#include <torch/torch.h>

#include <cmath>
#include <mutex>

#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"

namespace syn::models {
namespace {

// sentence_transformers.models.Dense: a module whose one child is named like its state-dict keys.
struct StDenseImpl : torch::nn::Module {
    explicit StDenseImpl(const SentenceDenseOptions& o)
        : linear(register_module("linear", torch::nn::Linear(torch::nn::LinearOptions(o.in_features, o.out_features)
                                                                  .bias(o.bias)))) {
        torch::NoGradGuard no_grad;
        for (auto& p : parameters()) p.zero_();
    }
    torch::nn::Linear linear;
};
TORCH_MODULE(StDense);

at::Tensor activate(DenseActivation a, const at::Tensor& x) {
    switch (a) {
        case DenseActivation::identity: return x;
        case DenseActivation::tanh: return at::tanh(x);
        case DenseActivation::relu: return at::relu(x);
        case DenseActivation::gelu: return at::gelu(x);  // torch.nn.GELU(): exact, erf-based
        case DenseActivation::sigmoid: return at::sigmoid(x);
        case DenseActivation::silu: return at::silu(x);
    }
    return x;
}

}  // namespace

int SentencePoolingOptions::modes() const {
    return int(cls) + int(max) + int(mean) + int(mean_sqrt_len) + int(weightedmean) + int(lasttoken);
}

std::string SentencePoolingOptions::describe() const {
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += "+";
        s += name;
    };
    add(cls, "cls");
    add(max, "max");
    add(mean, "mean");
    add(mean_sqrt_len, "mean_sqrt_len_tokens");
    add(weightedmean, "weightedmean");
    add(lasttoken, "lasttoken");
    return s;
}

DenseActivation parse_dense_activation(const std::string& name) {
    for (DenseActivation a : {DenseActivation::identity, DenseActivation::tanh, DenseActivation::relu,
                              DenseActivation::gelu, DenseActivation::sigmoid, DenseActivation::silu})
        if (name == dense_activation_name(a)) return a;
    throw Error("Dense activation '" + name + "' is not supported (identity, tanh, relu, gelu, sigmoid, silu)");
}

const char* dense_activation_name(DenseActivation activation) {
    switch (activation) {
        case DenseActivation::identity: return "identity";
        case DenseActivation::tanh: return "tanh";
        case DenseActivation::relu: return "relu";
        case DenseActivation::gelu: return "gelu";
        case DenseActivation::sigmoid: return "sigmoid";
        case DenseActivation::silu: return "silu";
    }
    return "?";
}

at::Tensor sentence_pool(const at::Tensor& token_embeddings, const at::Tensor& attention_mask,
                         const SentencePoolingOptions& o, int64_t prompt_length) {
    if (token_embeddings.dim() != 3) throw Error("sentence pooling: token embeddings must be [batch, tokens, hidden]");
    if (attention_mask.dim() != 2 || attention_mask.size(0) != token_embeddings.size(0) ||
        attention_mask.size(1) != token_embeddings.size(1))
        throw Error("sentence pooling: the attention mask must be [batch, tokens] like the token embeddings");
    if (o.modes() == 0) throw Error("sentence pooling: no pooling mode is on");
    const at::Tensor h = token_embeddings.to(at::kFloat);
    at::Tensor mask = attention_mask.to(h.device(), at::kFloat).clone();  // [B, T]
    const int64_t T = h.size(1);
    if (!o.include_prompt && prompt_length > 0) mask.narrow(1, 0, std::min(prompt_length, T)).zero_();
    const at::Tensor m = mask.unsqueeze(-1);  // [B, T, 1]

    std::vector<at::Tensor> parts;
    if (o.cls) parts.push_back(h.select(1, 0));
    if (o.max) parts.push_back(h.masked_fill(m.eq(0), -1e9).amax(1));
    if (o.mean || o.mean_sqrt_len) {
        const at::Tensor sum = (h * m).sum(1);
        const at::Tensor count = m.sum(1).clamp_min(1e-9);
        if (o.mean) parts.push_back(sum / count);
        if (o.mean_sqrt_len) parts.push_back(sum / count.sqrt());
    }
    if (o.weightedmean) {
        const at::Tensor positions = at::arange(1, T + 1, h.options()).view({1, T, 1});
        const at::Tensor w = m * positions;
        parts.push_back((h * w).sum(1) / w.sum(1).clamp_min(1e-9));
    }
    if (o.lasttoken) {
        // The last position with mask 1; a row without any gives position 0, then zeros (x mask).
        const at::Tensor pos = at::arange(1, T + 1, mask.options());
        const at::Tensor last = (mask.ne(0).to(at::kFloat) * pos).argmax(1);  // [B]
        const at::Tensor rows = at::arange(h.size(0), last.options().dtype(at::kLong));
        const at::Tensor picked = h.index({rows, last}) * mask.index({rows, last}).unsqueeze(-1);
        parts.push_back(picked);
    }
    return at::cat(parts, 1);
}

struct SentencePipeline::Impl {
    SentencePipelineOptions options;
    std::vector<StDense> dense;  // one per Dense step, in order
    int64_t output_size = 0;
    mutable std::mutex mutex;    // guards moving the Dense layers to the input's device
};

SentencePipeline::SentencePipeline(const SentencePipelineOptions& options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
    if (options.hidden_size <= 0) throw Error("sentence pipeline: hidden size must be positive");
    if (options.pooling.modes() == 0) throw Error("sentence pipeline: no pooling mode is on");
    int64_t width = options.hidden_size * options.pooling.modes();
    for (size_t i = 0; i < options.steps.size(); ++i) {
        const auto& s = options.steps[i];
        if (s.kind != SentencePipelineOptions::Step::Kind::dense) continue;
        if (s.dense.in_features != width)
            throw Error("sentence pipeline: Dense step " + std::to_string(i) + " takes vectors of width " +
                        std::to_string(s.dense.in_features) + " but receives width " + std::to_string(width) +
                        " (pooling " + options.pooling.describe() + " over hidden size " +
                        std::to_string(options.hidden_size) + ")");
        if (s.dense.out_features <= 0) throw Error("sentence pipeline: Dense out_features must be positive");
        impl_->dense.emplace_back(StDense(s.dense));
        impl_->dense.back()->eval();
        width = s.dense.out_features;
    }
    impl_->output_size = width;
}

SentencePipeline::~SentencePipeline() = default;

size_t SentencePipeline::dense_count() const { return impl_->dense.size(); }

void SentencePipeline::load_dense_weights(size_t index, const TensorMap& tensors, const std::string& source) {
    if (index >= impl_->dense.size())
        throw Error("sentence pipeline: no Dense layer " + std::to_string(index) + " (it has " +
                    std::to_string(impl_->dense.size()) + ")");
    LoadOptions lo;
    lo.strict_unexpected = true;
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto& d = impl_->dense[index];
    d->to(torch::kCPU, torch::kFloat);
    load_state_dict(*d, tensors, source, lo);
}

at::Tensor SentencePipeline::forward(const at::Tensor& last_hidden_state, const at::Tensor& attention_mask,
                                     int64_t prompt_length) const {
    torch::NoGradGuard no_grad;
    at::Tensor x = sentence_pool(last_hidden_state, attention_mask, impl_->options.pooling, prompt_length);
    size_t k = 0;
    for (const auto& s : impl_->options.steps) {
        if (s.kind == SentencePipelineOptions::Step::Kind::normalize) {
            x = x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
            continue;
        }
        auto& d = impl_->dense[k++];
        {
            std::lock_guard<std::mutex> lock(impl_->mutex);
            if (d->linear->weight.device() != x.device()) d->to(x.device());
        }
        x = activate(s.dense.activation, d->linear(x));
    }
    return x;
}

int64_t SentencePipeline::output_size() const { return impl_->output_size; }

std::string SentencePipeline::describe() const {
    std::string s = "st:" + impl_->options.pooling.describe();
    for (const auto& step : impl_->options.steps)
        s += step.kind == SentencePipelineOptions::Step::Kind::dense ? "+dense" : "+normalize";
    return s;
}

const SentencePipelineOptions& SentencePipeline::options() const { return impl_->options; }

}  // namespace syn::models
