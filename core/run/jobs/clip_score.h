#pragma once
// CLIP-S of generated images against their captions (PAPER.md section 3): 100 x cosine of the CLIP
// image embedding and text embedding (the study's metric), or Hessel et al.'s 2.5 x max(cos, 0).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/run/progress.h"
#include "models/clip_image.h"

namespace syn::models {
class ClipVisionEncoder;
}

namespace syn::run {

class ModelSession;

enum class ClipScoreKind { cos100, hessel };

// image_embeds [I, P], text_embeds [T, P] (either normalised or not) -> scores [I, T].
at::Tensor clip_score_matrix(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind);
// Paired scores [N]: image i with text i.
at::Tensor clip_score_pairs(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind);

// uint8 images [B, H, W, 3] (models::images_to_uint8 of the generator's output) -> RGB images.
std::vector<models::RgbImage> rgb_images_from_uint8(const at::Tensor& images);
// CLIPImageProcessor on each image -> pixel_values [B, 3, crop_h, crop_w] float32.
at::Tensor clip_pixel_values(const std::vector<models::RgbImage>& images, const models::ClipImageConfig& config);

// A CLIP model loaded once for scoring: the vision tower (image_embeds) and its image processor;
// texts go through the embedding job with the "projected" pooling (CLIPModel's text_embeds). The
// one path from images and captions to CLIP-S, used by `synesthesia score` and the workbench.
class ClipScorer {
public:
    // `clip_model`: a folder, or a hub / catalog id in the local Hugging Face cache (else syn::Error
    // naming the cache). `device`: auto, cpu, cuda, cuda:N.
    // `session` (may be null) keeps the vision tower and the text encoder resident between scorers.
    ClipScorer(const std::string& clip_model, const std::string& device, ModelSession* session = nullptr);
    ~ClipScorer();
    ClipScorer(const ClipScorer&) = delete;
    ClipScorer& operator=(const ClipScorer&) = delete;

    const std::string& folder() const { return folder_; }
    std::string device() const { return device_.str(); }

    // image_embeds [B, P] float32 on the CPU.
    at::Tensor image_embeds(const std::vector<models::RgbImage>& images);
    // text_embeds [T, P] float32 on the CPU; `truncated` counts texts cut at CLIP's 77 tokens.
    at::Tensor text_embeds(const std::vector<std::string>& texts, bool use_cache = true,
                           const std::string& cache_root = "", std::size_t* truncated = nullptr,
                           const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);
    // CLIP-S of image i with text i.
    std::vector<double> score_pairs(const std::vector<models::RgbImage>& images, const std::vector<std::string>& texts,
                                    ClipScoreKind kind, const ProgressSink& progress = {},
                                    const CancelToken* cancel = nullptr);

private:
    std::string folder_, device_option_;
    c10::Device device_ = c10::Device(c10::kCPU);
    models::ClipImageConfig image_config_;
    std::shared_ptr<models::ClipVisionEncoder> vision_;
    ModelSession* session_ = nullptr;
};

}  // namespace syn::run
