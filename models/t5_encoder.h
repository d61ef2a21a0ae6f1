#pragma once
// T5 encoder (transformers T5EncoderModel): shared token embedding, bidirectional relative position
// buckets computed by the first block and reused by all, RMS LayerNorm without mean or bias, no
// attention scaling, and a relu or gated feed-forward per `feed_forward_proj`.
#include <cstdint>
#include <memory>

#include "core/io/raw_tensor.h"
#include "models/activation.h"
#include "models/text_encoder.h"

namespace syn {
class HfConfig;
}

namespace syn::models {

struct T5Config {
    int64_t vocab_size = 32128;
    int64_t d_model = 512;
    int64_t d_kv = 64;
    int64_t d_ff = 2048;
    int64_t num_layers = 6;
    int64_t num_heads = 8;
    int64_t relative_attention_num_buckets = 32;
    int64_t relative_attention_max_distance = 128;
    double layer_norm_epsilon = 1e-6;
    bool gated = false;                          // "gated-gelu": wi_0, wi_1; else wi
    Activation dense_act = Activation::relu;     // "gated-gelu" means gelu_new, as in transformers

    // feed_forward_proj "relu", "gated-gelu" or "[gated-]<act>"; anything else -> syn::Error.
    static T5Config from_hf(const HfConfig& config);
    // Before building: every size against the checkpoint's tensors (checkpoint_shapes.h).
    void check_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint) const;
};

std::unique_ptr<TextEncoder> make_t5_encoder(const T5Config& config);

// The bucket of each (query, key) pair, [q_len, k_len] int64 (exposed for tests).
at::Tensor t5_relative_position_buckets(int64_t q_len, int64_t k_len, bool bidirectional, int64_t num_buckets,
                                        int64_t max_distance);

}  // namespace syn::models
