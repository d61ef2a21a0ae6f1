// taming-transformers' VQModel, mirroring taming/modules/diffusionmodules/model.py (Encoder,
// Decoder, ResnetBlock, AttnBlock, Downsample, Upsample) and taming/modules/vqvae/quantize.py
// (VectorQuantizer2, legacy loss, no remap) at inference.
#include "models/vqgan.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"
#include "models/checkpoint_shapes.h"
#include "models/layers.h"

namespace syn::models {

using namespace detail;

int64_t VQGANConfig::latent_size() const {
    return resolution >> (static_cast<int64_t>(ch_mult.size()) - 1);
}

void VQGANConfig::validate(const std::string& source) const {
    auto fail = [&](const std::string& what) { throw file_error(source, "first_stage_config: " + what); };
    if (ch_mult.empty() || ch_mult.size() > 16) fail("ddconfig.ch_mult must have 1 to 16 levels");
    for (int64_t v : {embed_dim, n_embed, z_channels, ch, in_channels, out_ch, num_res_blocks, resolution})
        if (v > kMaxConfigSize) fail("sizes must be at most " + std::to_string(kMaxConfigSize) + ", got " + std::to_string(v));
    for (int64_t m : ch_mult)
        if (m > 64) fail("ddconfig.ch_mult entries must be at most 64, got " + std::to_string(m));
    if (embed_dim <= 0 || n_embed <= 0 || z_channels <= 0 || ch <= 0 || in_channels <= 0 || out_ch <= 0 ||
        num_res_blocks < 0 || resolution <= 0)
        fail("sizes (embed_dim, n_embed, z_channels, ch, in_channels, out_ch, resolution) must be positive");
    for (int64_t m : ch_mult)
        if (m <= 0 || (ch * m) % 32 != 0)
            fail("every width ch * ch_mult (" + std::to_string(ch) + " * " + std::to_string(m) +
                 ") must be a positive multiple of 32 (GroupNorm with 32 groups)");
    const int64_t factor = int64_t(1) << (ch_mult.size() - 1);
    if (resolution % factor != 0)
        fail("resolution " + std::to_string(resolution) + " does not halve evenly " +
             std::to_string(ch_mult.size() - 1) + " times");
}

void VQGANConfig::check_checkpoint(const TensorMap& tensors, const std::string& checkpoint,
                                   const std::string& source) const {
    const std::string p = "first_stage_config.params.";
    auto size = [&](const std::string& key, int64_t value) { return ConfigSize{p + key, value, true, source}; };
    const CheckpointShapes shapes(tensors, checkpoint,
                                  tensors.count("first_stage_model.quantize.embedding.weight") ? "first_stage_model." : "");
    const ConfigSize k3 = derived_size("3", 3, {}), k1 = derived_size("1", 1, {});
    const int64_t levels = static_cast<int64_t>(ch_mult.size());
    auto width = [&](int64_t level) {
        return size("ddconfig.ch*ch_mult[" + std::to_string(level) + "]", ch * ch_mult[level]);
    };
    shapes.expect("encoder.conv_in.weight", {size("ddconfig.ch", ch), size("ddconfig.in_channels", in_channels), k3, k3});
    shapes.expect_count("encoder.down.", size("ddconfig.ch_mult (levels)", levels));
    shapes.expect_count("encoder.down.0.block.", size("ddconfig.num_res_blocks", num_res_blocks));
    for (int64_t i = 0; i < levels && num_res_blocks > 0; ++i)
        shapes.expect("encoder.down." + std::to_string(i) + ".block.0.conv1.weight",
                      {width(i), i == 0 ? size("ddconfig.ch", ch) : width(i - 1), k3, k3});
    shapes.expect("quant_conv.weight", {size("embed_dim", embed_dim), size("ddconfig.z_channels", z_channels), k1, k1});
    shapes.expect("quantize.embedding.weight", {size("n_embed", n_embed), size("embed_dim", embed_dim)});
    shapes.expect("decoder.conv_in.weight", {width(levels - 1), size("ddconfig.z_channels", z_channels), k3, k3});
    shapes.expect("decoder.conv_out.weight", {size("ddconfig.out_ch", out_ch), width(0), k3, k3});
}

namespace {

// taming's Normalize: GroupNorm(32 groups, eps 1e-6, affine).
torch::nn::GroupNorm make_group_norm(int64_t channels) {
    return torch::nn::GroupNorm(torch::nn::GroupNormOptions(32, channels).eps(1e-6).affine(true));
}

torch::nn::Conv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

// taming's nonlinearity: x * sigmoid(x).
at::Tensor swish(const at::Tensor& x) { return x * at::sigmoid(x); }

struct ResnetBlock : torch::nn::Module {
    torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, nin_shortcut{nullptr};

    ResnetBlock(int64_t in, int64_t out) {
        norm1 = register_module("norm1", make_group_norm(in));
        conv1 = register_module("conv1", make_conv(in, out, 3, 1, 1));
        norm2 = register_module("norm2", make_group_norm(out));
        conv2 = register_module("conv2", make_conv(out, out, 3, 1, 1));
        // conv_shortcut=False everywhere in taming's Encoder/Decoder: a 1x1 "nin_shortcut".
        if (in != out) nin_shortcut = register_module("nin_shortcut", make_conv(in, out, 1, 1, 0));
    }

    at::Tensor forward(const at::Tensor& x) {
        auto h = conv1(swish(norm32(norm1, x)));
        h = conv2(swish(norm32(norm2, h)));  // dropout: identity at inference
        return (nin_shortcut ? nin_shortcut(x) : x) + h;
    }
};

// Single-head spatial self-attention with 1x1 convolutions as projections.
struct AttnBlock : torch::nn::Module {
    torch::nn::GroupNorm norm{nullptr};
    torch::nn::Conv2d q{nullptr}, k{nullptr}, v{nullptr}, proj_out{nullptr};

    explicit AttnBlock(int64_t c) {
        norm = register_module("norm", make_group_norm(c));
        q = register_module("q", make_conv(c, c, 1, 1, 0));
        k = register_module("k", make_conv(c, c, 1, 1, 0));
        v = register_module("v", make_conv(c, c, 1, 1, 0));
        proj_out = register_module("proj_out", make_conv(c, c, 1, 1, 0));
    }

    at::Tensor forward(const at::Tensor& x) {
        auto h = norm32(norm, x);
        const int64_t b = x.size(0), c = x.size(1), hh = x.size(2), ww = x.size(3);
        auto qs = q(h).reshape({b, c, hh * ww}).permute({0, 2, 1});  // [B, HW, C]
        auto ks = k(h).reshape({b, c, hh * ww});                     // [B, C, HW]
        auto w = at::bmm(qs, ks) * std::pow(double(c), -0.5);        // w[b, i, j] = q_i . k_j
        w = at::softmax(w, 2);
        auto vs = v(h).reshape({b, c, hh * ww});
        auto out = at::bmm(vs, w.permute({0, 2, 1})).reshape({b, c, hh, ww});
        return x + proj_out(out);
    }
};

// Asymmetric zero padding (right, bottom by one) then a stride-2 3x3 convolution.
struct Downsample : torch::nn::Module {
    torch::nn::Conv2d conv{nullptr};
    explicit Downsample(int64_t c) { conv = register_module("conv", make_conv(c, c, 3, 2, 0)); }
    at::Tensor forward(const at::Tensor& x) { return conv(at::constant_pad_nd(x, {0, 1, 0, 1}, 0.0)); }
};

// Nearest-neighbour x2 then a 3x3 convolution.
struct Upsample : torch::nn::Module {
    torch::nn::Conv2d conv{nullptr};
    explicit Upsample(int64_t c) { conv = register_module("conv", make_conv(c, c, 3, 1, 1)); }
    at::Tensor forward(const at::Tensor& x) {
        auto up = at::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
        return conv(up);
    }
};

// One resolution level of the encoder (down.N) or decoder (up.N).
struct Level {
    std::vector<std::shared_ptr<ResnetBlock>> blocks;
    std::vector<std::shared_ptr<AttnBlock>> attns;  // empty, or one per block
    std::shared_ptr<Downsample> downsample;
    std::shared_ptr<Upsample> upsample;

    at::Tensor run_blocks(at::Tensor h) const {
        for (size_t i = 0; i < blocks.size(); ++i) {
            h = blocks[i]->forward(h);
            if (!attns.empty()) h = attns[i]->forward(h);
        }
        return h;
    }
};

// mid.block_1, mid.attn_1, mid.block_2.
struct Middle {
    std::shared_ptr<ResnetBlock> block_1, block_2;
    std::shared_ptr<AttnBlock> attn_1;

    void build(torch::nn::Module& parent, int64_t c) {
        auto mid = add_container(parent, "mid");
        block_1 = mid->register_module("block_1", std::make_shared<ResnetBlock>(c, c));
        attn_1 = mid->register_module("attn_1", std::make_shared<AttnBlock>(c));
        block_2 = mid->register_module("block_2", std::make_shared<ResnetBlock>(c, c));
    }
    at::Tensor forward(const at::Tensor& x) const { return block_2->forward(attn_1->forward(block_1->forward(x))); }
};

bool has_attention(const VQGANConfig& c, int64_t resolution) {
    return std::find(c.attn_resolutions.begin(), c.attn_resolutions.end(), resolution) != c.attn_resolutions.end();
}

struct Encoder : torch::nn::Module {
    torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
    torch::nn::GroupNorm norm_out{nullptr};
    std::vector<Level> levels;
    Middle mid;

    explicit Encoder(const VQGANConfig& c) {
        const int64_t n = static_cast<int64_t>(c.ch_mult.size());
        conv_in = register_module("conv_in", make_conv(c.in_channels, c.ch, 3, 1, 1));
        auto down = add_container(*this, "down");
        int64_t res = c.resolution;
        int64_t block_in = c.ch;
        for (int64_t i = 0; i < n; ++i) {
            auto level_module = add_container(*down, std::to_string(i));
            auto block = add_container(*level_module, "block");
            std::shared_ptr<torch::nn::Module> attn;
            Level level;
            const int64_t block_out = c.ch * c.ch_mult[i];
            for (int64_t j = 0; j < c.num_res_blocks; ++j) {
                level.blocks.push_back(
                    block->register_module(std::to_string(j), std::make_shared<ResnetBlock>(block_in, block_out)));
                block_in = block_out;
                if (has_attention(c, res)) {
                    if (!attn) attn = add_container(*level_module, "attn");
                    level.attns.push_back(attn->register_module(std::to_string(j), std::make_shared<AttnBlock>(block_in)));
                }
            }
            if (i != n - 1) {
                level.downsample = level_module->register_module("downsample", std::make_shared<Downsample>(block_in));
                res /= 2;
            }
            levels.push_back(std::move(level));
        }
        mid.build(*this, block_in);
        norm_out = register_module("norm_out", make_group_norm(block_in));
        conv_out = register_module("conv_out", make_conv(block_in, c.double_z ? 2 * c.z_channels : c.z_channels, 3, 1, 1));
    }

    at::Tensor forward(const at::Tensor& x) {
        auto h = conv_in(x);
        for (const auto& level : levels) {
            h = level.run_blocks(h);
            if (level.downsample) h = level.downsample->forward(h);
        }
        h = mid.forward(h);
        return conv_out(swish(norm32(norm_out, h)));
    }
};

struct Decoder : torch::nn::Module {
    torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
    torch::nn::GroupNorm norm_out{nullptr};
    std::vector<Level> levels;  // levels[i] is up.i; run from the last to the first
    Middle mid;

    explicit Decoder(const VQGANConfig& c) {
        const int64_t n = static_cast<int64_t>(c.ch_mult.size());
        int64_t block_in = c.ch * c.ch_mult.back();
        int64_t res = c.latent_size();
        conv_in = register_module("conv_in", make_conv(c.z_channels, block_in, 3, 1, 1));
        mid.build(*this, block_in);
        // Registered in key order (up.0 first) though built from the deepest level down, as taming
        // builds them and inserts at the front.
        std::vector<std::shared_ptr<torch::nn::Module>> level_modules(n);
        auto up = add_container(*this, "up");
        for (int64_t i = 0; i < n; ++i) level_modules[i] = add_container(*up, std::to_string(i));
        levels.resize(n);
        for (int64_t i = n - 1; i >= 0; --i) {
            auto& level_module = *level_modules[i];
            auto block = add_container(level_module, "block");
            std::shared_ptr<torch::nn::Module> attn;
            Level& level = levels[i];
            const int64_t block_out = c.ch * c.ch_mult[i];
            for (int64_t j = 0; j <= c.num_res_blocks; ++j) {
                level.blocks.push_back(
                    block->register_module(std::to_string(j), std::make_shared<ResnetBlock>(block_in, block_out)));
                block_in = block_out;
                if (has_attention(c, res)) {
                    if (!attn) attn = add_container(level_module, "attn");
                    level.attns.push_back(attn->register_module(std::to_string(j), std::make_shared<AttnBlock>(block_in)));
                }
            }
            if (i != 0) {
                level.upsample = level_module.register_module("upsample", std::make_shared<Upsample>(block_in));
                res *= 2;
            }
        }
        norm_out = register_module("norm_out", make_group_norm(block_in));
        conv_out = register_module("conv_out", make_conv(block_in, c.out_ch, 3, 1, 1));
    }

    at::Tensor forward(const at::Tensor& z) {
        auto h = mid.forward(conv_in(z));
        for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
            h = it->run_blocks(h);
            if (it->upsample) h = it->upsample->forward(h);
        }
        return conv_out(swish(norm32(norm_out, h)));
    }
};

struct VQModelModule : torch::nn::Module {
    std::shared_ptr<Encoder> encoder;
    std::shared_ptr<Decoder> decoder;
    torch::nn::Conv2d quant_conv{nullptr}, post_quant_conv{nullptr};
    torch::nn::Embedding embedding{nullptr};

    explicit VQModelModule(const VQGANConfig& c) {
        encoder = register_module("encoder", std::make_shared<Encoder>(c));
        decoder = register_module("decoder", std::make_shared<Decoder>(c));
        embedding = add_container(*this, "quantize")
                        ->register_module("embedding", torch::nn::Embedding(c.n_embed, c.embed_dim));
        quant_conv = register_module("quant_conv", make_conv(c.z_channels, c.embed_dim, 1, 1, 0));
        post_quant_conv = register_module("post_quant_conv", make_conv(c.embed_dim, c.z_channels, 1, 1, 0));
    }
};

}  // namespace

struct VQGAN::Impl {
    std::shared_ptr<VQModelModule> module;
};

VQGAN::VQGAN(const VQGANConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {
    config_.validate("VQGAN config");
    impl_->module = std::make_shared<VQModelModule>(config_);
    impl_->module->eval();
}

VQGAN::~VQGAN() = default;

torch::nn::Module& VQGAN::module() { return *impl_->module; }

void VQGAN::to(c10::Device device, c10::ScalarType dtype) {
    if (!at::isFloatingType(dtype)) throw Error("VQGAN::to: dtype must be floating point");
    detail::cast_module(*impl_->module, device, dtype);
    impl_->module->eval();
    device_ = device;
    dtype_ = dtype;
}

LoadReport VQGAN::load_weights(const TensorMap& tensors, const std::string& source) {
    LoadOptions options;
    if (tensors.count("first_stage_model.quantize.embedding.weight")) options.prefix = "first_stage_model.";
    return load_state_dict(*impl_->module, tensors, source, options);
}

VQEncoding VQGAN::encode(const at::Tensor& image) {
    torch::NoGradGuard no_grad;
    if (!image.defined() || image.dim() != 4 || image.size(1) != config_.in_channels || image.size(0) == 0)
        throw Error("VQGAN encode: image must be [batch, " + std::to_string(config_.in_channels) +
                    ", H, W], got " + (image.defined() ? c10::str(image.sizes()) : std::string("nothing")));
    const int64_t factor = int64_t(1) << (config_.ch_mult.size() - 1);
    if (image.size(2) % factor != 0 || image.size(3) % factor != 0)
        throw Error("VQGAN encode: image sides " + c10::str(image.sizes()) + " must be multiples of " +
                    std::to_string(factor));
    auto& m = *impl_->module;
    auto z = m.quant_conv(m.encoder->forward(image.to(device_, dtype_)));  // [B, C, h, w]
    const int64_t b = z.size(0), c = z.size(1), h = z.size(2), w = z.size(3);
    auto z_nhwc = z.permute({0, 2, 3, 1}).contiguous();
    auto flat = z_nhwc.view({-1, c});
    const auto& e = m.embedding->weight;
    // d = |z|^2 + |e|^2 - 2 z e^T, the very expression (and order) of VectorQuantizer2.forward.
    auto d = at::sum(flat.pow(2), 1, /*keepdim=*/true) + at::sum(e.pow(2), 1) - 2 * at::matmul(flat, e.t());
    auto indices = at::argmin(d, 1);
    auto z_q = at::embedding(e, indices).view(z_nhwc.sizes());
    z_q = z_nhwc + (z_q - z_nhwc);  // the straight-through form taming returns (equal up to rounding)
    VQEncoding out;
    out.z_quant = z_q.permute({0, 3, 1, 2}).contiguous();
    out.indices = indices.view({b, h * w});
    return out;
}

at::Tensor VQGAN::decode_codes(const at::Tensor& indices) {
    torch::NoGradGuard no_grad;
    const int64_t side = config_.latent_size();
    if (!indices.defined() || indices.dim() < 2 || indices.size(0) == 0 ||
        !at::isIntegralType(indices.scalar_type(), false))
        throw Error("VQGAN decode: code ids must be an integer [batch, " + std::to_string(side * side) + "] tensor");
    const int64_t b = indices.size(0);
    const int64_t n = indices.numel() / b;
    if (n != side * side)
        throw Error("VQGAN decode: " + std::to_string(n) + " codes per image, the model's grid is " +
                    std::to_string(side) + "x" + std::to_string(side));
    auto ids = indices.reshape({b, n}).to(device_, at::kLong);
    const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= config_.n_embed)
        throw Error("VQGAN decode: code id " + std::to_string(lo < 0 ? lo : hi) + " outside the codebook of " +
                    std::to_string(config_.n_embed));
    // get_codebook_entry(indices, shape=(b, h, w, c)): rows of the codebook, then channels first.
    auto z_q = impl_->module->embedding(ids).view({b, side, side, config_.embed_dim}).permute({0, 3, 1, 2}).contiguous();
    return decode(z_q);
}

at::Tensor VQGAN::decode(const at::Tensor& z_quant) {
    torch::NoGradGuard no_grad;
    if (!z_quant.defined() || z_quant.dim() != 4 || z_quant.size(1) != config_.embed_dim)
        throw Error("VQGAN decode: latents must be [batch, " + std::to_string(config_.embed_dim) + ", h, w]");
    auto& m = *impl_->module;
    return m.decoder->forward(m.post_quant_conv(z_quant.to(device_, dtype_)));
}

at::Tensor images_to_uint8(const at::Tensor& images) {
    auto x = images.detach().to(at::kCPU, at::kFloat).clamp(-1.0, 1.0);
    x = (x + 1.0) / 2.0;
    return (x * 255.0).permute({0, 2, 3, 1}).to(at::kByte).contiguous();
}

}  // namespace syn::models
