#pragma once
// taming-transformers' VQModel (taming/models/vqgan.py): Encoder -> quant_conv -> VectorQuantizer
// -> post_quant_conv -> Decoder, with the module tree named like the checkpoint keys
// (encoder.down.0.block.0.norm1.weight, quantize.embedding.weight, ...). A Net2NetTransformer
// checkpoint holds it under "first_stage_model.". Torch modules live in vqgan.cpp.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace torch::nn {
class Module;
}
namespace syn {
struct LoadReport;
}

namespace syn::models {

// first_stage_config.params (embed_dim, n_embed) and its ddconfig. Defaults: celebahq's VQGAN.
struct VQGANConfig {
    int64_t embed_dim = 256;  // codebook vector width
    int64_t n_embed = 1024;   // codebook size
    int64_t z_channels = 256;
    int64_t resolution = 256;
    int64_t in_channels = 3;
    int64_t out_ch = 3;
    int64_t ch = 128;
    std::vector<int64_t> ch_mult{1, 1, 2, 2, 4};
    int64_t num_res_blocks = 2;
    std::vector<int64_t> attn_resolutions{16};
    bool double_z = false;

    // Side of the code grid: resolution / 2^(levels - 1) (16 for celebahq, 8 for tiny-taming).
    int64_t latent_size() const;
    // Throws syn::Error naming `source` for sizes the modules cannot be built with (GroupNorm(32)
    // needs every width to be a multiple of 32, the resolution must halve evenly, ...).
    void validate(const std::string& source) const;
    // Before building: the sizes against a checkpoint's tensors (checkpoint_shapes.h); `source`
    // names the config file.
    void check_checkpoint(const TensorMap& tensors, const std::string& checkpoint, const std::string& source) const;
};

struct VQEncoding {
    at::Tensor z_quant;  // [B, embed_dim, h, w]: quantised latents (z + (z_q - z), as taming returns them)
    at::Tensor indices;  // [B, h * w] int64, row-major over (h, w): the code sequence the GPT models
};

class VQGAN {
public:
    explicit VQGAN(const VQGANConfig& config);
    ~VQGAN();
    VQGAN(const VQGAN&) = delete;
    VQGAN& operator=(const VQGAN&) = delete;

    const VQGANConfig& config() const { return config_; }

    // Fills every weight by name. The prefix is "first_stage_model." when the checkpoint holds it
    // (Net2NetTransformer), else "" (a bare VQModel checkpoint; its loss.* keys are reported as
    // unexpected, not fatal). Missing / mis-shaped keys -> syn::Error naming `source` and the keys.
    LoadReport load_weights(const TensorMap& tensors, const std::string& source);

    // image [B, in_channels, resolution, resolution] in [-1, 1] -> quantised latents and code ids.
    // Nearest code by d = |z|^2 + |e|^2 - 2 z.e and argmin, exactly as taming's VectorQuantizer2.
    VQEncoding encode(const at::Tensor& image);
    // Code ids [B, h * w] (or [B, h, w]) -> image [B, out_ch, H, W] (taming's decode_to_img:
    // get_codebook_entry, post_quant_conv, decoder). Ids outside the codebook -> syn::Error.
    at::Tensor decode_codes(const at::Tensor& indices);
    // Quantised latents [B, embed_dim, h, w] -> image.
    at::Tensor decode(const at::Tensor& z_quant);

    torch::nn::Module& module();
    void to(c10::Device device, c10::ScalarType dtype);
    c10::Device device() const { return device_; }
    c10::ScalarType dtype() const { return dtype_; }

private:
    struct Impl;
    VQGANConfig config_;
    std::unique_ptr<Impl> impl_;
    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
};

// [-1, 1] images (taming's output range) -> uint8 [B, H, W, C] on the CPU, as taming's
// custom_to_pil does: clamp, (x + 1) / 2 * 255, truncation to uint8.
at::Tensor images_to_uint8(const at::Tensor& images);

}  // namespace syn::models
