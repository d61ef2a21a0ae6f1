#include "models/registry.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/io/checkpoint.h"
#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/torch/strict_loader.h"
#include "models/bert.h"
#include "models/t5_encoder.h"

namespace syn::models {

namespace {

struct TypeName {
    const char* model_type;
    Family family;
};
constexpr TypeName kModelTypes[] = {
    {"bert", Family::bert},        {"roberta", Family::roberta},         {"xlm-roberta", Family::roberta},
    {"clip", Family::clip_text},   {"clip_text_model", Family::clip_text}, {"t5", Family::t5},
    {"siglip", Family::siglip_text}, {"siglip_text_model", Family::siglip_text},
};

// Architecture class-name prefixes, for configs without model_type.
constexpr TypeName kArchitecturePrefixes[] = {
    {"XLMRoberta", Family::roberta}, {"Roberta", Family::roberta}, {"Bert", Family::bert},
    {"CLIP", Family::clip_text},     {"T5", Family::t5},           {"Siglip", Family::siglip_text},
};

std::string supported_types() {
    std::string out;
    for (const auto& t : kModelTypes) out += std::string(out.empty() ? "" : ", ") + t.model_type;
    return out;
}

std::string folder_of(const std::string& folder_or_config) {
    namespace fs = std::filesystem;
    if (fs::is_directory(folder_or_config)) return folder_or_config;
    return fs::path(folder_or_config).parent_path().string();
}

// Old TensorFlow-converted checkpoints name LayerNorm parameters gamma / beta; transformers renames
// them on load, so do we.
TensorMap rename_legacy_keys(const TensorMap& tensors) {
    auto ends_with = [](const std::string& s, const std::string& suffix) {
        return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    bool legacy = false;
    for (const auto& [name, raw] : tensors)
        if (ends_with(name, "LayerNorm.gamma") || ends_with(name, "LayerNorm.beta")) legacy = true;
    if (!legacy) return tensors;
    TensorMap out;
    for (const auto& [name, raw] : tensors) {
        std::string key = name;
        if (ends_with(key, "LayerNorm.gamma")) key = key.substr(0, key.size() - 5) + "weight";
        else if (ends_with(key, "LayerNorm.beta")) key = key.substr(0, key.size() - 4) + "bias";
        out[key] = raw;
    }
    return out;
}

}  // namespace

Family detect_family(const HfConfig& config) {
    const std::string type = config.model_type();
    if (!type.empty()) {
        for (const auto& t : kModelTypes)
            if (type == t.model_type) return t.family;
        throw file_error(config.source(), "model_type '" + type + "' is not a supported text encoder family (supported: " +
                                              supported_types() + ")");
    }
    for (const std::string& arch : config.architectures())
        for (const auto& a : kArchitecturePrefixes)
            if (arch.rfind(a.model_type, 0) == 0) return a.family;
    throw file_error(config.source(), "no model_type, and no known architecture in 'architectures': cannot tell the "
                                      "model family (supported model_type: " + supported_types() + ")");
}

std::unique_ptr<TextEncoder> build_text_encoder(const HfConfig& config) {
    switch (detect_family(config)) {
        case Family::bert: return make_bert_encoder(BertConfig::from_hf(config, false));
        case Family::roberta: return make_bert_encoder(BertConfig::from_hf(config, true));
        case Family::clip_text: return make_clip_text_encoder(ClipTextConfig::from_hf(config));
        case Family::t5: return make_t5_encoder(T5Config::from_hf(config));
        case Family::siglip_text: return make_siglip_text_encoder(SiglipTextConfig::from_hf(config));
    }
    throw file_error(config.source(), "unhandled model family");
}

void check_text_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint) {
    switch (detect_family(config)) {
        case Family::bert: return BertConfig::from_hf(config, false).check_checkpoint(config, tensors, checkpoint);
        case Family::roberta: return BertConfig::from_hf(config, true).check_checkpoint(config, tensors, checkpoint);
        case Family::clip_text: return ClipTextConfig::from_hf(config).check_checkpoint(config, tensors, checkpoint);
        case Family::t5: return T5Config::from_hf(config).check_checkpoint(config, tensors, checkpoint);
        case Family::siglip_text: return SiglipTextConfig::from_hf(config).check_checkpoint(config, tensors, checkpoint);
    }
}

namespace {

// An unsupported or malformed config fails before its weights are read.
void check_text_config(const HfConfig& config) {
    switch (detect_family(config)) {
        case Family::bert: BertConfig::from_hf(config, false); break;
        case Family::roberta: BertConfig::from_hf(config, true); break;
        case Family::clip_text: ClipTextConfig::from_hf(config); break;
        case Family::t5: T5Config::from_hf(config); break;
        case Family::siglip_text: SiglipTextConfig::from_hf(config); break;
    }
}

std::unique_ptr<TextEncoder> text_encoder_from(const HfConfig& config, const LoadedCheckpoint& checkpoint,
                                               c10::Device device, c10::ScalarType dtype) {
    const TensorMap tensors = rename_legacy_keys(checkpoint.tensors);
    // Sizes are held against the checkpoint before the module allocates them.
    check_text_checkpoint(config, tensors, checkpoint.path);
    auto encoder = build_text_encoder(config);
    encoder->load_weights(tensors, checkpoint.path);
    encoder->to(device, dtype);
    return encoder;
}

ClipVisionConfig clip_vision_config(const HfConfig& config) {
    const std::string type = config.model_type();
    if (type != "clip" && type != "clip_vision_model")
        throw file_error(config.source(), "model_type '" + type + "' is not a CLIP model (expected clip or clip_vision_model)");
    return ClipVisionConfig::from_hf(config);
}

std::unique_ptr<ClipVisionEncoder> clip_vision_from(const HfConfig& config, const ClipVisionConfig& vision,
                                                    const LoadedCheckpoint& checkpoint, c10::Device device,
                                                    c10::ScalarType dtype) {
    vision.check_checkpoint(config, checkpoint.tensors, checkpoint.path);
    auto encoder = std::make_unique<ClipVisionEncoder>(vision);
    encoder->load_weights(checkpoint.tensors, checkpoint.path);
    encoder->to(device, dtype);
    return encoder;
}

}  // namespace

std::unique_ptr<TextEncoder> load_text_encoder(const std::string& folder, c10::Device device, c10::ScalarType dtype) {
    const HfConfig config = HfConfig::load(folder);
    check_text_config(config);
    return text_encoder_from(config, load_checkpoint(folder_of(folder)), device, dtype);
}

std::unique_ptr<ClipVisionEncoder> load_clip_vision(const std::string& folder, c10::Device device,
                                                    c10::ScalarType dtype) {
    const HfConfig config = HfConfig::load(folder);
    const ClipVisionConfig vision = clip_vision_config(config);
    return clip_vision_from(config, vision, load_checkpoint(folder_of(folder)), device, dtype);
}

ClipTowers load_clip_towers(const std::string& folder, c10::Device device, c10::ScalarType dtype) {
    const HfConfig config = HfConfig::load(folder);
    if (config.model_type() != "clip")
        throw file_error(config.source(), "model_type '" + config.model_type() +
                                              "' does not hold both CLIP towers (expected clip)");
    check_text_config(config);
    const ClipVisionConfig vision = clip_vision_config(config);
    const LoadedCheckpoint checkpoint = load_checkpoint(folder_of(folder));
    ClipTowers towers;
    towers.text = text_encoder_from(config, checkpoint, device, dtype);
    towers.vision = clip_vision_from(config, vision, checkpoint, device, dtype);
    return towers;
}

}  // namespace syn::models
