#pragma once
// What sentence-transformers puts after the Transformer: Pooling (one or several modes, concatenated)
// -> Dense (Linear + activation)* / Normalize*, computed with sentence-transformers' formulas
// (sentence_transformers/models/Pooling.py, Dense.py, Normalize.py):
//   cls            token_embeddings[:, 0]
//   max            padded positions set to -1e9, then the max over positions
//   mean           sum(mask * h) / clamp(sum(mask), 1e-9)
//   mean_sqrt_len  sum(mask * h) / sqrt(clamp(sum(mask), 1e-9))
//   weightedmean   weights 1..T by position (absolute, padding included), times the mask:
//                  sum(w * h) / clamp(sum(w), 1e-9)
//   lasttoken      the last position whose mask is 1 (right or left padding), times its mask (a row
//                  with no token at all gives zeros)
//   concatenation order: cls, max, mean, mean_sqrt_len, weightedmean, lasttoken
//   include_prompt = false: the first `prompt_length` positions get mask 0 before pooling (cls is
//                  not affected, as in sentence-transformers)
//   Dense          activation(x W^T + b)
//   Normalize      x / max(||x||_2, 1e-12)
// Everything runs in float32, whatever the encoder's dtype. Built from plain options (core/io reads
// and validates the files); the Dense weights are filled by name ("linear.weight", "linear.bias")
// through the strict loader. No torch headers here beyond ATen's tensor type.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn::models {

struct SentencePoolingOptions {
    bool cls = false;
    bool max = false;
    bool mean = false;
    bool mean_sqrt_len = false;
    bool weightedmean = false;
    bool lasttoken = false;
    bool include_prompt = true;
    int modes() const;
    // "cls+mean": the modes on, in concatenation order, with sentence-transformers' names
    // (cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken).
    std::string describe() const;
};

enum class DenseActivation { identity, tanh, relu, gelu, sigmoid, silu };
// "identity", "tanh", "relu", "gelu", "sigmoid", "silu"; anything else -> syn::Error.
DenseActivation parse_dense_activation(const std::string& name);
const char* dense_activation_name(DenseActivation activation);

struct SentenceDenseOptions {
    int64_t in_features = 0;
    int64_t out_features = 0;
    bool bias = true;
    DenseActivation activation = DenseActivation::tanh;
};

struct SentencePipelineOptions {
    int64_t hidden_size = 0;  // the transformer's: the width every pooling mode gives
    SentencePoolingOptions pooling;
    struct Step {
        enum class Kind { dense, normalize } kind = Kind::normalize;
        SentenceDenseOptions dense;  // kind == dense
    };
    std::vector<Step> steps;  // after pooling, in order
};

// The pooling alone: [B, T, H] + [B, T] -> [B, modes * H] float32, on the hidden states' device.
at::Tensor sentence_pool(const at::Tensor& token_embeddings, const at::Tensor& attention_mask,
                         const SentencePoolingOptions& options, int64_t prompt_length = 0);

class SentencePipeline {
public:
    // Checks the options (a mode on, positive sizes, each Dense's in_features equal to the width
    // before it) and builds the Dense layers with zero weights; throws syn::Error.
    explicit SentencePipeline(const SentencePipelineOptions& options);
    ~SentencePipeline();
    SentencePipeline(const SentencePipeline&) = delete;
    SentencePipeline& operator=(const SentencePipeline&) = delete;

    size_t dense_count() const;
    // Fills Dense layer `index` (0-based, counting Dense steps only) by name through the strict
    // loader; missing, unexpected or mis-shaped keys are errors naming `source`.
    void load_dense_weights(size_t index, const TensorMap& tensors, const std::string& source);

    // [B, T, H] (any floating dtype, any device) + mask [B, T] -> [B, output_size()] float32.
    at::Tensor forward(const at::Tensor& last_hidden_state, const at::Tensor& attention_mask,
                       int64_t prompt_length = 0) const;

    int64_t output_size() const;
    // "st:mean+dense+normalize"
    std::string describe() const;
    const SentencePipelineOptions& options() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace syn::models
