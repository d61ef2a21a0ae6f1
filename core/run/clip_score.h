#pragma once
// CLIP-S of generated images against their captions (PAPER.md section 3): 100 x cosine of the CLIP
// image embedding and text embedding (the study's metric), or Hessel et al.'s 2.5 x max(cos, 0).
#include <ATen/core/Tensor.h>

#include <vector>

#include "models/clip_image.h"

namespace syn::run {

enum class ClipScoreKind { cos100, hessel };

// image_embeds [I, P], text_embeds [T, P] (either normalised or not) -> scores [I, T].
at::Tensor clip_score_matrix(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind);
// Paired scores [N]: image i with text i.
at::Tensor clip_score_pairs(const at::Tensor& image_embeds, const at::Tensor& text_embeds, ClipScoreKind kind);

// uint8 images [B, H, W, 3] (models::images_to_uint8 of the generator's output) -> RGB images.
std::vector<models::RgbImage> rgb_images_from_uint8(const at::Tensor& images);
// CLIPImageProcessor on each image -> pixel_values [B, 3, crop_h, crop_w] float32.
at::Tensor clip_pixel_values(const std::vector<models::RgbImage>& images, const models::ClipImageConfig& config);

}  // namespace syn::run
