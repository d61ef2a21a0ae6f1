// taming-transformers' minGPT (taming/modules/transformer/mingpt.py) at inference and under a
// trained prefix, plus incremental decoding with a preallocated key/value cache.
#include "models/mingpt.h"

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"
#include "models/checkpoint_shapes.h"
#include "models/layers.h"

namespace syn::models {

using namespace detail;

void GPTConfig::validate(const std::string& source) const {
    auto fail = [&](const std::string& what) { throw file_error(source, "transformer_config: " + what); };
    if (vocab_size <= 0 || block_size <= 0 || n_layer <= 0 || n_head <= 0 || n_embd <= 0)
        fail("vocab_size, block_size, n_layer, n_head and n_embd must be positive");
    for (int64_t v : {vocab_size, block_size, n_layer, n_head, n_embd})
        if (v > kMaxConfigSize) fail("sizes must be at most " + std::to_string(kMaxConfigSize) + ", got " + std::to_string(v));
    if (n_embd % n_head != 0)
        fail("n_head (" + std::to_string(n_head) + ") does not divide n_embd (" + std::to_string(n_embd) + ")");
    if (n_unmasked != 0)
        fail("n_unmasked = " + std::to_string(n_unmasked) + " is not supported (only 0, a fully causal GPT)");
}

void GPTConfig::check_checkpoint(const TensorMap& tensors, const std::string& checkpoint, const std::string& source) const {
    auto size = [&](const char* key, int64_t value) {
        return ConfigSize{std::string("transformer_config.params.") + key, value, true, source};
    };
    const CheckpointShapes shapes(tensors, checkpoint, tensors.count("transformer.tok_emb.weight") ? "transformer." : "");
    const ConfigSize embd = size("n_embd", n_embd), vocab = size("vocab_size", vocab_size);
    shapes.expect("tok_emb.weight", {vocab, embd});
    shapes.expect("pos_emb", {derived_size("1", 1, {}), size("block_size", block_size), embd});
    shapes.expect_count("blocks.", size("n_layer", n_layer));
    shapes.expect("head.weight", {vocab, embd});
}

int64_t GPTConfig::parameter_count() const {
    const int64_t e = n_embd;
    const int64_t per_layer = 4 * (e * e + e) + 2 * 2 * e + (e * 4 * e + 4 * e) + (4 * e * e + e);
    return vocab_size * e + block_size * e + n_layer * per_layer + 2 * e + e * vocab_size;
}

namespace {

struct CausalSelfAttention : torch::nn::Module {
    torch::nn::Linear key{nullptr}, query{nullptr}, value{nullptr}, proj{nullptr};
    at::Tensor mask;  // [1, 1, block, block] lower-triangular, a persistent buffer in the checkpoint
    int64_t heads;
    double scale;
    // query/key/value weights stacked into one matrix for step(): one GEMM instead of three.
    at::Tensor qkv_weight, qkv_bias;

    explicit CausalSelfAttention(const GPTConfig& c)
        : heads(c.n_head), scale(1.0 / std::sqrt(double(c.n_embd / c.n_head))) {
        key = register_module("key", make_linear(c.n_embd, c.n_embd));
        query = register_module("query", make_linear(c.n_embd, c.n_embd));
        value = register_module("value", make_linear(c.n_embd, c.n_embd));
        proj = register_module("proj", make_linear(c.n_embd, c.n_embd));
        mask = register_buffer("mask", at::ones({c.block_size, c.block_size}).tril().view({1, 1, c.block_size, c.block_size}));
    }

    at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
        auto q = split_heads(query(x), heads);
        auto k = split_heads(key(x), heads);
        auto v = split_heads(value(x), heads);
        return proj(merge_heads(attention(q, k, v, bias, scale)));
    }

    void fuse() {
        if (qkv_weight.defined() && qkv_weight.device() == query->weight.device() &&
            qkv_weight.scalar_type() == query->weight.scalar_type())
            return;
        qkv_weight = at::cat({query->weight, key->weight, value->weight}, 0).detach();
        qkv_bias = at::cat({query->bias, key->bias, value->bias}, 0).detach();
    }

    // New positions x [B, n, E] against the cache of this layer; writes their keys and values at
    // [start, start + n).
    at::Tensor forward_cached(const at::Tensor& x, at::Tensor& cache_k, at::Tensor& cache_v, int64_t start) {
        fuse();
        const int64_t n = x.size(1);
        auto qkv = at::linear(x, qkv_weight, qkv_bias).chunk(3, -1);
        auto q = split_heads(qkv[0], heads);
        cache_k.narrow(2, start, n).copy_(split_heads(qkv[1], heads));
        cache_v.narrow(2, start, n).copy_(split_heads(qkv[2], heads));
        auto k = cache_k.narrow(2, 0, start + n);
        auto v = cache_v.narrow(2, 0, start + n);
        at::Tensor bias;
        if (n > 1) {
            // query i sits at absolute position start + i and sees keys 0 .. start + i
            auto rows = at::arange(n, x.options().dtype(at::kLong)).unsqueeze(1) + start;
            auto cols = at::arange(start + n, x.options().dtype(at::kLong)).unsqueeze(0);
            auto zeros = at::zeros({}, x.options());
            bias = at::where(cols <= rows, zeros, at::full({}, lowest_value(x.scalar_type()), x.options()));
        }
        return proj(merge_heads(attention(q, k, v, bias, scale)));
    }
};

struct Block : torch::nn::Module {
    torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
    std::shared_ptr<CausalSelfAttention> attn;
    torch::nn::Linear fc{nullptr}, fc_out{nullptr};

    explicit Block(const GPTConfig& c) {
        ln1 = register_module("ln1", make_layer_norm(c.n_embd, 1e-5));
        ln2 = register_module("ln2", make_layer_norm(c.n_embd, 1e-5));
        attn = register_module("attn", std::make_shared<CausalSelfAttention>(c));
        auto mlp = add_container(*this, "mlp");  // Sequential(Linear, GELU, Linear, Dropout)
        fc = mlp->register_module("0", make_linear(c.n_embd, 4 * c.n_embd));
        fc_out = mlp->register_module("2", make_linear(4 * c.n_embd, c.n_embd));
    }

    at::Tensor mlp(const at::Tensor& x) { return fc_out(at::gelu(fc(x))); }

    at::Tensor forward(at::Tensor x, const at::Tensor& bias) {
        x = x + attn->forward(norm32(ln1, x), bias);
        return x + mlp(norm32(ln2, x));
    }
    at::Tensor forward_cached(at::Tensor x, at::Tensor& k, at::Tensor& v, int64_t start) {
        x = x + attn->forward_cached(norm32(ln1, x), k, v, start);
        return x + mlp(norm32(ln2, x));
    }
};

struct GPTModule : torch::nn::Module {
    torch::nn::Embedding tok_emb{nullptr};
    at::Tensor pos_emb;
    std::vector<std::shared_ptr<Block>> blocks;
    torch::nn::LayerNorm ln_f{nullptr};
    torch::nn::Linear head{nullptr};

    explicit GPTModule(const GPTConfig& c) {
        tok_emb = register_module("tok_emb", torch::nn::Embedding(c.vocab_size, c.n_embd));
        pos_emb = register_parameter("pos_emb", at::zeros({1, c.block_size, c.n_embd}));
        auto list = add_container(*this, "blocks");
        for (int64_t i = 0; i < c.n_layer; ++i)
            blocks.push_back(list->register_module(std::to_string(i), std::make_shared<Block>(c)));
        ln_f = register_module("ln_f", make_layer_norm(c.n_embd, 1e-5));
        head = register_module("head", make_linear(c.n_embd, c.vocab_size, /*bias=*/false));
    }

    // Token embeddings plus the positional embeddings of positions [first, first + T).
    at::Tensor embed(const at::Tensor& ids, int64_t first) {
        return tok_emb(ids) + pos_emb.narrow(1, first, ids.size(1));
    }
};

// [1, 1, L, L] additive causal bias.
at::Tensor causal_bias(int64_t length, const at::TensorOptions& options) {
    auto keep = at::ones({length, length}, options.dtype(at::kBool)).tril();
    auto zeros = at::zeros({}, options);
    return at::where(keep, zeros, at::full({}, lowest_value(options.dtype().toScalarType()), options)).view({1, 1, length, length});
}

}  // namespace

struct MinGPT::Impl {
    std::shared_ptr<GPTModule> module;

    at::Tensor run(at::Tensor x, int64_t drop_front) {
        auto bias = causal_bias(x.size(1), x.options());
        for (auto& block : module->blocks) x = block->forward(x, bias);
        if (drop_front > 0) x = x.narrow(1, drop_front, x.size(1) - drop_front);
        return module->head(norm32(module->ln_f, x));
    }
    void drop_fused() {
        for (auto& block : module->blocks) block->attn->qkv_weight = block->attn->qkv_bias = at::Tensor();
    }
};

MinGPT::MinGPT(const GPTConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {
    config_.validate("GPT config");
    impl_->module = std::make_shared<GPTModule>(config_);
    impl_->module->eval();
}

MinGPT::~MinGPT() = default;

torch::nn::Module& MinGPT::module() { return *impl_->module; }

void MinGPT::to(c10::Device device, c10::ScalarType dtype) {
    if (!at::isFloatingType(dtype)) throw Error("MinGPT::to: dtype must be floating point");
    detail::cast_module(*impl_->module, device, dtype);
    impl_->module->eval();
    impl_->drop_fused();
    device_ = device;
    dtype_ = dtype;
}

LoadReport MinGPT::load_weights(const TensorMap& tensors, const std::string& source) {
    LoadOptions options;
    if (tensors.count("transformer.tok_emb.weight")) options.prefix = "transformer.";
    LoadReport report = load_state_dict(*impl_->module, tensors, source, options);
    impl_->drop_fused();
    // The decoding below assumes a plain causal mask (taming's n_unmasked = 0).
    for (size_t i = 0; i < impl_->module->blocks.size(); ++i) {
        const auto& mask = impl_->module->blocks[i]->attn->mask;
        if (!at::equal(mask.to(at::kCPU, at::kFloat), at::ones(mask.sizes()).tril()))
            throw file_error(source, "key '" + options.prefix + "blocks." + std::to_string(i) +
                                         ".attn.mask' is not lower-triangular (n_unmasked > 0 is not supported)");
    }
    return report;
}

at::Tensor MinGPT::checked_ids(const at::Tensor& idx, int64_t first_position, const char* who) const {
    const std::string name = std::string("MinGPT ") + who;
    if (!idx.defined() || idx.dim() != 2 || idx.size(0) == 0 || idx.size(1) == 0)
        throw Error(name + ": token ids must be a non-empty [batch, tokens] tensor");
    if (!at::isIntegralType(idx.scalar_type(), /*includeBool=*/false))
        throw Error(name + ": token ids must be integer, got " + std::string(c10::toString(idx.scalar_type())));
    if (first_position + idx.size(1) > config_.block_size)
        throw Error(name + ": " + std::to_string(first_position + idx.size(1)) + " token positions exceed block_size " +
                    std::to_string(config_.block_size));
    if (idx.device().is_cpu()) {  // a device tensor would cost a synchronisation per call
        const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
        if (lo < 0 || hi >= config_.vocab_size)
            throw Error(name + ": token id " + std::to_string(lo < 0 ? lo : hi) + " outside the vocabulary of " +
                        std::to_string(config_.vocab_size));
    }
    return idx.to(device_, at::kLong);
}

at::Tensor MinGPT::forward(const at::Tensor& idx) {
    auto ids = checked_ids(idx, 0, "forward");
    return impl_->run(impl_->module->embed(ids, 0), 0);
}

at::Tensor MinGPT::forward_with_prefix(const at::Tensor& idx, const at::Tensor& prefix) {
    auto ids = checked_ids(idx, 0, "forward_with_prefix");
    if (!prefix.defined() || prefix.dim() != 3 || prefix.size(0) != ids.size(0) || prefix.size(1) < 1 ||
        prefix.size(2) != config_.n_embd)
        throw Error("MinGPT forward_with_prefix: prefix must be [" + std::to_string(ids.size(0)) + ", P, " +
                    std::to_string(config_.n_embd) + "], got " +
                    (prefix.defined() ? c10::str(prefix.sizes()) : std::string("nothing")));
    auto x = at::cat({prefix.to(device_, dtype_), impl_->module->embed(ids, 0)}, 1);
    return impl_->run(x, prefix.size(1));
}

KVCache MinGPT::make_cache(int64_t batch, int64_t capacity) const {
    if (batch <= 0 || capacity <= 0) throw Error("MinGPT make_cache: batch and capacity must be positive");
    KVCache cache;
    cache.batch = batch;
    cache.capacity = capacity;
    const int64_t head_dim = config_.n_embd / config_.n_head;
    auto options = at::TensorOptions().device(device_).dtype(dtype_);
    for (int64_t i = 0; i < config_.n_layer; ++i) {
        cache.keys.push_back(at::empty({batch, config_.n_head, capacity, head_dim}, options));
        cache.values.push_back(at::empty({batch, config_.n_head, capacity, head_dim}, options));
    }
    return cache;
}

at::Tensor MinGPT::step(KVCache& cache, const at::Tensor& idx, const at::Tensor& prefix) {
    torch::NoGradGuard no_grad;
    const int64_t first = cache.length - cache.prefix_length;  // position of the first new token
    auto ids = checked_ids(idx, first, "step");
    if (ids.size(0) != cache.batch || static_cast<int64_t>(cache.keys.size()) != config_.n_layer)
        throw Error("MinGPT step: the cache was made for " + std::to_string(cache.batch) + " rows, got " +
                    std::to_string(ids.size(0)));
    auto x = impl_->module->embed(ids, first);
    int64_t prefix_length = 0;
    if (prefix.defined()) {
        if (cache.length != 0) throw Error("MinGPT step: a prefix may only start an empty cache");
        if (prefix.dim() != 3 || prefix.size(0) != cache.batch || prefix.size(2) != config_.n_embd)
            throw Error("MinGPT step: prefix must be [" + std::to_string(cache.batch) + ", P, " +
                        std::to_string(config_.n_embd) + "], got " + c10::str(prefix.sizes()));
        prefix_length = prefix.size(1);
        x = at::cat({prefix.to(device_, dtype_), x}, 1);
    }
    const int64_t n = x.size(1);
    if (cache.length + n > cache.capacity)
        throw Error("MinGPT step: the cache holds " + std::to_string(cache.capacity) + " positions, " +
                    std::to_string(cache.length + n) + " needed");
    auto& blocks = impl_->module->blocks;
    for (size_t i = 0; i < blocks.size(); ++i) x = blocks[i]->forward_cached(x, cache.keys[i], cache.values[i], cache.length);
    cache.length += n;
    cache.prefix_length += prefix_length;
    if (prefix_length > 0) x = x.narrow(1, prefix_length, n - prefix_length);
    return impl_->module->head(norm32(impl_->module->ln_f, x));
}

}  // namespace syn::models
