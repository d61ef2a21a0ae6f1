#pragma once
// The InceptionV3 that torch-fidelity (and torchmetrics, which uses it) computes the Inception
// Score and FID with: the port of TensorFlow's 2015-12-05 graph (pytorch-fid's "FID Inception"),
// weights-inception-2015-12-05-6726825d.pth (same file as pytorch-fid's pt_inception-...-6726825d).
// Module names are the checkpoint keys (Conv2d_1a_3x3.conv.weight, Mixed_5b.branch1x1.bn.running_mean,
// ..., fc.weight, fc.bias), mirroring torch_fidelity/feature_extractor_inceptionv3.py:
//  - BasicConv2d = conv (no bias) -> BatchNorm (eps 0.001) -> ReLU;
//  - Mixed_5b..5d (A), 6b..6e (C), 7b (E_1): branch_pool is a 3x3 average pool with
//    count_include_pad=False (TF's pooling); Mixed_7c (E_2): a 3x3 max pool (as in TF's graph);
//  - no auxiliary classifier; fc is 2048 -> 1008 (TF's 1008 classes).
// Input path (torch-fidelity's forward): uint8 -> float -> TF1 bilinear resize to 299x299
// (resize_bilinear_tf1) -> (x - 128) / 128. Torch modules live in inception_v3.cpp.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/eval/inception_score.h"
#include "core/io/raw_tensor.h"

namespace torch::nn {
class Module;
}
namespace syn {
struct LoadReport;
}

namespace syn::models {

constexpr int64_t kInceptionInputSize = 299;
constexpr int64_t kInceptionClasses = 1008;
constexpr int64_t kInceptionPoolFeatures = 2048;

// Memory layout of a uint8 image batch: [B, 3, H, W] (torch-fidelity's) or [B, H, W, 3] (what
// images_to_uint8 in models/vqgan.h returns).
enum class ImageLayout { NCHW, NHWC };

struct InceptionOutputs {
    at::Tensor pool;             // torch-fidelity's '2048': [B, 2048] float32, the FID features
    at::Tensor logits_unbiased;  // [B, 1008] float32: pool @ fc.weight^T, the IS features
    at::Tensor logits;           // [B, 1008] float32: logits_unbiased + fc.bias
};

// TensorFlow 1.x bilinear resize with align_corners=False, as torch-fidelity's
// interpolate_bilinear_2d_like_tensorflow1x (method 'slow'): source coordinate
// src = dst * (in / out) (no half-pixel offset; the scale rounded to float32 as there),
// lo = floor(src), hi = min(lo + 1, in - 1), linear weights src - lo, rows then columns blended as
// there. `images` is a floating [B, C, H, W] tensor; out sizes must be positive.
at::Tensor resize_bilinear_tf1(const at::Tensor& images, int64_t out_h, int64_t out_w);

class InceptionV3 {
public:
    InceptionV3();
    ~InceptionV3();
    InceptionV3(const InceptionV3&) = delete;
    InceptionV3& operator=(const InceptionV3&) = delete;

    // Fills every parameter and BN statistic by name. Missing, mis-shaped and unexpected keys ->
    // syn::Error naming `source` and the keys. BatchNorm's num_batches_tracked may be absent
    // (torch-fidelity's converter does not write it) or present (loaded, unused).
    LoadReport load_weights(const TensorMap& tensors, const std::string& source);

    // uint8 images (any H, W >= 1, on any device) -> features, in inference mode, as one batch.
    // Throws syn::Error for a non-uint8 or mis-shaped input.
    InceptionOutputs forward(const at::Tensor& images, ImageLayout layout = ImageLayout::NCHW);

    torch::nn::Module& module();
    // dtype: float32 (torch-fidelity's default) or float64 (its 'float64' internal dtype).
    void to(c10::Device device, c10::ScalarType dtype = c10::kFloat);
    c10::Device device() const { return device_; }
    c10::ScalarType dtype() const { return dtype_; }
    int64_t parameter_count() const;  // 23,850,960 (see inception_v3.cpp)

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
};

// Builds the network and loads `path` (weights-inception-2015-12-05-6726825d.pth, the legacy or
// zip torch.save format, or any file/folder load_checkpoint reads) on the CPU in float32.
std::unique_ptr<InceptionV3> load_inception_v3(const std::string& path);

// The Inception Score of a uint8 image batch ([N, 3, H, W] or [N, H, W, 3], on the CPU or the
// network's device): logits_unbiased in batches of `batch` images, then eval::inception_score
// over the N rows in the given order with `splits` splits (see core/eval/inception_score.h for
// how this differs from torch-fidelity's shuffled splits).
eval::InceptionScore inception_score_of_images(InceptionV3& net, const at::Tensor& uint8_images, int64_t batch,
                                               int splits = eval::kDefaultInceptionSplits,
                                               ImageLayout layout = ImageLayout::NCHW);

}  // namespace syn::models
