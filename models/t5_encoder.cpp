// T5EncoderModel, mirroring transformers' modeling_t5.py (encoder stack only).
#include "models/t5_encoder.h"

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/torch/strict_loader.h"
#include "models/checkpoint_shapes.h"
#include "models/layers.h"

namespace syn::models {

using namespace detail;

T5Config T5Config::from_hf(const HfConfig& config) {
    T5Config c;
    c.vocab_size = config.get_size("vocab_size", c.vocab_size);
    c.d_model = config.get_size("d_model", c.d_model);
    c.d_kv = config.get_size("d_kv", c.d_kv);
    c.d_ff = config.get_size("d_ff", c.d_ff);
    c.num_layers = config.get_size("num_layers", c.num_layers);
    c.num_heads = config.get_size("num_heads", c.num_heads);
    c.relative_attention_num_buckets = config.get_size("relative_attention_num_buckets", c.relative_attention_num_buckets);
    c.relative_attention_max_distance =
        config.get_size("relative_attention_max_distance", c.relative_attention_max_distance);
    c.layer_norm_epsilon = config.get_double("layer_norm_epsilon", c.layer_norm_epsilon);

    // As T5Config.__init__: "[gated-]<act>", and "gated-gelu" means gelu_new for backward
    // compatibility (T5 v1.1).
    const std::string proj = config.get_string("feed_forward_proj", "relu");
    std::string act = proj;
    c.gated = false;
    if (proj.rfind("gated-", 0) == 0) {
        c.gated = true;
        act = proj.substr(6);
    }
    if (act.empty() || act.find('-') != std::string::npos)
        throw file_error(config.source(), "key 'feed_forward_proj' = '" + proj +
                                              "' is not valid (expected '<act>' or 'gated-<act>', e.g. 'relu', 'gated-gelu')");
    if (proj == "gated-gelu") act = "gelu_new";
    HfConfig act_only(nlohmann::json{{"feed_forward_proj", act}}, config.source());
    try {
        c.dense_act = parse_activation(act_only, "feed_forward_proj", act);
    } catch (const Error&) {
        throw file_error(config.source(), "key 'feed_forward_proj' = '" + proj + "': activation '" + act +
                                              "' is not supported (supported: relu, gated-gelu, gated-gelu_new, gated-silu, ...)");
    }
    if (c.relative_attention_num_buckets < 4 || c.relative_attention_max_distance < 2)
        throw file_error(config.source(), "keys 'relative_attention_num_buckets' / 'relative_attention_max_distance' are too small");
    return c;
}

at::Tensor t5_relative_position_buckets(int64_t q_len, int64_t k_len, bool bidirectional, int64_t num_buckets,
                                        int64_t max_distance) {
    // T5Attention._relative_position_bucket, step by step (same dtypes, so the same truncations).
    auto context = at::arange(q_len, at::kLong).unsqueeze(1);
    auto memory = at::arange(k_len, at::kLong).unsqueeze(0);
    auto relative = memory - context;
    auto buckets = at::zeros_like(relative);
    if (bidirectional) {
        num_buckets /= 2;
        buckets = buckets + relative.gt(0).to(at::kLong) * num_buckets;
        relative = relative.abs();
    } else {
        relative = -at::min(relative, at::zeros_like(relative));
    }
    const int64_t max_exact = num_buckets / 2;
    auto is_small = relative.lt(max_exact);
    auto large = at::log(relative.to(at::kFloat) / static_cast<double>(max_exact)) /
                 std::log(static_cast<double>(max_distance) / max_exact) * static_cast<double>(num_buckets - max_exact);
    // log(0) = -inf where relative is 0: those entries are small and replaced below.
    auto if_large = max_exact + large.nan_to_num(0.0, 0.0, 0.0).to(at::kLong);
    if_large = at::min(if_large, at::full_like(if_large, num_buckets - 1));
    return buckets + at::where(is_small, relative, if_large);
}

void T5Config::check_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint) const {
    const CheckpointShapes shapes(tensors, checkpoint);
    const ConfigSize model = config_size(config, "d_model", d_model);
    const ConfigSize heads = config_size(config, "num_heads", num_heads);
    // transformers saves the tied token embedding as shared.weight (older files: encoder.embed_tokens.weight).
    const std::string embedding = tensors.count("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight";
    shapes.expect(embedding, {config_size(config, "vocab_size", vocab_size), model});
    shapes.expect_count("encoder.block.", config_size(config, "num_layers", num_layers));
    const std::string attention = "encoder.block.0.layer.0.SelfAttention.";
    shapes.expect(attention + "q.weight",
                  {derived_size("num_heads*d_kv", num_heads * d_kv, {heads, config_size(config, "d_kv", d_kv)}), model});
    shapes.expect(attention + "relative_attention_bias.weight",
                  {config_size(config, "relative_attention_num_buckets", relative_attention_num_buckets), heads});
    shapes.expect("encoder.block.0.layer.1.DenseReluDense.wo.weight", {model, config_size(config, "d_ff", d_ff)});
}

namespace {

// An RMS norm module named like T5LayerNorm (a lone `weight`).
struct T5LayerNorm : torch::nn::Module {
    at::Tensor weight;
    double eps;
    T5LayerNorm(int64_t size, double eps_) : eps(eps_) { weight = register_parameter("weight", torch::ones({size})); }

    at::Tensor forward(const at::Tensor& x) {
        // Variance in float32 whatever the dtype, no mean subtraction, no bias.
        auto variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
        auto normed = x * at::rsqrt(variance + eps);
        if (weight.scalar_type() == at::kHalf || weight.scalar_type() == at::kBFloat16)
            normed = normed.to(weight.scalar_type());
        return weight * normed;
    }
};

// encoder.block.N.layer.0 (SelfAttention + layer_norm) and layer.1 (DenseReluDense + layer_norm).
struct T5Block : torch::nn::Module {
    torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
    torch::nn::Embedding relative_attention_bias{nullptr};
    std::shared_ptr<T5LayerNorm> attention_norm, ff_norm;
    torch::nn::Linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};
    int64_t heads;
    Activation act;
    bool gated;

    T5Block(const T5Config& c, bool has_relative_bias) : heads(c.num_heads), act(c.dense_act), gated(c.gated) {
        const int64_t inner = c.num_heads * c.d_kv;
        auto layer = add_container(*this, "layer");
        auto attention_layer = add_container(*layer, "0");
        auto attn = add_container(*attention_layer, "SelfAttention");
        q = attn->register_module("q", make_linear(c.d_model, inner, false));
        k = attn->register_module("k", make_linear(c.d_model, inner, false));
        v = attn->register_module("v", make_linear(c.d_model, inner, false));
        o = attn->register_module("o", make_linear(inner, c.d_model, false));
        if (has_relative_bias)
            relative_attention_bias = attn->register_module(
                "relative_attention_bias", torch::nn::Embedding(c.relative_attention_num_buckets, c.num_heads));
        attention_norm = attention_layer->register_module("layer_norm", std::make_shared<T5LayerNorm>(c.d_model, c.layer_norm_epsilon));
        auto ff_layer = add_container(*layer, "1");
        auto ff = add_container(*ff_layer, "DenseReluDense");
        if (c.gated) {
            wi_0 = ff->register_module("wi_0", make_linear(c.d_model, c.d_ff, false));
            wi_1 = ff->register_module("wi_1", make_linear(c.d_model, c.d_ff, false));
        } else {
            wi = ff->register_module("wi", make_linear(c.d_model, c.d_ff, false));
        }
        wo = ff->register_module("wo", make_linear(c.d_ff, c.d_model, false));
        ff_norm = ff_layer->register_module("layer_norm", std::make_shared<T5LayerNorm>(c.d_model, c.layer_norm_epsilon));
    }

    at::Tensor forward(at::Tensor x, const at::Tensor& position_bias) {
        auto h = attention_norm->forward(x);
        // T5 folds the 1/sqrt(d) scaling into its initialisation: no scaling here.
        auto context = attention(split_heads(q(h), heads), split_heads(k(h), heads), split_heads(v(h), heads),
                                 position_bias, 1.0);
        x = clamp_half(x + o(merge_heads(context)));
        h = ff_norm->forward(x);
        at::Tensor inner = gated ? apply_activation(act, wi_0(h)) * wi_1(h) : apply_activation(act, wi(h));
        if (inner.scalar_type() != wo->weight.scalar_type()) inner = inner.to(wo->weight.scalar_type());
        return clamp_half(x + wo(inner));
    }

    // transformers clamps fp16 activations just below the largest finite value to keep inf out.
    static at::Tensor clamp_half(const at::Tensor& x) {
        if (x.scalar_type() != at::kHalf) return x;
        const double limit = 65504.0 - 1000.0;
        return at::clamp(x, -limit, limit);
    }
};

struct T5Module : torch::nn::Module {
    torch::nn::Embedding shared{nullptr};
    std::vector<std::shared_ptr<T5Block>> blocks;
    std::shared_ptr<T5LayerNorm> final_layer_norm;

    explicit T5Module(const T5Config& c) {
        shared = register_module("shared", torch::nn::Embedding(c.vocab_size, c.d_model));
        auto encoder = add_container(*this, "encoder");
        auto block = add_container(*encoder, "block");
        for (int64_t i = 0; i < c.num_layers; ++i)
            blocks.push_back(block->register_module(std::to_string(i), std::make_shared<T5Block>(c, i == 0)));
        final_layer_norm = encoder->register_module("final_layer_norm", std::make_shared<T5LayerNorm>(c.d_model, c.layer_norm_epsilon));
    }
};

class T5Encoder final : public TextEncoder {
public:
    explicit T5Encoder(const T5Config& c) : config_(c), module_(std::make_shared<T5Module>(c)) { module_->eval(); }

    Family family() const override { return Family::t5; }
    torch::nn::Module& module() override { return *module_; }
    int64_t vocab_size() const override { return config_.vocab_size; }
    int64_t hidden_size() const override { return config_.d_model; }
    int64_t max_tokens() const override { return 0; }
    bool has_trained_pooler() const override { return false; }

    LoadReport load_weights(const TensorMap& tensors, const std::string& source) override {
        LoadOptions options;
        // The token embedding is tied: transformers saves it as shared.weight (and older versions
        // also as encoder.embed_tokens.weight); full T5 checkpoints add decoder.* and lm_head (unused).
        options.ignore_unexpected = {"encoder.embed_tokens.weight"};
        if (!tensors.count("shared.weight") && tensors.count("encoder.embed_tokens.weight")) {
            TensorMap aliased = tensors;
            aliased["shared.weight"] = tensors.at("encoder.embed_tokens.weight");
            source_ = source;
            return load_state_dict(*module_, aliased, source, options);
        }
        LoadReport report = load_state_dict(*module_, tensors, source, options);
        source_ = source;
        return report;
    }

protected:
    // No dropout modules (T5's dropout_rate is not modelled: T5 is only run for inference here).
    EncoderOutput encode(const Inputs& in) override {
        const at::Tensor& ids = in.ids;
        const at::Tensor& mask = in.mask;
        auto& m = *module_;
        const int64_t t = ids.size(1);
        auto x = m.shared(ids);
        // Position bias from block 0's table, [1, heads, T, T], plus the padding bias; every block
        // reuses it.
        auto buckets = t5_relative_position_buckets(t, t, /*bidirectional=*/true, config_.relative_attention_num_buckets,
                                                    config_.relative_attention_max_distance)
                           .to(ids.device());
        auto position_bias = m.blocks.front()->relative_attention_bias(buckets).permute({2, 0, 1}).unsqueeze(0);
        position_bias = position_bias + padding_bias(mask, x.scalar_type());
        for (auto& block : m.blocks) x = block->forward(x, position_bias);
        x = m.final_layer_norm->forward(x);

        EncoderOutput out;
        out.last_hidden_state = x;
        out.eos_index = last_non_pad_index(mask);
        return out;
    }

private:
    T5Config config_;
    std::shared_ptr<T5Module> module_;
};

}  // namespace

std::unique_ptr<TextEncoder> make_t5_encoder(const T5Config& config) { return std::make_unique<T5Encoder>(config); }

}  // namespace syn::models
