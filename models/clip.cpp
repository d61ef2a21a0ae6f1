// CLIP text / CLIP vision / SigLIP text, mirroring transformers' modeling_clip.py and modeling_siglip.py.
#include "models/clip.h"

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/torch/strict_loader.h"
#include "models/checkpoint_shapes.h"
#include "models/layers.h"

namespace syn::models {

using namespace detail;

namespace {

void check_heads(const HfConfig& config, int64_t hidden, int64_t heads) {
    if (heads <= 0 || hidden % heads != 0)
        throw file_error(config.source(), "key 'num_attention_heads' (" + std::to_string(heads) +
                                              ") does not divide 'hidden_size' (" + std::to_string(hidden) + ")");
}

// The text (or vision) part of a config.json, whichever layout it has: the whole-model config
// ("clip", "siglip") holds it under `sub_key`, a single-tower config is it.
HfConfig tower_config(const HfConfig& model, const std::string& sub_key, const std::string& tower_type) {
    const std::string type = model.model_type();
    if (type == tower_type) return model;
    return model.sub(sub_key);
}

}  // namespace

ClipTextConfig ClipTextConfig::from_hf(const HfConfig& model) {
    const HfConfig t = tower_config(model, "text_config", "clip_text_model");
    ClipTextConfig c;
    c.vocab_size = t.get_size("vocab_size", c.vocab_size);
    c.hidden_size = t.get_size("hidden_size", c.hidden_size);
    c.intermediate_size = t.get_size("intermediate_size", c.intermediate_size);
    c.num_hidden_layers = t.get_size("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = t.get_size("num_attention_heads", c.num_attention_heads);
    c.max_position_embeddings = t.get_size("max_position_embeddings", c.max_position_embeddings);
    c.eos_token_id = t.get_size("eos_token_id", c.eos_token_id, 0);
    c.layer_norm_eps = t.get_double("layer_norm_eps", c.layer_norm_eps);
    c.hidden_act = parse_activation(t, "hidden_act", "quick_gelu");
    c.attention_dropout = parse_dropout(t, "attention_dropout", c.attention_dropout);
    // CLIPModel sizes text_projection by its own projection_dim (text_config's is unused there);
    // CLIPTextModelWithProjection by the text config's.
    c.projection_dim = model.model_type() == "clip_text_model" ? t.get_size("projection_dim", c.projection_dim)
                                                                : model.get_size("projection_dim", c.projection_dim);
    check_heads(t, c.hidden_size, c.num_attention_heads);
    return c;
}

ClipVisionConfig ClipVisionConfig::from_hf(const HfConfig& model) {
    const HfConfig v = tower_config(model, "vision_config", "clip_vision_model");
    ClipVisionConfig c;
    c.hidden_size = v.get_size("hidden_size", c.hidden_size);
    c.intermediate_size = v.get_size("intermediate_size", c.intermediate_size);
    c.num_hidden_layers = v.get_size("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = v.get_size("num_attention_heads", c.num_attention_heads);
    c.num_channels = v.get_size("num_channels", c.num_channels);
    c.image_size = v.get_size("image_size", c.image_size);
    c.patch_size = v.get_size("patch_size", c.patch_size);
    c.layer_norm_eps = v.get_double("layer_norm_eps", c.layer_norm_eps);
    c.hidden_act = parse_activation(v, "hidden_act", "quick_gelu");
    c.projection_dim = model.model_type() == "clip_vision_model" ? v.get_size("projection_dim", c.projection_dim)
                                                                  : model.get_size("projection_dim", c.projection_dim);
    check_heads(v, c.hidden_size, c.num_attention_heads);
    if (c.patch_size <= 0 || c.image_size % c.patch_size != 0)
        throw file_error(v.source(), "key 'patch_size' (" + std::to_string(c.patch_size) + ") does not divide 'image_size' (" +
                                         std::to_string(c.image_size) + ")");
    return c;
}

SiglipTextConfig SiglipTextConfig::from_hf(const HfConfig& model) {
    const HfConfig t = tower_config(model, "text_config", "siglip_text_model");
    SiglipTextConfig c;
    c.vocab_size = t.get_size("vocab_size", c.vocab_size);
    c.hidden_size = t.get_size("hidden_size", c.hidden_size);
    c.intermediate_size = t.get_size("intermediate_size", c.intermediate_size);
    c.num_hidden_layers = t.get_size("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = t.get_size("num_attention_heads", c.num_attention_heads);
    c.max_position_embeddings = t.get_size("max_position_embeddings", c.max_position_embeddings);
    c.layer_norm_eps = t.get_double("layer_norm_eps", c.layer_norm_eps);
    c.hidden_act = parse_activation(t, "hidden_act", "gelu_pytorch_tanh");
    c.attention_dropout = parse_dropout(t, "attention_dropout", c.attention_dropout);
    c.projection_size = t.get_size("projection_size", c.hidden_size);
    check_heads(t, c.hidden_size, c.num_attention_heads);
    return c;
}

namespace {

// The anchors CLIP and SigLIP text towers share: text_model.{embeddings.{token,position}_embedding,
// encoder.layers.N.mlp.fc1}.
void check_text_tower(const HfConfig& tower, const CheckpointShapes& shapes, int64_t vocab, int64_t hidden,
                      int64_t positions, int64_t layers, int64_t intermediate) {
    const ConfigSize h = config_size(tower, "hidden_size", hidden);
    shapes.expect("text_model.embeddings.token_embedding.weight", {config_size(tower, "vocab_size", vocab), h});
    shapes.expect("text_model.embeddings.position_embedding.weight",
                  {config_size(tower, "max_position_embeddings", positions), h});
    shapes.expect_count("text_model.encoder.layers.", config_size(tower, "num_hidden_layers", layers));
    shapes.expect("text_model.encoder.layers.0.mlp.fc1.weight", {config_size(tower, "intermediate_size", intermediate), h});
}

// Where projection_dim was read from: the tower config of a single-tower checkpoint, else the top level.
const HfConfig& projection_config(const HfConfig& model, const HfConfig& tower, const std::string& tower_type) {
    return model.model_type() == tower_type ? tower : model;
}

}  // namespace

void ClipTextConfig::check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const {
    const HfConfig t = tower_config(model, "text_config", "clip_text_model");
    const CheckpointShapes shapes(tensors, checkpoint);
    check_text_tower(t, shapes, vocab_size, hidden_size, max_position_embeddings, num_hidden_layers, intermediate_size);
    const HfConfig& projection_source = projection_config(model, t, "clip_text_model");
    shapes.expect_if_present("text_projection.weight", {config_size(projection_source, "projection_dim", projection_dim),
                                                        config_size(t, "hidden_size", hidden_size)});
    // A text tower without text_projection (CLIPTextModel) still builds the layer, unused: with no
    // tensor to hold projection_dim against, bound it so that a hostile value cannot allocate.
    constexpr int64_t kLargestUncheckedProjection = 65536;  // real towers: 512 to 1,280
    if (!tensors.count("text_projection.weight") && projection_dim > kLargestUncheckedProjection)
        throw file_error(projection_source.source(),
                         "key 'projection_dim' = " + std::to_string(projection_dim) + " is larger than " +
                             std::to_string(kLargestUncheckedProjection) + ", and " + checkpoint +
                             " has no text_projection.weight to hold it against");
}

void SiglipTextConfig::check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const {
    const HfConfig t = tower_config(model, "text_config", "siglip_text_model");
    const CheckpointShapes shapes(tensors, checkpoint);
    check_text_tower(t, shapes, vocab_size, hidden_size, max_position_embeddings, num_hidden_layers, intermediate_size);
    shapes.expect("text_model.head.weight",
                  {config_size(t, "projection_size", projection_size), config_size(t, "hidden_size", hidden_size)});
}

void ClipVisionConfig::check_checkpoint(const HfConfig& model, const TensorMap& tensors, const std::string& checkpoint) const {
    const HfConfig v = tower_config(model, "vision_config", "clip_vision_model");
    const CheckpointShapes shapes(tensors, checkpoint);
    const ConfigSize h = config_size(v, "hidden_size", hidden_size);
    const ConfigSize patch = config_size(v, "patch_size", patch_size);
    shapes.expect("vision_model.embeddings.patch_embedding.weight",
                  {h, config_size(v, "num_channels", num_channels), patch, patch});
    const int64_t side = image_size / patch_size;
    shapes.expect("vision_model.embeddings.position_embedding.weight",
                  {derived_size("(image_size/patch_size)^2+1", side * side + 1, {config_size(v, "image_size", image_size), patch}), h});
    shapes.expect_count("vision_model.encoder.layers.", config_size(v, "num_hidden_layers", num_hidden_layers));
    shapes.expect("vision_model.encoder.layers.0.mlp.fc1.weight", {config_size(v, "intermediate_size", intermediate_size), h});
    shapes.expect("visual_projection.weight",
                  {config_size(projection_config(model, v, "clip_vision_model"), "projection_dim", projection_dim), h});
}

namespace {

struct LayerSizes {
    int64_t hidden, intermediate, heads;
    double eps;
    Activation act;
    double attention_dropout = 0.0;
};

// encoder.layers.N: layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.{fc1,fc2}; pre-LN.
// self_attn.dropout (no parameters) drops attention probabilities in train() mode, as CLIPAttention.
struct ClipLayer : torch::nn::Module {
    torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
    torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr}, fc1{nullptr}, fc2{nullptr};
    torch::nn::Dropout attention_dropout{nullptr};
    int64_t heads;
    double scale;
    Activation act;

    explicit ClipLayer(const LayerSizes& s)
        : heads(s.heads), scale(1.0 / std::sqrt(double(s.hidden / s.heads))), act(s.act) {
        layer_norm1 = register_module("layer_norm1", make_layer_norm(s.hidden, s.eps));
        auto attn = add_container(*this, "self_attn");
        q_proj = attn->register_module("q_proj", make_linear(s.hidden, s.hidden));
        k_proj = attn->register_module("k_proj", make_linear(s.hidden, s.hidden));
        v_proj = attn->register_module("v_proj", make_linear(s.hidden, s.hidden));
        out_proj = attn->register_module("out_proj", make_linear(s.hidden, s.hidden));
        attention_dropout = attn->register_module("dropout", torch::nn::Dropout(s.attention_dropout));
        layer_norm2 = register_module("layer_norm2", make_layer_norm(s.hidden, s.eps));
        auto mlp = add_container(*this, "mlp");
        fc1 = mlp->register_module("fc1", make_linear(s.hidden, s.intermediate));
        fc2 = mlp->register_module("fc2", make_linear(s.intermediate, s.hidden));
    }

    at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
        auto h = norm32(layer_norm1, x);
        auto context = attention(split_heads(q_proj(h), heads), split_heads(k_proj(h), heads),
                                 split_heads(v_proj(h), heads), bias, scale, dropout_rate(attention_dropout));
        auto y = x + out_proj(merge_heads(context));
        return y + fc2(apply_activation(act, fc1(norm32(layer_norm2, y))));
    }
};

// `<parent>.encoder.layers.N`
std::vector<std::shared_ptr<ClipLayer>> add_encoder(torch::nn::Module& parent, int64_t count, const LayerSizes& s) {
    auto layers = add_container(*add_container(parent, "encoder"), "layers");
    std::vector<std::shared_ptr<ClipLayer>> out;
    for (int64_t i = 0; i < count; ++i)
        out.push_back(layers->register_module(std::to_string(i), std::make_shared<ClipLayer>(s)));
    return out;
}

at::Tensor run_layers(const std::vector<std::shared_ptr<ClipLayer>>& layers, at::Tensor x, const at::Tensor& bias) {
    for (auto& layer : layers) x = layer->forward(x, bias);
    return x;
}

const std::vector<std::string> kPositionIdBuffers = {"text_model.embeddings.position_ids",
                                                     "vision_model.embeddings.position_ids"};

// ----------------------------------------------------------------------------------------------
// CLIP text: text_model.{embeddings.{token,position}_embedding, encoder, final_layer_norm},
// text_projection (no bias).

struct ClipTextModule : torch::nn::Module {
    torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
    std::vector<std::shared_ptr<ClipLayer>> layers;
    torch::nn::LayerNorm final_layer_norm{nullptr};
    torch::nn::Linear text_projection{nullptr};

    explicit ClipTextModule(const ClipTextConfig& c) {
        auto text = add_container(*this, "text_model");
        auto emb = add_container(*text, "embeddings");
        token_embedding = emb->register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
        position_embedding =
            emb->register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
        layers = add_encoder(*text, c.num_hidden_layers,
                             {c.hidden_size, c.intermediate_size, c.num_attention_heads, c.layer_norm_eps, c.hidden_act,
                              c.attention_dropout});
        final_layer_norm = text->register_module("final_layer_norm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
        text_projection = register_module("text_projection", make_linear(c.hidden_size, c.projection_dim, false));
    }
};

class ClipTextEncoder final : public TextEncoder {
public:
    explicit ClipTextEncoder(const ClipTextConfig& c) : config_(c), module_(std::make_shared<ClipTextModule>(c)) {
        module_->eval();
    }

    Family family() const override { return Family::clip_text; }
    torch::nn::Module& module() override { return *module_; }
    int64_t vocab_size() const override { return config_.vocab_size; }
    int64_t hidden_size() const override { return config_.hidden_size; }
    int64_t projection_size() const override { return has_projection_ ? config_.projection_dim : 0; }
    int64_t max_tokens() const override { return config_.max_position_embeddings; }
    bool has_trained_pooler() const override { return true; }  // its pooler is the EOT state, no weights
    bool has_projection() const override { return has_projection_; }

    LoadReport load_weights(const TensorMap& tensors, const std::string& source) override {
        LoadOptions options;
        // CLIPTextModel checkpoints have no projection: 'projected' is then refused.
        options.allow_missing = {"text_projection.weight"};
        options.ignore_unexpected = kPositionIdBuffers;
        LoadReport report = load_state_dict(*module_, tensors, source, options);
        has_projection_ = tensors.count("text_projection.weight") > 0;
        source_ = source;
        return report;
    }

protected:
    EncoderOutput encode(const Inputs& in) override {
        const at::Tensor& ids = in.ids;
        auto& m = *module_;
        const int64_t t = ids.size(1);
        auto x = m.token_embedding(ids) + m.position_embedding(at::arange(t, ids.options()).unsqueeze(0));
        x = run_layers(m.layers, x, causal_padding_bias(in.mask, x.scalar_type()));
        x = norm32(m.final_layer_norm, x);

        EncoderOutput out;
        out.last_hidden_state = x;
        // The end-of-text position: the legacy OpenAI configs (eos_token_id 2) take the argmax of the
        // ids (EOT has the highest id of the vocabulary); newer ones the first eos_token_id.
        out.eos_index = config_.eos_token_id == 2 ? ids.argmax(-1) : ids.eq(config_.eos_token_id).to(at::kInt).argmax(-1);
        auto rows = at::arange(x.size(0), ids.options());
        out.pooler_output = x.index({rows, out.eos_index});
        if (has_projection_) out.projected = m.text_projection(out.pooler_output);
        return out;
    }

private:
    ClipTextConfig config_;
    std::shared_ptr<ClipTextModule> module_;
    bool has_projection_ = false;
};

// ----------------------------------------------------------------------------------------------
// SigLIP text: text_model.{embeddings, encoder, final_layer_norm, head}.

struct SiglipTextModule : torch::nn::Module {
    torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
    std::vector<std::shared_ptr<ClipLayer>> layers;
    torch::nn::LayerNorm final_layer_norm{nullptr};
    torch::nn::Linear head{nullptr};

    explicit SiglipTextModule(const SiglipTextConfig& c) {
        auto text = add_container(*this, "text_model");
        auto emb = add_container(*text, "embeddings");
        token_embedding = emb->register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
        position_embedding =
            emb->register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
        layers = add_encoder(*text, c.num_hidden_layers,
                             {c.hidden_size, c.intermediate_size, c.num_attention_heads, c.layer_norm_eps, c.hidden_act,
                              c.attention_dropout});
        final_layer_norm = text->register_module("final_layer_norm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
        head = text->register_module("head", make_linear(c.hidden_size, c.projection_size));
    }
};

class SiglipTextEncoder final : public TextEncoder {
public:
    explicit SiglipTextEncoder(const SiglipTextConfig& c) : config_(c), module_(std::make_shared<SiglipTextModule>(c)) {
        module_->eval();
    }

    Family family() const override { return Family::siglip_text; }
    torch::nn::Module& module() override { return *module_; }
    int64_t vocab_size() const override { return config_.vocab_size; }
    int64_t hidden_size() const override { return config_.hidden_size; }
    int64_t projection_size() const override { return config_.projection_size; }
    int64_t max_tokens() const override { return config_.max_position_embeddings; }
    int64_t required_length() const override { return config_.max_position_embeddings; }
    bool has_trained_pooler() const override { return true; }
    bool has_projection() const override { return true; }

    LoadReport load_weights(const TensorMap& tensors, const std::string& source) override {
        LoadOptions options;
        options.ignore_unexpected = kPositionIdBuffers;
        LoadReport report = load_state_dict(*module_, tensors, source, options);
        source_ = source;
        return report;
    }

protected:
    EncoderOutput encode(const Inputs& in) override {
        // SigLIP attends over the padding too (in.mask unused): it was trained padded to 64 without a mask.
        const at::Tensor& ids = in.ids;
        auto& m = *module_;
        const int64_t t = ids.size(1);
        auto x = m.token_embedding(ids) + m.position_embedding(at::arange(t, ids.options()).unsqueeze(0));
        x = norm32(m.final_layer_norm, run_layers(m.layers, x, at::Tensor()));

        EncoderOutput out;
        out.last_hidden_state = x;
        out.eos_index = at::full({x.size(0)}, t - 1, ids.options());
        out.pooler_output = m.head(x.select(1, t - 1));  // the last token, padding or not
        out.projected = out.pooler_output;               // SiglipModel's text_embeds
        return out;
    }

private:
    SiglipTextConfig config_;
    std::shared_ptr<SiglipTextModule> module_;
};

// ----------------------------------------------------------------------------------------------
// CLIP vision: vision_model.{embeddings.{class_embedding, patch_embedding, position_embedding},
// pre_layrnorm (sic), encoder, post_layernorm}, visual_projection (no bias).

struct ClipVisionModule : torch::nn::Module {
    at::Tensor class_embedding;
    torch::nn::Conv2d patch_embedding{nullptr};
    torch::nn::Embedding position_embedding{nullptr};
    torch::nn::LayerNorm pre_layrnorm{nullptr}, post_layernorm{nullptr};
    std::vector<std::shared_ptr<ClipLayer>> layers;
    torch::nn::Linear visual_projection{nullptr};

    explicit ClipVisionModule(const ClipVisionConfig& c) {
        auto vision = add_container(*this, "vision_model");
        auto emb = add_container(*vision, "embeddings");
        class_embedding = emb->register_parameter("class_embedding", torch::randn({c.hidden_size}));
        patch_embedding = emb->register_module(
            "patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size)
                                                     .stride(c.patch_size)
                                                     .bias(false)));
        const int64_t patches = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
        position_embedding = emb->register_module("position_embedding", torch::nn::Embedding(patches + 1, c.hidden_size));
        pre_layrnorm = vision->register_module("pre_layrnorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
        layers = add_encoder(*vision, c.num_hidden_layers,
                             {c.hidden_size, c.intermediate_size, c.num_attention_heads, c.layer_norm_eps, c.hidden_act});
        post_layernorm = vision->register_module("post_layernorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
        visual_projection = register_module("visual_projection", make_linear(c.hidden_size, c.projection_dim, false));
    }
};

}  // namespace

struct ClipVisionEncoder::Impl {
    ClipVisionConfig config;
    std::shared_ptr<ClipVisionModule> module;
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
};

ClipVisionEncoder::ClipVisionEncoder(const ClipVisionConfig& config) : impl_(std::make_unique<Impl>()) {
    impl_->config = config;
    impl_->module = std::make_shared<ClipVisionModule>(config);
    impl_->module->eval();
}

ClipVisionEncoder::~ClipVisionEncoder() = default;

const ClipVisionConfig& ClipVisionEncoder::config() const { return impl_->config; }
torch::nn::Module& ClipVisionEncoder::module() { return *impl_->module; }

void ClipVisionEncoder::to(c10::Device device, c10::ScalarType dtype) {
    detail::cast_module(*impl_->module, device, dtype);
    impl_->device = device;
    impl_->dtype = dtype;
}

LoadReport ClipVisionEncoder::load_weights(const TensorMap& tensors, const std::string& source) {
    LoadOptions options;
    options.ignore_unexpected = kPositionIdBuffers;
    return load_state_dict(*impl_->module, tensors, source, options);
}

VisionOutput ClipVisionEncoder::forward(const at::Tensor& pixel_values) {
    torch::NoGradGuard no_grad;
    const auto& c = impl_->config;
    if (!pixel_values.defined() || pixel_values.dim() != 4 || pixel_values.size(1) != c.num_channels ||
        pixel_values.size(2) != c.image_size || pixel_values.size(3) != c.image_size)
        throw Error("clip vision encoder: pixel_values must be [batch, " + std::to_string(c.num_channels) + ", " +
                    std::to_string(c.image_size) + ", " + std::to_string(c.image_size) + "]" +
                    (pixel_values.defined() ? ", got " + c10::str(pixel_values.sizes()) : ""));
    auto& m = *impl_->module;
    auto pixels = pixel_values.to(impl_->device, impl_->dtype);
    const int64_t b = pixels.size(0);
    auto patches = m.patch_embedding(pixels).flatten(2).transpose(1, 2);  // [B, N, H]
    auto cls = m.class_embedding.expand({b, 1, -1});
    auto x = at::cat({cls, patches}, 1) + m.position_embedding->weight.unsqueeze(0);
    x = run_layers(m.layers, norm32(m.pre_layrnorm, x), at::Tensor());

    VisionOutput out;
    out.last_hidden_state = x;
    out.pooler_output = norm32(m.post_layernorm, x.select(1, 0));
    out.image_embeds = m.visual_projection(out.pooler_output);
    return out;
}

std::unique_ptr<TextEncoder> make_clip_text_encoder(const ClipTextConfig& config) {
    return std::make_unique<ClipTextEncoder>(config);
}

std::unique_ptr<TextEncoder> make_siglip_text_encoder(const SiglipTextConfig& config) {
    return std::make_unique<SiglipTextEncoder>(config);
}

}  // namespace syn::models
