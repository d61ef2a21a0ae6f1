#pragma once
// CLIP image preprocessing, as transformers' CLIPImageProcessor does it: RGB, resize so the
// shortest side is `shortest_edge` (the longer one to int(size * long / short)), centre crop,
// x / 255, (x - mean) / std, channels first.
//
// The bicubic resize is reimplemented exactly, in the two flavours transformers may use:
//  - torchvision (the default backend of transformers 5, which produced the fixtures): torch's
//    uint8 antialiased bicubic kernel, int16 fixed-point weights;
//  - pillow (the PIL backend, transformers 4's CLIPImageProcessor): Image.resize(BICUBIC),
//    22-bit fixed-point weights.
// Both are separable a = -0.5 cubics with the support widened by the downscale factor
// (antialiasing), horizontal pass then vertical pass, rounding to 8 bits after each; they differ
// by at most one grey level on a few pixels (0.015 after normalisation). OpenCV's INTER_CUBIC
// (a = -0.75, no antialiasing) would differ far more; OpenCV is only used to decode files.
// No torch here.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn::models {

// Interleaved 8-bit RGB, row-major.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;  // width * height * 3
};

enum class ImageResampler { torchvision, pillow };

struct ClipImageConfig {
    ImageResampler resampler = ImageResampler::torchvision;
    bool do_resize = true;
    int shortest_edge = 224;
    bool do_center_crop = true;
    int crop_height = 224;
    int crop_width = 224;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    double image_mean[3] = {0.48145466, 0.4578275, 0.40821073};
    double image_std[3] = {0.26862954, 0.26130258, 0.27577711};

    // <folder>/preprocessor_config.json (CLIPImageProcessor keys; `size` / `crop_size` as objects or
    // plain integers). A resample other than 3 (bicubic) -> syn::Error naming the file and key.
    static ClipImageConfig load(const std::string& folder);
};

// Decodes an image to RGB; alpha is dropped as PIL's convert("RGB"). The size is read from the
// header first (core/io/image_header: PNG, JPEG, BMP, GIF, WebP, TIFF, PNM): an image of more than
// kMaxImagePixels, of zero size, or of a format whose size cannot be read is refused with a
// syn::Error naming the file (and its width x height) before OpenCV decodes anything.
RgbImage read_rgb_image(const std::string& path);

// Bicubic resize, bit-exact with torchvision's resize(antialias=True) on a uint8 tensor or with
// Pillow's Image.resize(size, BICUBIC), per `flavour`.
RgbImage resize_bicubic(const RgbImage& image, int width, int height, ImageResampler flavour);

// The CLIPImageProcessor steps on one image: [3, crop_height, crop_width] float32, channels first.
std::vector<float> clip_preprocess(const RgbImage& image, const ClipImageConfig& config);

// Images read from `paths` -> pixel_values [N, 3, H, W] float32 (a RawTensor owning its bytes).
RawTensor clip_pixel_values(const std::vector<std::string>& paths, const ClipImageConfig& config);

}  // namespace syn::models
