#pragma once
// From a Hugging Face model folder to the right encoder: config.json's model_type (or, when absent,
// its architectures) picks the family; the weights go through the single strict loading path
// (load_checkpoint + load_state_dict), then the module moves to the device and dtype asked for.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"
#include "models/clip.h"
#include "models/pooling.h"
#include "models/text_encoder.h"

namespace syn {
class HfConfig;
}

namespace syn::models {

// The family of a config.json. model_type: bert, roberta, xlm-roberta, clip, clip_text_model, t5,
// siglip, siglip_text_model; else architectures (BertModel, RobertaModel, CLIPModel, T5EncoderModel,
// SiglipModel, ...). Anything else -> syn::Error "<config.json>: model_type 'x' is not a supported
// text encoder family (supported: ...)".
Family detect_family(const HfConfig& config);

// A module of the config's shape with random weights (benchmarks, tests).
std::unique_ptr<TextEncoder> build_text_encoder(const HfConfig& config);

// Holds every size of the config against the checkpoint's tensors (no module is built): a
// mismatch -> syn::Error naming the config key and the tensor.
void check_text_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint);

// config.json + weights of `folder` (or of a config.json path's folder). A checkpoint of another
// family fails in the strict loader, listing the missing keys.
std::unique_ptr<TextEncoder> load_text_encoder(const std::string& folder, c10::Device device = c10::Device(c10::kCPU),
                                               c10::ScalarType dtype = c10::kFloat);

// CLIP vision tower + visual_projection of a CLIP folder (model_type clip or clip_vision_model).
std::unique_ptr<ClipVisionEncoder> load_clip_vision(const std::string& folder,
                                                    c10::Device device = c10::Device(c10::kCPU),
                                                    c10::ScalarType dtype = c10::kFloat);

// Both towers of a CLIP folder from one read of its checkpoint (CLIP-S needs the text and the
// image tower of the same model; a pytorch_model.bin is a full read each time).
struct ClipTowers {
    std::unique_ptr<TextEncoder> text;
    std::unique_ptr<ClipVisionEncoder> vision;
};
ClipTowers load_clip_towers(const std::string& folder, c10::Device device = c10::Device(c10::kCPU),
                            c10::ScalarType dtype = c10::kFloat);

}  // namespace syn::models
