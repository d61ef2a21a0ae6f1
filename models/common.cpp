// What every encoder family shares: the TextEncoder base, activations, attention, masks, pooling.
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "models/activation.h"
#include "models/layers.h"
#include "models/pooling.h"
#include "models/text_encoder.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define SYN_HAVE_SDPA_SCALE 1
#endif

namespace syn::models {

// ---------------------------------------------------------------------------------------------
// TextEncoder

const char* family_name(Family family) {
    switch (family) {
        case Family::bert: return "bert";
        case Family::roberta: return "roberta";
        case Family::clip_text: return "clip";
        case Family::t5: return "t5";
        case Family::siglip_text: return "siglip";
    }
    return "?";
}

std::vector<Pooling> family_poolings(Family family) {
    switch (family) {
        case Family::bert:
        case Family::roberta:
            return {Pooling::cls, Pooling::pooler, Pooling::mean, Pooling::eos, Pooling::last_non_pad,
                    Pooling::random_pooler};
        case Family::clip_text:
            return {Pooling::pooler, Pooling::eos, Pooling::mean, Pooling::last_non_pad, Pooling::projected};
        case Family::t5: return {Pooling::mean, Pooling::eos, Pooling::last_non_pad};
        case Family::siglip_text: return {Pooling::pooler, Pooling::projected, Pooling::mean};
    }
    return {};
}

TextEncoder::~TextEncoder() = default;

void TextEncoder::to(c10::Device device, c10::ScalarType dtype) {
    if (!at::isFloatingType(dtype)) throw Error(std::string("TextEncoder::to: dtype must be floating point"));
    detail::cast_module(module(), device, dtype);
    module().eval();
    device_ = device;
    dtype_ = dtype;
}

std::pair<at::Tensor, at::Tensor> TextEncoder::prepare_inputs(const at::Tensor& input_ids,
                                                              const at::Tensor& attention_mask) const {
    const std::string who = std::string(family_name(family())) + " encoder";
    if (!input_ids.defined() || input_ids.dim() != 2)
        throw Error(who + ": input_ids must be a [batch, tokens] tensor");
    if (!at::isIntegralType(input_ids.scalar_type(), /*includeBool=*/false))
        throw Error(who + ": input_ids must be integer, got " + std::string(c10::toString(input_ids.scalar_type())));
    if (!attention_mask.defined() || attention_mask.sizes() != input_ids.sizes())
        throw Error(who + ": attention_mask must have the shape of input_ids " +
                    c10::str(input_ids.sizes()) + (attention_mask.defined() ? ", got " + c10::str(attention_mask.sizes()) : ""));
    const int64_t tokens = input_ids.size(1);
    if (tokens == 0 || input_ids.size(0) == 0) throw Error(who + ": empty input (no texts or no tokens)");
    if (max_tokens() > 0 && tokens > max_tokens())
        throw Error(who + ": input of " + std::to_string(tokens) + " tokens exceeds the model's context of " +
                    std::to_string(max_tokens()) + " positions (config.json max_position_embeddings); truncate first");
    if (required_length() > 0 && tokens != required_length())
        throw Error(who + ": inputs must be padded to exactly " + std::to_string(required_length()) +
                    " tokens (the model was trained that way, without an attention mask), got " + std::to_string(tokens));
    // The vocabulary check reads the values: done where the ids live on the CPU (the usual case:
    // straight from the tokenizer), so a device tensor costs no synchronisation here.
    if (input_ids.device().is_cpu()) {
        const int64_t lo = input_ids.min().item<int64_t>();
        const int64_t hi = input_ids.max().item<int64_t>();
        if (lo < 0 || hi >= vocab_size())
            throw Error(who + ": token id " + std::to_string(lo < 0 ? lo : hi) + " outside the vocabulary of " +
                        std::to_string(vocab_size()) + " (config.json vocab_size): wrong tokenizer for this model?");
    }
    auto ids = input_ids.to(device_, at::kLong);
    auto mask = attention_mask.to(device_, at::kLong);
    return {ids, mask};
}

at::Tensor TextEncoder::prepare_token_types(const at::Tensor& token_type_ids, const at::Tensor& input_ids) const {
    if (!token_type_ids.defined()) return at::Tensor();
    const std::string who = std::string(family_name(family())) + " encoder";
    if (token_type_ids.sizes() != input_ids.sizes())
        throw Error(who + ": token_type_ids must have the shape of input_ids " + c10::str(input_ids.sizes()) + ", got " +
                    c10::str(token_type_ids.sizes()));
    if (!at::isIntegralType(token_type_ids.scalar_type(), /*includeBool=*/false))
        throw Error(who + ": token_type_ids must be integer, got " + std::string(c10::toString(token_type_ids.scalar_type())));
    const int64_t types = type_vocab_size();
    if (types == 0) {
        // No token type embeddings: zeros mean nothing, anything else would be silently dropped.
        if (token_type_ids.ne(0).any().item<bool>())
            throw Error(who + ": the model has no token type embeddings; token_type_ids must be zeros or absent");
        return at::Tensor();
    }
    if (token_type_ids.device().is_cpu()) {  // as for input_ids: no synchronisation for device tensors
        const int64_t lo = token_type_ids.min().item<int64_t>();
        const int64_t hi = token_type_ids.max().item<int64_t>();
        if (lo < 0 || hi >= types)
            throw Error(who + ": token type id " + std::to_string(lo < 0 ? lo : hi) + " outside the " + std::to_string(types) +
                        " token types of the model (config.json type_vocab_size)");
    }
    return token_type_ids.to(device_, at::kLong);
}

EncoderOutput TextEncoder::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                   const ForwardOptions& options) {
    Inputs inputs;
    std::tie(inputs.ids, inputs.mask) = prepare_inputs(input_ids, attention_mask);
    inputs.token_type_ids = prepare_token_types(options.token_type_ids, input_ids);
    inputs.untrained_pooler = options.untrained_pooler;
    return encode(inputs);
}

// ---------------------------------------------------------------------------------------------
// Activations

namespace {

struct ActivationName {
    const char* name;
    Activation activation;
};
constexpr ActivationName kActivations[] = {
    {"gelu", Activation::gelu},           {"gelu_new", Activation::gelu_new},
    {"gelu_pytorch_tanh", Activation::gelu_pytorch_tanh}, {"quick_gelu", Activation::quick_gelu},
    {"relu", Activation::relu},           {"silu", Activation::silu},
    {"swish", Activation::silu},
};

}  // namespace

const char* activation_name(Activation activation) {
    for (const auto& a : kActivations)
        if (a.activation == activation) return a.name;
    return "?";
}

Activation parse_activation(const HfConfig& config, const std::string& key, const std::string& fallback) {
    const std::string name = config.get_string(key, fallback);
    for (const auto& a : kActivations)
        if (name == a.name) return a.activation;
    std::string supported;
    for (const auto& a : kActivations) supported += std::string(supported.empty() ? "" : ", ") + a.name;
    throw file_error(config.source(), "key '" + key + "' = '" + name + "' is not a supported activation (supported: " +
                                          supported + ")");
}

namespace detail {

at::Tensor apply_activation(Activation activation, const at::Tensor& x) {
    switch (activation) {
        case Activation::gelu: return at::gelu(x);
        case Activation::gelu_new: {
            // transformers' NewGELUActivation, written out as there (the fused tanh kernel differs
            // from it only by rounding, but the formula is what the checkpoints were trained with).
            const double c = std::sqrt(2.0 / M_PI);
            return 0.5 * x * (1.0 + at::tanh(c * (x + 0.044715 * at::pow(x, 3.0))));
        }
        case Activation::gelu_pytorch_tanh: return at::gelu(x, "tanh");
        case Activation::quick_gelu: return x * at::sigmoid(1.702 * x);
        case Activation::relu: return at::relu(x);
        case Activation::silu: return at::silu(x);
    }
    throw Error("apply_activation: unknown activation");
}

std::shared_ptr<torch::nn::Module> add_container(torch::nn::Module& parent, const std::string& name) {
    return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::Linear make_linear(int64_t in, int64_t out, bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::LayerNorm make_layer_norm(int64_t size, double eps) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({size}).eps(eps));
}

void cast_module(torch::nn::Module& module, c10::Device device, c10::ScalarType dtype) {
    for (const auto& child : module.modules(/*include_self=*/true)) {
        const bool is_norm = dynamic_cast<torch::nn::LayerNormImpl*>(child.get()) ||
                             dynamic_cast<torch::nn::GroupNormImpl*>(child.get()) ||
                             dynamic_cast<torch::nn::BatchNorm2dImpl*>(child.get());
        // Only half types keep their norms in float32; float64 (finite-difference tests) casts all.
        const bool half = dtype == at::kBFloat16 || dtype == at::kHalf;
        const at::ScalarType want = is_norm && half ? at::kFloat : dtype;
        auto move = [&](at::Tensor& t) {
            if (!t.defined()) return;
            const at::ScalarType to = at::isFloatingType(t.scalar_type()) ? want : t.scalar_type();
            if (t.device() != device || t.scalar_type() != to) t.set_data(t.to(device, to));
        };
        for (auto& p : child->named_parameters(/*recurse=*/false)) move(p.value());
        for (auto& b : child->named_buffers(/*recurse=*/false)) move(b.value());
    }
}

double lowest_value(at::ScalarType dtype) {
    switch (dtype) {
        case at::kHalf: return -65504.0;
        case at::kBFloat16: return -3.3895313892515355e38;
        case at::kDouble: return std::numeric_limits<double>::lowest();
        default: return std::numeric_limits<float>::lowest();
    }
}

at::Tensor padding_bias(const at::Tensor& attention_mask, at::ScalarType dtype) {
    auto keep = attention_mask.ne(0).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, T]
    auto zeros = at::zeros({}, attention_mask.options().dtype(dtype));
    return at::where(keep, zeros, at::full({}, lowest_value(dtype), zeros.options()));
}

at::Tensor causal_padding_bias(const at::Tensor& attention_mask, at::ScalarType dtype) {
    const int64_t t = attention_mask.size(1);
    auto causal = at::ones({t, t}, attention_mask.options().dtype(at::kBool)).tril();  // [T, T]
    auto keep = attention_mask.ne(0).unsqueeze(1).unsqueeze(1) & causal;               // [B, 1, T, T]
    auto zeros = at::zeros({}, attention_mask.options().dtype(dtype));
    return at::where(keep, zeros, at::full({}, lowest_value(dtype), zeros.options()));
}

at::Tensor split_heads(const at::Tensor& x, int64_t heads) {
    const int64_t b = x.size(0), t = x.size(1), width = x.size(2);
    return x.view({b, t, heads, width / heads}).transpose(1, 2);
}

at::Tensor merge_heads(const at::Tensor& x) {
    const int64_t b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
    return x.transpose(1, 2).reshape({b, t, h * d});
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                     double scale, double dropout_p) {
#ifdef SYN_HAVE_SDPA_SCALE
    // Fused (flash / memory-efficient) kernels on CUDA; the mask is an additive bias.
    c10::optional<at::Tensor> mask;
    if (bias.defined()) mask = bias.to(q.scalar_type());
    return at::scaled_dot_product_attention(q, k, v, mask, dropout_p, false, scale);
#else
    auto scores = at::matmul(q, k.transpose(-2, -1));
    if (scale != 1.0) scores = scores * scale;
    if (bias.defined()) scores = scores + bias;
    // The softmax in float32 for half types (its max and sum), as autocast runs it.
    at::Tensor probs = scores.scalar_type() == at::kFloat || scores.scalar_type() == at::kDouble
                           ? at::softmax(scores, -1)
                           : at::softmax(scores, -1, at::kFloat).to(v.scalar_type());
    if (dropout_p > 0) probs = at::dropout(probs, dropout_p, /*train=*/true);
    return at::matmul(probs, v);
#endif
}

double parse_dropout(const HfConfig& config, const std::string& key, double fallback) {
    const double p = config.get_double(key, fallback);
    if (!(p >= 0.0 && p < 1.0))
        throw file_error(config.source(), "key '" + key + "' = " + std::to_string(p) + " is not a dropout probability in [0, 1)");
    return p;
}

double dropout_rate(const torch::nn::Dropout& dropout) {
    return dropout && dropout->is_training() ? dropout->options.p() : 0.0;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Pooling

namespace {

struct PoolingName {
    const char* name;
    Pooling pooling;
};
constexpr PoolingName kPoolings[] = {
    {"cls", Pooling::cls},   {"pooler", Pooling::pooler},           {"mean", Pooling::mean},
    {"eos", Pooling::eos},   {"last_non_pad", Pooling::last_non_pad}, {"projected", Pooling::projected},
    {"random_pooler", Pooling::random_pooler},
};

bool supports(const TextEncoder& encoder, Pooling pooling) {
    const auto poolings = encoder.supported_poolings();
    return std::find(poolings.begin(), poolings.end(), pooling) != poolings.end();
}

std::string poolings_list(const std::vector<Pooling>& poolings) {
    std::string out;
    for (Pooling p : poolings) out += std::string(out.empty() ? "" : ", ") + pooling_name(p);
    return out;
}

at::Tensor gather_rows(const at::Tensor& hidden, const at::Tensor& index) {
    auto rows = at::arange(hidden.size(0), index.options().dtype(at::kLong));
    return hidden.index({rows, index.to(at::kLong)});
}

}  // namespace

const char* pooling_name(Pooling pooling) {
    for (const auto& p : kPoolings)
        if (p.pooling == pooling) return p.name;
    return "?";
}

const std::vector<Pooling>& all_poolings() {
    static const std::vector<Pooling> all = {Pooling::cls,          Pooling::pooler,    Pooling::mean,
                                             Pooling::eos,          Pooling::last_non_pad, Pooling::projected,
                                             Pooling::random_pooler};
    return all;
}

Pooling parse_pooling(const std::string& name) {
    if (name == "last") return Pooling::last_non_pad;
    for (const auto& p : kPoolings)
        if (name == p.name) return p.pooling;
    throw Error("unknown pooling '" + name + "' (choices: " + poolings_list(all_poolings()) + ")");
}

std::string PoolingChoice::describe() const {
    std::string s = pooling_name(kind);
    if (kind == Pooling::random_pooler) s += "@" + std::to_string(seed);
    return s + (l2_normalize ? "+l2" : "");
}

PoolingChoice parse_pooling_choice(const std::string& text) {
    PoolingChoice choice;
    std::string name = text;
    const std::string suffix = "+l2";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        choice.l2_normalize = true;
        name.resize(name.size() - suffix.size());
    }
    const size_t at = name.find('@');
    std::string seed;
    if (at != std::string::npos) {
        seed = name.substr(at + 1);
        name.resize(at);
    }
    choice.kind = parse_pooling(name);
    if (at != std::string::npos) {
        if (choice.kind != Pooling::random_pooler)
            throw Error("pooling '" + text + "': only random_pooler takes a seed (random_pooler@<seed>)");
        const bool digits = !seed.empty() && seed.size() <= 19 &&
                            std::all_of(seed.begin(), seed.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) throw Error("pooling '" + text + "': the seed after '@' must be a decimal integer");
        choice.seed = std::stoull(seed);
    }
    return choice;
}

at::Tensor random_pooler_weight(int64_t hidden, uint64_t seed) {
    if (hidden <= 0 || hidden > 65536) throw Error("random_pooler_weight: hidden size " + std::to_string(hidden));
    // Drawn once per (hidden, seed) and kept: a batch of 1024-wide BERT-large rows would otherwise
    // redraw a million normals per batch.
    static std::mutex mutex;
    static std::map<std::pair<int64_t, uint64_t>, at::Tensor> drawn;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = drawn.find({hidden, seed});
    if (it != drawn.end()) return it->second;
    uint64_t state = seed;
    auto splitmix64 = [&state] {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    };
    // Uniform in (0, 1]: 53 random bits, never 0 (log(0) in Box-Muller).
    auto uniform = [&] { return (static_cast<double>(splitmix64() >> 11) + 1.0) * (1.0 / 9007199254740992.0); };
    constexpr double kStd = 0.02;  // BertConfig / RobertaConfig initializer_range
    at::Tensor w = at::empty({hidden, hidden}, at::kFloat);
    float* p = w.data_ptr<float>();
    const int64_t n = hidden * hidden;
    for (int64_t i = 0; i < n; i += 2) {
        const double r = std::sqrt(-2.0 * std::log(uniform()));
        const double theta = 2.0 * M_PI * uniform();
        p[i] = static_cast<float>(kStd * r * std::cos(theta));
        if (i + 1 < n) p[i + 1] = static_cast<float>(kStd * r * std::sin(theta));
    }
    drawn.emplace(std::make_pair(hidden, seed), w);
    return w;
}

void check_pooling(const TextEncoder& encoder, Pooling pooling) {
    const std::string model = std::string(family_name(encoder.family())) + " model" +
                              (encoder.source().empty() ? std::string() : " (" + encoder.source() + ")");
    if (!supports(encoder, pooling))
        throw Error("pooling '" + std::string(pooling_name(pooling)) + "' is not available for the " + model +
                    " (available: " + poolings_list(encoder.supported_poolings()) + ")");
    if (pooling == Pooling::pooler && !encoder.has_trained_pooler())
        throw Error("pooling 'pooler' refused for the " + model +
                    ": the checkpoint has no trained pooler (no pooler.dense.* weights, as in roberta-base/large); "
                    "transformers would fill it with random, unseeded weights. Use 'cls' or 'mean', or "
                    "'random_pooler@<seed>' for that random layer, drawn reproducibly");
    if (pooling == Pooling::projected && !encoder.has_projection())
        throw Error("pooling 'projected' refused for the " + model +
                    ": the checkpoint has no projection weights (e.g. text_projection.weight)");
}

at::Tensor masked_mean(const at::Tensor& hidden, const at::Tensor& attention_mask) {
    auto mask = attention_mask.to(hidden.device(), at::kFloat).unsqueeze(-1);  // [B, T, 1]
    auto summed = (hidden.to(at::kFloat) * mask).sum(1);
    return summed / mask.sum(1).clamp_min(1.0);
}

at::Tensor last_non_pad_index(const at::Tensor& attention_mask) {
    // argmax of mask * (position + 1): the last position whose mask is 1, for right and left padding.
    auto positions = at::arange(1, attention_mask.size(1) + 1, attention_mask.options().dtype(at::kLong));
    return (attention_mask.ne(0).to(at::kLong) * positions).argmax(1);
}

at::Tensor pool(const TextEncoder& encoder, const EncoderOutput& output, const at::Tensor& attention_mask,
                const PoolingChoice& choice) {
    check_pooling(encoder, choice.kind);
    const at::Tensor& hidden = output.last_hidden_state;
    at::Tensor pooled;
    switch (choice.kind) {
        case Pooling::cls: pooled = hidden.select(1, 0); break;
        case Pooling::pooler: pooled = output.pooler_output; break;
        case Pooling::mean: pooled = masked_mean(hidden, attention_mask); break;
        case Pooling::eos: pooled = gather_rows(hidden, output.eos_index.to(hidden.device())); break;
        case Pooling::last_non_pad:
            pooled = gather_rows(hidden, last_non_pad_index(attention_mask.to(hidden.device())));
            break;
        case Pooling::projected: pooled = output.projected; break;
        case Pooling::random_pooler: {
            // In float32 whatever the model's dtype: the layer is not part of the checkpoint.
            const at::Tensor cls = hidden.select(1, 0).to(at::kFloat);
            const at::Tensor w = random_pooler_weight(cls.size(1), choice.seed).to(cls.device());
            pooled = at::tanh(at::matmul(cls, w.t()));
            break;
        }
    }
    if (!pooled.defined())
        throw Error("pooling '" + std::string(pooling_name(choice.kind)) + "': the " + family_name(encoder.family()) +
                    " model produced no such output");
    pooled = pooled.to(at::kFloat);
    if (choice.l2_normalize) pooled = pooled / pooled.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12);
    return pooled;
}

}  // namespace syn::models
