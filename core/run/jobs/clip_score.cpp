// CLIP-S from embeddings, and the generated images' way into CLIP's preprocessing.
#include "core/run/jobs/clip_score.h"

#include <ATen/ATen.h>

#include <cstring>
#include <string>

#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/session.h"
#include "models/clip.h"
#include "models/registry.h"

namespace syn::run {

namespace {

at::Tensor l2_normalize(const at::Tensor& x) { return x / x.norm(2, -1, /*keepdim=*/true); }

at::Tensor apply_kind(const at::Tensor& cosine, ClipScoreKind kind) {
    return kind == ClipScoreKind::cos100 ? cosine * 100.0 : 2.5 * cosine.clamp_min(0.0);
}

void check_embeddings(const at::Tensor& image_embeds, const at::Tensor& text_embeds) {
    if (!image_embeds.defined() || !text_embeds.defined() || image_embeds.dim() != 2 || text_embeds.dim() != 2 ||
        image_embeds.size(1) != text_embeds.size(1))
        throw Error("CLIP-S: image and text embeddings must be [N, P] with the same P (the same CLIP model)");
}

}  // namespace

at::Tensor clip_score_matrix(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind) {
    check_embeddings(image_embeds, text_embeds);
    auto cosine = at::matmul(l2_normalize(image_embeds.to(at::kFloat)), l2_normalize(text_embeds.to(at::kFloat)).t());
    return apply_kind(cosine, kind);
}

at::Tensor clip_score_pairs(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind) {
    check_embeddings(image_embeds, text_embeds);
    if (image_embeds.size(0) != text_embeds.size(0))
        throw Error("CLIP-S: " + std::to_string(image_embeds.size(0)) + " images but " +
                    std::to_string(text_embeds.size(0)) + " captions");
    auto cosine = (l2_normalize(image_embeds.to(at::kFloat)) * l2_normalize(text_embeds.to(at::kFloat))).sum(-1);
    return apply_kind(cosine, kind);
}

std::vector<models::RgbImage> rgb_images_from_uint8(const at::Tensor& images) {
    if (!images.defined() || images.dim() != 4 || images.size(3) != 3 || images.scalar_type() != at::kByte)
        throw Error("CLIP-S: images must be uint8 [B, H, W, 3]");
    auto cpu = images.to(at::kCPU).contiguous();
    std::vector<models::RgbImage> out(cpu.size(0));
    const size_t bytes = static_cast<size_t>(cpu.size(1) * cpu.size(2) * 3);
    for (int64_t i = 0; i < cpu.size(0); ++i) {
        out[i].height = static_cast<int>(cpu.size(1));
        out[i].width = static_cast<int>(cpu.size(2));
        out[i].pixels.resize(bytes);
        std::memcpy(out[i].pixels.data(), cpu[i].data_ptr<uint8_t>(), bytes);
    }
    return out;
}

at::Tensor clip_pixel_values(const std::vector<models::RgbImage>& images, const models::ClipImageConfig& config) {
    if (images.empty()) throw Error("CLIP-S: no images");
    auto out = at::empty({static_cast<int64_t>(images.size()), 3, config.crop_height, config.crop_width}, at::kFloat);
    for (size_t i = 0; i < images.size(); ++i) {
        const auto pixels = models::clip_preprocess(images[i], config);
        if (static_cast<int64_t>(pixels.size()) != out[i].numel())
            throw Error("CLIP-S: preprocessing gave " + std::to_string(pixels.size()) + " values, expected " +
                        std::to_string(out[i].numel()));
        std::memcpy(out[i].data_ptr<float>(), pixels.data(), pixels.size() * sizeof(float));
    }
    return out;
}

ClipScorer::ClipScorer(const std::string& clip_model, const std::string& device, ModelSession* session)
    : device_option_(device), session_(session) {
    auto resolved = resolve_model(clip_model);
    if (!resolved)
        throw Error("CLIP model '" + clip_model + "' is not in the local Hugging Face cache (" + hf_hub_cache_dir() +
                    "); fetch it or pass the model folder");
    folder_ = resolved->folder;
    const DeviceChoice dc = choose_device(device, "float32");
    device_ = dc.device;
    image_config_ = models::ClipImageConfig::load(folder_);
    if (session_) vision_ = session_->clip_vision(folder_, dc);
    else vision_ = models::load_clip_vision(folder_, dc.device, dc.dtype);
}

ClipScorer::~ClipScorer() = default;

at::Tensor ClipScorer::image_embeds(const std::vector<models::RgbImage>& images) {
    c10::InferenceMode guard;
    auto pixels = clip_pixel_values(images, image_config_).to(device_);
    return vision_->forward(pixels).image_embeds.to(at::kCPU, at::kFloat).contiguous();
}

at::Tensor ClipScorer::text_embeds(const std::vector<std::string>& texts, bool use_cache, const std::string& cache_root,
                                   std::size_t* truncated, const ProgressSink& progress, const CancelToken* cancel) {
    EmbedOptions eo;
    eo.model = folder_;
    eo.pooling = "projected";
    eo.device = device_option_;
    // CLIP-S is a reported metric (Table 3 separates encoders by ~0.1-0.3): both towers in float32
    // on every device, as the image tower above, whatever the embedding default is.
    eo.dtype = "float32";
    eo.use_cache = use_cache;
    eo.cache_root = cache_root;
    eo.session = session_;
    EmbedResult r = embed_texts(texts, eo, progress, cancel);
    if (truncated) *truncated = r.truncated_texts;
    return at::from_blob(r.rows.data(), {static_cast<int64_t>(texts.size()), r.dim}, at::kFloat).clone();
}

std::vector<double> ClipScorer::score_pairs(const std::vector<models::RgbImage>& images,
                                            const std::vector<std::string>& texts, ClipScoreKind kind,
                                            const ProgressSink& progress, const CancelToken* cancel) {
    if (images.size() != texts.size())
        throw Error("CLIP-S: " + std::to_string(images.size()) + " images but " + std::to_string(texts.size()) + " texts");
    if (images.empty()) return {};
    const at::Tensor text = text_embeds(texts, /*use_cache=*/false, "", nullptr, progress, cancel);
    throw_if_cancelled(cancel, "CLIP-S");
    const at::Tensor scores = clip_score_pairs(image_embeds(images), text, kind).to(at::kDouble).contiguous();
    return std::vector<double>(scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
}

}  // namespace syn::run
