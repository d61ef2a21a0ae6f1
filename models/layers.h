#pragma once
// Building blocks shared by the encoder families (internal to models/: includes torch).
#include <torch/torch.h>

#include <memory>
#include <string>

#include "models/activation.h"

namespace syn {
class HfConfig;
}

namespace syn::models::detail {

// A dropout probability of config.json: absent or null -> `fallback`; outside [0, 1) -> syn::Error
// naming the file and key.
double parse_dropout(const HfConfig& config, const std::string& key, double fallback);

at::Tensor apply_activation(Activation activation, const at::Tensor& x);

// A plain container module registered under `name`, so that children get dotted names that mirror
// the checkpoint keys ("attention" -> "attention.self.query.weight").
std::shared_ptr<torch::nn::Module> add_container(torch::nn::Module& parent, const std::string& name);

torch::nn::Linear make_linear(int64_t in, int64_t out, bool bias = true);
torch::nn::LayerNorm make_layer_norm(int64_t size, double eps);

// Moves a module tree to `device` and casts its floating parameters and buffers to `dtype`, except
// the normalisation layers (LayerNorm, GroupNorm, BatchNorm), which stay float32: in bfloat16 and
// float16 runs their statistics and affine are computed in float32, as autocast does.
void cast_module(torch::nn::Module& module, c10::Device device, c10::ScalarType dtype);

// A normalisation layer (LayerNorm / GroupNorm holder) applied in its own dtype (float32 after
// cast_module) to activations of any dtype; the result comes back in x's dtype. Same as norm(x)
// when the dtypes agree.
template <class Norm>
at::Tensor norm32(Norm& norm, const at::Tensor& x) {
    const at::ScalarType own = norm->weight.scalar_type();
    if (x.scalar_type() == own) return norm(x);
    return norm(x.to(own)).to(x.scalar_type());
}

// The most negative finite value of a floating dtype (what transformers adds for masked keys).
double lowest_value(at::ScalarType dtype);

// Additive attention bias [B, 1, 1, T] from a padding mask [B, T]: 0 where mask != 0, lowest()
// elsewhere, in `dtype`.
at::Tensor padding_bias(const at::Tensor& attention_mask, at::ScalarType dtype);
// Padding combined with causality: [B, 1, T, T], key j visible to query i when j <= i and mask[j].
at::Tensor causal_padding_bias(const at::Tensor& attention_mask, at::ScalarType dtype);

// [B, T, H*D] -> [B, H, T, D] and back.
at::Tensor split_heads(const at::Tensor& x, int64_t heads);
at::Tensor merge_heads(const at::Tensor& x);

// softmax(q k^T * scale + bias) v over [B, H, T, D] tensors; `bias` broadcastable to [B, H, T, T]
// or undefined; dropout_p > 0 drops attention probabilities (training). Uses the fused kernel of
// libtorch >= 2.1, the plain formula otherwise.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                     double scale, double dropout_p = 0.0);

// The probability an attention-probability Dropout module stands for right now: its p in train
// mode, 0 in eval mode (the module itself is registered for its name and train/eval state; the
// fused attention applies the dropout).
double dropout_rate(const torch::nn::Dropout& dropout);

}  // namespace syn::models::detail
