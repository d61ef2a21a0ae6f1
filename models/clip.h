#pragma once
// CLIP-style pre-LayerNorm transformers (transformers modeling_clip / modeling_siglip): CLIP text
// (causal, pooled at the end-of-text token, text_projection), CLIP vision (class token, patch
// convolution, pre_layrnorm, post_layernorm on the class token, visual_projection) and SigLIP text
// (no mask, last token, head). They share one encoder layer, named like the checkpoints:
// encoder.layers.N.{layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2}.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/io/raw_tensor.h"
#include "models/activation.h"
#include "models/text_encoder.h"

namespace syn {
class HfConfig;
}

namespace syn::models {

struct ClipTextConfig {
    int64_t vocab_size = 49408;
    int64_t hidden_size = 512;
    int64_t intermediate_size = 2048;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 8;
    int64_t max_position_embeddings = 77;
    int64_t eos_token_id = 49407;  // 2 in the original OpenAI configs: pool at argmax(input_ids)
    int64_t projection_dim = 512;  // CLIPModel: the top-level projection_dim
    double layer_norm_eps = 1e-5;
    Activation hidden_act = Activation::quick_gelu;
    double attention_dropout = 0.0;  // on the attention probabilities, train() mode only

    // `model` is the whole config.json: model_type "clip" (reads text_config, projection_dim at the
    // top level as CLIPModel does) or "clip_text_model" (the text config itself).
    static ClipTextConfig from_hf(const HfConfig& model);
    // Before building: every size against the checkpoint's tensors (checkpoint_shapes.h); `model` as for from_hf.
    void check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const;
};

struct ClipVisionConfig {
    int64_t hidden_size = 768;
    int64_t intermediate_size = 3072;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 12;
    int64_t num_channels = 3;
    int64_t image_size = 224;
    int64_t patch_size = 32;
    int64_t projection_dim = 512;
    double layer_norm_eps = 1e-5;
    Activation hidden_act = Activation::quick_gelu;

    // model_type "clip" (vision_config + top-level projection_dim) or "clip_vision_model".
    static ClipVisionConfig from_hf(const HfConfig& model);
    // Before building: every size against the checkpoint's tensors (checkpoint_shapes.h); `model` as for from_hf.
    void check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const;
};

struct SiglipTextConfig {
    int64_t vocab_size = 32000;
    int64_t hidden_size = 768;
    int64_t intermediate_size = 3072;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 12;
    int64_t max_position_embeddings = 64;
    int64_t projection_size = 768;  // head width; transformers: defaults to hidden_size
    double layer_norm_eps = 1e-6;
    Activation hidden_act = Activation::gelu_pytorch_tanh;
    double attention_dropout = 0.0;  // on the attention probabilities, train() mode only

    // model_type "siglip" (text_config) or "siglip_text_model".
    static SiglipTextConfig from_hf(const HfConfig& model);
    // Before building: every size against the checkpoint's tensors (checkpoint_shapes.h); `model` as for from_hf.
    void check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const;
};

std::unique_ptr<TextEncoder> make_clip_text_encoder(const ClipTextConfig& config);
std::unique_ptr<TextEncoder> make_siglip_text_encoder(const SiglipTextConfig& config);

struct VisionOutput {
    at::Tensor last_hidden_state;  // [B, 1 + patches, H]
    at::Tensor pooler_output;      // [B, H]: post_layernorm of the class token
    at::Tensor image_embeds;       // [B, P]: visual_projection(pooler_output), not normalised
};

// CLIPVisionModelWithProjection.
class ClipVisionEncoder {
public:
    explicit ClipVisionEncoder(const ClipVisionConfig& config);
    ~ClipVisionEncoder();
    ClipVisionEncoder(const ClipVisionEncoder&) = delete;
    ClipVisionEncoder& operator=(const ClipVisionEncoder&) = delete;

    // pixel_values [B, C, S, S] (S = image_size, already normalised), any floating dtype.
    VisionOutput forward(const at::Tensor& pixel_values);
    LoadReport load_weights(const TensorMap& tensors, const std::string& source);
    void to(c10::Device device, c10::ScalarType dtype);
    const ClipVisionConfig& config() const;
    torch::nn::Module& module();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace syn::models
