#pragma once
// taming-transformers' minGPT (taming/modules/transformer/mingpt.py, class GPT), named like the
// checkpoint keys (tok_emb.weight, pos_emb, blocks.N.{ln1, attn.{key,query,value,proj,mask}, ln2,
// mlp.0, mlp.2}, ln_f, head.weight). A Net2NetTransformer checkpoint holds it under "transformer.".
//
// Three ways to run it:
//  - forward(idx): logits of a code sequence, as GPT.forward(idx) (causal);
//  - forward_with_prefix(idx, prefix): the study's text conditioning: prefix vectors (the mapped
//    text embedding) placed before the tokens WITHOUT positional embedding, the causal mask over
//    the longer sequence, the prefix positions dropped before ln_f / head;
//  - step(cache, ...): incremental decoding against a preallocated key/value cache (the sampler).
// None of them switches autograd off: the mapping trainer back-propagates through the frozen GPT.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace torch::nn {
class Module;
}
namespace syn {
struct LoadReport;
}

namespace syn::models {

// transformer_config.params. Defaults: the celebahq_transformer GPT.
struct GPTConfig {
    int64_t vocab_size = 1024;
    int64_t block_size = 256;  // positions of pos_emb (code tokens; a prefix takes none)
    int64_t n_layer = 24;
    int64_t n_head = 16;
    int64_t n_embd = 1664;
    int64_t n_unmasked = 0;  // taming's bidirectional head of the sequence; only 0 is supported

    // Throws syn::Error naming `source` for impossible sizes or n_unmasked != 0.
    void validate(const std::string& source) const;
    // Before building: the sizes against a checkpoint's tensors (checkpoint_shapes.h); `source`
    // names the config file.
    void check_checkpoint(const TensorMap& tensors, const std::string& checkpoint, const std::string& source) const;
    int64_t parameter_count() const;
};

// Preallocated keys and values of every layer, [B, n_head, capacity, head_dim] each, filled in
// place by MinGPT::step (no per-step concatenation). `length` positions are valid; the first
// `prefix_length` of them are prefix vectors (which take no positional embedding).
struct KVCache {
    std::vector<at::Tensor> keys, values;
    int64_t batch = 0;
    int64_t capacity = 0;
    int64_t length = 0;
    int64_t prefix_length = 0;
    void reset() {
        length = 0;
        prefix_length = 0;
    }
};

class MinGPT {
public:
    explicit MinGPT(const GPTConfig& config);
    ~MinGPT();
    MinGPT(const MinGPT&) = delete;
    MinGPT& operator=(const MinGPT&) = delete;

    const GPTConfig& config() const { return config_; }

    // Prefix "transformer." when the checkpoint holds it (Net2NetTransformer), else "". The causal
    // mask buffers (blocks.N.attn.mask) are loaded and checked to be lower-triangular.
    LoadReport load_weights(const TensorMap& tensors, const std::string& source);

    // idx [B, T] integer, T <= block_size -> logits [B, T, vocab_size].
    at::Tensor forward(const at::Tensor& idx);
    // prefix [B, P, n_embd] (P >= 1), idx [B, T] -> logits [B, T, vocab_size] of the token positions.
    at::Tensor forward_with_prefix(const at::Tensor& idx, const at::Tensor& prefix);

    // A cache for `batch` rows and `capacity` positions (prefix + tokens), on the model's device
    // and dtype.
    KVCache make_cache(int64_t batch, int64_t capacity) const;
    // Appends `prefix` ([B, P, n_embd], only on an empty cache; may be undefined) and then the
    // tokens `idx` ([B, t], t >= 1) to the cache; returns the logits [B, t, vocab_size] of the new
    // token positions. Runs without autograd. Equal to forward / forward_with_prefix on the whole
    // sequence up to rounding (tested).
    at::Tensor step(KVCache& cache, const at::Tensor& idx, const at::Tensor& prefix = at::Tensor());

    torch::nn::Module& module();
    // Moves and casts (fp32 / bf16 / fp16 weights, no autocast needed).
    void to(c10::Device device, c10::ScalarType dtype);
    c10::Device device() const { return device_; }
    c10::ScalarType dtype() const { return dtype_; }

private:
    at::Tensor checked_ids(const at::Tensor& idx, int64_t first_position, const char* who) const;

    struct Impl;
    GPTConfig config_;
    std::unique_ptr<Impl> impl_;
    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
};

}  // namespace syn::models
