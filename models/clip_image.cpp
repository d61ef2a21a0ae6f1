#include "models/clip_image.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/image_header.h"

namespace syn::models {

namespace {

// ---- Separable bicubic resampling with fixed-point weights, in two exact flavours -------------
// Both follow Pillow's scheme: filter support widened by the downscale factor (antialiasing),
// weights normalised per output pixel, rounded to integers, horizontal pass then vertical pass,
// each pass rounding and clamping to 8 bits. They differ only in the integer weights:
//  - Pillow (libImaging/Resample.c): 22 fractional bits in int32, Pillow's form of the a = -0.5 cubic.
//  - torch (aten/src/ATen/native/cpu/UpSampleKernel.cpp, _compute_index_ranges_int16_weights, the
//    kernel torchvision's resize runs on uint8 images): int16 weights whose precision is the largest
//    that keeps the biggest weight of the axis under 2^15, the cubic evaluated in torch's order.

// Pillow's bicubic_filter (a = -0.5).
double pillow_cubic(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// torch's HelperInterpCubic::aa_filter (cubic_convolution1 / 2 with A = -0.5).
double torch_cubic(double x) {
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
}

// One axis: per output pixel the first source pixel, the tap count, and `ksize` integer weights.
struct Coefficients {
    int ksize = 0;
    int precision = 0;        // fractional bits of the weights
    std::vector<int> bounds;  // [first, count] per output pixel
    std::vector<int32_t> kk;  // ksize weights per output pixel
};

// Round half away from zero, as both libraries' (int)(v ± 0.5) does.
int32_t round_away(double v) { return static_cast<int32_t>(v < 0 ? -0.5 + v : 0.5 + v); }

Coefficients precompute_coeffs(int in_size, int out_size, ImageResampler flavour) {
    const double scale = static_cast<double>(in_size) / out_size;
    const double filterscale = std::max(scale, 1.0);  // downscaling widens the filter (antialias)
    const double support = 2.0 * filterscale;          // the cubic's support is 2
    const bool pillow = flavour == ImageResampler::pillow;
    Coefficients c;
    c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.bounds.resize(2 * out_size);
    c.kk.assign(static_cast<size_t>(out_size) * c.ksize, 0);
    std::vector<double> weights(static_cast<size_t>(out_size) * c.ksize, 0.0);
    double largest = 0.0;
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = std::max(static_cast<int>(center - support + 0.5), 0);  // truncation, as the C casts
        int count = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
        count = std::clamp(count, 0, c.ksize);
        double* k = &weights[static_cast<size_t>(xx) * c.ksize];
        double total = 0.0;
        for (int x = 0; x < count; ++x) {
            const double arg = (x + xmin - center + 0.5) * ss;
            k[x] = pillow ? pillow_cubic(arg) : torch_cubic(arg);
            total += k[x];
        }
        if (total != 0.0)
            for (int x = 0; x < count; ++x) {
                k[x] /= total;
                largest = std::max(largest, k[x]);
            }
        c.bounds[2 * xx] = xmin;
        c.bounds[2 * xx + 1] = count;
    }
    if (pillow) {
        c.precision = 32 - 8 - 2;
    } else {
        for (c.precision = 0; c.precision < 22; ++c.precision)
            if (static_cast<int>(0.5 + largest * (1 << (c.precision + 1))) >= (1 << 15)) break;
    }
    for (size_t i = 0; i < weights.size(); ++i) {
        const int32_t w = round_away(weights[i] * (1 << c.precision));
        c.kk[i] = pillow ? w : static_cast<int16_t>(w);
    }
    return c;
}

uint8_t to_u8(int32_t sum, int precision) {
    return static_cast<uint8_t>(std::clamp(sum >> precision, 0, 255));  // arithmetic shift: floor
}

RgbImage resample_horizontal(const RgbImage& in, int out_width, ImageResampler flavour) {
    const Coefficients c = precompute_coeffs(in.width, out_width, flavour);
    RgbImage out{out_width, in.height, std::vector<uint8_t>(static_cast<size_t>(out_width) * in.height * 3)};
    for (int y = 0; y < in.height; ++y) {
        const uint8_t* row = &in.pixels[static_cast<size_t>(y) * in.width * 3];
        for (int xx = 0; xx < out_width; ++xx) {
            const int xmin = c.bounds[2 * xx], count = c.bounds[2 * xx + 1];
            const int32_t* k = &c.kk[static_cast<size_t>(xx) * c.ksize];
            for (int ch = 0; ch < 3; ++ch) {
                int32_t ss = 1 << (c.precision - 1);
                for (int x = 0; x < count; ++x) ss += row[(x + xmin) * 3 + ch] * k[x];
                out.pixels[(static_cast<size_t>(y) * out_width + xx) * 3 + ch] = to_u8(ss, c.precision);
            }
        }
    }
    return out;
}

RgbImage resample_vertical(const RgbImage& in, int out_height, ImageResampler flavour) {
    const Coefficients c = precompute_coeffs(in.height, out_height, flavour);
    RgbImage out{in.width, out_height, std::vector<uint8_t>(static_cast<size_t>(in.width) * out_height * 3)};
    for (int yy = 0; yy < out_height; ++yy) {
        const int ymin = c.bounds[2 * yy], count = c.bounds[2 * yy + 1];
        const int32_t* k = &c.kk[static_cast<size_t>(yy) * c.ksize];
        for (int x = 0; x < in.width; ++x) {
            for (int ch = 0; ch < 3; ++ch) {
                int32_t ss = 1 << (c.precision - 1);
                for (int y = 0; y < count; ++y)
                    ss += in.pixels[(static_cast<size_t>(y + ymin) * in.width + x) * 3 + ch] * k[y];
                out.pixels[(static_cast<size_t>(yy) * in.width + x) * 3 + ch] = to_u8(ss, c.precision);
            }
        }
    }
    return out;
}

// Python's floor division (HF's centre crop uses //, which floors negative values).
int floor_div(int a, int b) { return static_cast<int>(std::floor(static_cast<double>(a) / b)); }

// image_transforms.center_crop: crop, zero-padding first when the image is smaller than the crop.
RgbImage center_crop(const RgbImage& image, int crop_h, int crop_w) {
    int top = floor_div(image.height - crop_h, 2), left = floor_div(image.width - crop_w, 2);
    const int new_h = std::max(crop_h, image.height), new_w = std::max(crop_w, image.width);
    const int top_pad = (new_h - image.height + 1) / 2, left_pad = (new_w - image.width + 1) / 2;
    top += top_pad;
    left += left_pad;
    RgbImage out{crop_w, crop_h, std::vector<uint8_t>(static_cast<size_t>(crop_w) * crop_h * 3, 0)};
    for (int y = 0; y < crop_h; ++y) {
        const int sy = top + y - top_pad;  // row in the unpadded image
        if (sy < 0 || sy >= image.height) continue;
        for (int x = 0; x < crop_w; ++x) {
            const int sx = left + x - left_pad;
            if (sx < 0 || sx >= image.width) continue;
            std::memcpy(&out.pixels[(static_cast<size_t>(y) * crop_w + x) * 3],
                        &image.pixels[(static_cast<size_t>(sy) * image.width + sx) * 3], 3);
        }
    }
    return out;
}

// {"height": h, "width": w} / {"shortest_edge": s} / a plain integer.
void read_size(const HfConfig& config, const std::string& key, const char* inner, int* value) {
    if (!config.has(key)) return;
    const auto& v = config.json().at(key);
    if (v.is_number_integer()) {
        *value = v.get<int>();
        return;
    }
    *value = static_cast<int>(config.sub(key).get_int(inner));
}

void read_triplet(const HfConfig& config, const std::string& key, double* out) {
    if (!config.has(key)) return;
    const auto& v = config.json().at(key);
    if (!v.is_array() || v.size() != 3)
        throw file_error(config.source(), "key '" + key + "' must be a list of 3 numbers");
    for (int i = 0; i < 3; ++i) {
        if (!v[i].is_number()) throw file_error(config.source(), "key '" + key + "' must be a list of 3 numbers");
        out[i] = v[i].get<double>();
    }
}

}  // namespace

ClipImageConfig ClipImageConfig::load(const std::string& folder) {
    const HfConfig config = HfConfig::load((std::filesystem::path(folder) / "preprocessor_config.json").string());
    ClipImageConfig c;
    c.do_resize = config.get_bool("do_resize", c.do_resize);
    read_size(config, "size", "shortest_edge", &c.shortest_edge);
    c.do_center_crop = config.get_bool("do_center_crop", c.do_center_crop);
    read_size(config, "crop_size", "height", &c.crop_height);
    c.crop_width = c.crop_height;
    if (config.has("crop_size") && config.json().at("crop_size").is_object())
        c.crop_width = static_cast<int>(config.sub("crop_size").get_int("width"));
    c.do_rescale = config.get_bool("do_rescale", c.do_rescale);
    c.rescale_factor = config.get_double("rescale_factor", c.rescale_factor);
    c.do_normalize = config.get_bool("do_normalize", c.do_normalize);
    read_triplet(config, "image_mean", c.image_mean);
    read_triplet(config, "image_std", c.image_std);
    const int64_t resample = config.get_int("resample", 3);
    if (resample != 3)
        throw file_error(config.source(), "key 'resample' = " + std::to_string(resample) +
                                              " is not supported (only 3, bicubic, as CLIP uses)");
    if (c.shortest_edge <= 0 || c.crop_height <= 0 || c.crop_width <= 0)
        throw file_error(config.source(), "image sizes must be positive");
    for (double s : c.image_std)
        if (s == 0.0) throw file_error(config.source(), "key 'image_std' holds a zero");
    return c;
}

RgbImage read_rgb_image(const std::string& path) {
    // The size from the header before OpenCV allocates anything: a few-MB PNG can claim
    // 30000 x 30000 pixels (2.7 GB decoded, more in the float copies). Names the file and its size.
    check_image_pixels(path);
    cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty()) throw file_error(path, "cannot read the image (missing file or unsupported format)");
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    RgbImage image{rgb.cols, rgb.rows, std::vector<uint8_t>(static_cast<size_t>(rgb.cols) * rgb.rows * 3)};
    for (int y = 0; y < rgb.rows; ++y)
        std::memcpy(&image.pixels[static_cast<size_t>(y) * rgb.cols * 3], rgb.ptr<uint8_t>(y),
                    static_cast<size_t>(rgb.cols) * 3);
    return image;
}

RgbImage resize_bicubic(const RgbImage& image, int width, int height, ImageResampler flavour) {
    if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0)
        throw Error("resize_bicubic: empty image or target size");
    // Horizontal first, then vertical, each pass rounding to 8 bits; a pass whose size does not
    // change is skipped (both libraries do this).
    RgbImage out = image;
    if (width != image.width) out = resample_horizontal(out, width, flavour);
    if (height != image.height) out = resample_vertical(out, height, flavour);
    return out;
}

namespace {

// Resize (shortest side) and centre crop, on 8-bit pixels as the reference does.
RgbImage resize_and_crop(const RgbImage& input, const ClipImageConfig& config) {
    RgbImage image = input;
    if (config.do_resize) {
        // get_resize_output_image_size(default_to_square=False): the short side becomes
        // shortest_edge, the long one int(shortest_edge * long / short).
        const bool portrait = image.width <= image.height;
        const int short_side = portrait ? image.width : image.height;
        const int long_side = portrait ? image.height : image.width;
        const int new_short = config.shortest_edge;
        const int new_long = static_cast<int>(static_cast<double>(new_short) * long_side / short_side);
        image = portrait ? resize_bicubic(image, new_short, new_long, config.resampler)
                         : resize_bicubic(image, new_long, new_short, config.resampler);
    }
    if (config.do_center_crop) image = center_crop(image, config.crop_height, config.crop_width);
    return image;
}

// Rescale and normalise to float32 CHW, with the arithmetic of the matching transformers backend:
// torchvision fuses the two, (x - 255 mean) / (255 std) in float32; the PIL backend rescales in
// float64, casts to float32, then normalises in float32.
std::vector<float> rescale_normalize(const RgbImage& image, const ClipImageConfig& config) {
    const size_t plane = static_cast<size_t>(image.width) * image.height;
    const bool fused = config.resampler == ImageResampler::torchvision && config.do_rescale && config.do_normalize;
    std::vector<float> out(plane * 3);
    for (int ch = 0; ch < 3; ++ch) {
        const float mean = static_cast<float>(config.image_mean[ch]);
        const float std = static_cast<float>(config.image_std[ch]);
        const float fused_mean = mean * static_cast<float>(1.0 / config.rescale_factor);
        const float fused_std = std * static_cast<float>(1.0 / config.rescale_factor);
        for (size_t i = 0; i < plane; ++i) {
            const uint8_t p = image.pixels[i * 3 + ch];
            float v;
            if (fused) {
                v = (static_cast<float>(p) - fused_mean) / fused_std;
            } else {
                v = config.do_rescale ? static_cast<float>(static_cast<double>(p) * config.rescale_factor)
                                      : static_cast<float>(p);
                if (config.do_normalize) v = (v - mean) / std;
            }
            out[ch * plane + i] = v;
        }
    }
    return out;
}

}  // namespace

std::vector<float> clip_preprocess(const RgbImage& input, const ClipImageConfig& config) {
    return rescale_normalize(resize_and_crop(input, config), config);
}

RawTensor clip_pixel_values(const std::vector<std::string>& paths, const ClipImageConfig& config) {
    if (paths.empty()) throw Error("clip_pixel_values: no images");
    std::vector<uint8_t> bytes;
    int64_t height = -1, width = -1;
    for (const std::string& path : paths) {
        const RgbImage image = resize_and_crop(read_rgb_image(path), config);
        if (height < 0) {
            height = image.height;
            width = image.width;
        } else if (height != image.height || width != image.width) {
            throw file_error(path, "differs in size from the first image after preprocessing: cannot batch (no centre crop?)");
        }
        const std::vector<float> values = rescale_normalize(image, config);
        const size_t n = values.size() * sizeof(float), offset = bytes.size();
        bytes.resize(offset + n);
        std::memcpy(&bytes[offset], values.data(), n);
    }
    return make_owned_tensor(DType::F32, {static_cast<int64_t>(paths.size()), 3, height, width}, std::move(bytes));
}

}  // namespace syn::models
