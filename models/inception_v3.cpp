// torch-fidelity's FeatureExtractorInceptionV3 (torch_fidelity/feature_extractor_inceptionv3.py),
// itself pytorch-fid's FID Inception (src/pytorch_fid/inception.py: torchvision's Inception3 with
// FIDInceptionA/C/E_1/E_2 blocks), at inference.
#include "models/inception_v3.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"

namespace syn::models {
namespace {

// Conv (bias=False) -> BatchNorm2d(eps=0.001) -> ReLU, named "conv" / "bn" like the checkpoint.
struct BasicConv2d : torch::nn::Module {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};

    BasicConv2d(int64_t in, int64_t out, int64_t kh, int64_t kw, int64_t stride = 1, int64_t ph = 0,
                int64_t pw = 0) {
        conv = register_module(
            "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, torch::ExpandingArray<2>({kh, kw}))
                                          .stride(stride)
                                          .padding(torch::ExpandingArray<2>({ph, pw}))
                                          .bias(false)));
        bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out).eps(0.001)));
    }
    at::Tensor forward(const at::Tensor& x) { return at::relu(bn->forward(conv->forward(x))); }
};
using Conv = std::shared_ptr<BasicConv2d>;

Conv add_conv(torch::nn::Module& parent, const std::string& name, int64_t in, int64_t out, int64_t kh,
              int64_t kw, int64_t stride = 1, int64_t ph = 0, int64_t pw = 0) {
    return parent.register_module(name, std::make_shared<BasicConv2d>(in, out, kh, kw, stride, ph, pw));
}

// TF's average pool ignores the zero padding in the mean: count_include_pad=False.
at::Tensor tf_avg_pool_3x3(const at::Tensor& x) {
    return at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, /*ceil_mode=*/false, /*count_include_pad=*/false);
}
at::Tensor max_pool_3x3_s2(const at::Tensor& x) { return at::max_pool2d(x, {3, 3}, {2, 2}); }

// InceptionA (Mixed_5b..5d), FID variant.
struct InceptionA : torch::nn::Module {
    Conv b1, b5_1, b5_2, b3_1, b3_2, b3_3, pool;
    InceptionA(int64_t in, int64_t pool_features) {
        b1 = add_conv(*this, "branch1x1", in, 64, 1, 1);
        b5_1 = add_conv(*this, "branch5x5_1", in, 48, 1, 1);
        b5_2 = add_conv(*this, "branch5x5_2", 48, 64, 5, 5, 1, 2, 2);
        b3_1 = add_conv(*this, "branch3x3dbl_1", in, 64, 1, 1);
        b3_2 = add_conv(*this, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
        b3_3 = add_conv(*this, "branch3x3dbl_3", 96, 96, 3, 3, 1, 1, 1);
        pool = add_conv(*this, "branch_pool", in, pool_features, 1, 1);
    }
    at::Tensor forward(const at::Tensor& x) {
        return at::cat({b1->forward(x), b5_2->forward(b5_1->forward(x)),
                        b3_3->forward(b3_2->forward(b3_1->forward(x))), pool->forward(tf_avg_pool_3x3(x))},
                       1);
    }
};

// InceptionB (Mixed_6a), unchanged from torchvision.
struct InceptionB : torch::nn::Module {
    Conv b3, d1, d2, d3;
    explicit InceptionB(int64_t in) {
        b3 = add_conv(*this, "branch3x3", in, 384, 3, 3, 2);
        d1 = add_conv(*this, "branch3x3dbl_1", in, 64, 1, 1);
        d2 = add_conv(*this, "branch3x3dbl_2", 64, 96, 3, 3, 1, 1, 1);
        d3 = add_conv(*this, "branch3x3dbl_3", 96, 96, 3, 3, 2);
    }
    at::Tensor forward(const at::Tensor& x) {
        return at::cat({b3->forward(x), d3->forward(d2->forward(d1->forward(x))), max_pool_3x3_s2(x)}, 1);
    }
};

// InceptionC (Mixed_6b..6e), FID variant.
struct InceptionC : torch::nn::Module {
    Conv b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;
    InceptionC(int64_t in, int64_t c7) {
        b1 = add_conv(*this, "branch1x1", in, 192, 1, 1);
        s1 = add_conv(*this, "branch7x7_1", in, c7, 1, 1);
        s2 = add_conv(*this, "branch7x7_2", c7, c7, 1, 7, 1, 0, 3);
        s3 = add_conv(*this, "branch7x7_3", c7, 192, 7, 1, 1, 3, 0);
        d1 = add_conv(*this, "branch7x7dbl_1", in, c7, 1, 1);
        d2 = add_conv(*this, "branch7x7dbl_2", c7, c7, 7, 1, 1, 3, 0);
        d3 = add_conv(*this, "branch7x7dbl_3", c7, c7, 1, 7, 1, 0, 3);
        d4 = add_conv(*this, "branch7x7dbl_4", c7, c7, 7, 1, 1, 3, 0);
        d5 = add_conv(*this, "branch7x7dbl_5", c7, 192, 1, 7, 1, 0, 3);
        pool = add_conv(*this, "branch_pool", in, 192, 1, 1);
    }
    at::Tensor forward(const at::Tensor& x) {
        auto dbl = d5->forward(d4->forward(d3->forward(d2->forward(d1->forward(x)))));
        return at::cat({b1->forward(x), s3->forward(s2->forward(s1->forward(x))), dbl,
                        pool->forward(tf_avg_pool_3x3(x))},
                       1);
    }
};

// InceptionD (Mixed_7a), unchanged from torchvision.
struct InceptionD : torch::nn::Module {
    Conv a1, a2, b1, b2, b3, b4;
    explicit InceptionD(int64_t in) {
        a1 = add_conv(*this, "branch3x3_1", in, 192, 1, 1);
        a2 = add_conv(*this, "branch3x3_2", 192, 320, 3, 3, 2);
        b1 = add_conv(*this, "branch7x7x3_1", in, 192, 1, 1);
        b2 = add_conv(*this, "branch7x7x3_2", 192, 192, 1, 7, 1, 0, 3);
        b3 = add_conv(*this, "branch7x7x3_3", 192, 192, 7, 1, 1, 3, 0);
        b4 = add_conv(*this, "branch7x7x3_4", 192, 192, 3, 3, 2);
    }
    at::Tensor forward(const at::Tensor& x) {
        return at::cat({a2->forward(a1->forward(x)), b4->forward(b3->forward(b2->forward(b1->forward(x)))),
                        max_pool_3x3_s2(x)},
                       1);
    }
};

// InceptionE: Mixed_7b (E_1: TF average pool) and Mixed_7c (E_2: 3x3 max pool, stride 1, pad 1,
// as TF's graph has it).
struct InceptionE : torch::nn::Module {
    Conv b1, t1, t2a, t2b, d1, d2, d3a, d3b, pool;
    bool max_pool;
    InceptionE(int64_t in, bool max_pool_branch) : max_pool(max_pool_branch) {
        b1 = add_conv(*this, "branch1x1", in, 320, 1, 1);
        t1 = add_conv(*this, "branch3x3_1", in, 384, 1, 1);
        t2a = add_conv(*this, "branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
        t2b = add_conv(*this, "branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
        d1 = add_conv(*this, "branch3x3dbl_1", in, 448, 1, 1);
        d2 = add_conv(*this, "branch3x3dbl_2", 448, 384, 3, 3, 1, 1, 1);
        d3a = add_conv(*this, "branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
        d3b = add_conv(*this, "branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
        pool = add_conv(*this, "branch_pool", in, 192, 1, 1);
    }
    at::Tensor forward(const at::Tensor& x) {
        auto t = t1->forward(x);
        auto d = d2->forward(d1->forward(x));
        auto pooled = max_pool ? at::max_pool2d(x, {3, 3}, {1, 1}, {1, 1}) : tf_avg_pool_3x3(x);
        return at::cat({b1->forward(x), t2a->forward(t), t2b->forward(t), d3a->forward(d), d3b->forward(d),
                        pool->forward(pooled)},
                       1);
    }
};

struct InceptionModule : torch::nn::Module {
    Conv c1a, c2a, c2b, c3b, c4a;
    std::shared_ptr<InceptionA> m5b, m5c, m5d;
    std::shared_ptr<InceptionB> m6a;
    std::shared_ptr<InceptionC> m6b, m6c, m6d, m6e;
    std::shared_ptr<InceptionD> m7a;
    std::shared_ptr<InceptionE> m7b, m7c;
    torch::nn::Linear fc{nullptr};

    InceptionModule() {
        c1a = add_conv(*this, "Conv2d_1a_3x3", 3, 32, 3, 3, 2);
        c2a = add_conv(*this, "Conv2d_2a_3x3", 32, 32, 3, 3);
        c2b = add_conv(*this, "Conv2d_2b_3x3", 32, 64, 3, 3, 1, 1, 1);
        c3b = add_conv(*this, "Conv2d_3b_1x1", 64, 80, 1, 1);
        c4a = add_conv(*this, "Conv2d_4a_3x3", 80, 192, 3, 3);
        m5b = register_module("Mixed_5b", std::make_shared<InceptionA>(192, 32));
        m5c = register_module("Mixed_5c", std::make_shared<InceptionA>(256, 64));
        m5d = register_module("Mixed_5d", std::make_shared<InceptionA>(288, 64));
        m6a = register_module("Mixed_6a", std::make_shared<InceptionB>(288));
        m6b = register_module("Mixed_6b", std::make_shared<InceptionC>(768, 128));
        m6c = register_module("Mixed_6c", std::make_shared<InceptionC>(768, 160));
        m6d = register_module("Mixed_6d", std::make_shared<InceptionC>(768, 160));
        m6e = register_module("Mixed_6e", std::make_shared<InceptionC>(768, 192));
        m7a = register_module("Mixed_7a", std::make_shared<InceptionD>(768));
        m7b = register_module("Mixed_7b", std::make_shared<InceptionE>(1280, /*max_pool_branch=*/false));
        m7c = register_module("Mixed_7c", std::make_shared<InceptionE>(2048, /*max_pool_branch=*/true));
        fc = register_module("fc", torch::nn::Linear(kInceptionPoolFeatures, kInceptionClasses));
    }

    // x: [B, 3, 299, 299] normalised to [-1, 1) -> pooled features [B, 2048].
    at::Tensor pool_features(at::Tensor x) {
        x = c2b->forward(c2a->forward(c1a->forward(x)));  // 64 x 147 x 147
        x = max_pool_3x3_s2(x);                           // 64 x 73 x 73
        x = c4a->forward(c3b->forward(x));                 // 192 x 71 x 71
        x = max_pool_3x3_s2(x);                           // 192 x 35 x 35
        x = m5d->forward(m5c->forward(m5b->forward(x)));   // 288 x 35 x 35
        x = m6a->forward(x);                               // 768 x 17 x 17
        x = m6e->forward(m6d->forward(m6c->forward(m6b->forward(x))));
        x = m7c->forward(m7b->forward(m7a->forward(x)));   // 2048 x 8 x 8
        return at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    }
};

// One axis of the TF1 resize: low / high source indices and the weight of the high one.
struct Axis {
    at::Tensor lo, hi, frac;
};

Axis tf1_axis(int64_t in, int64_t out, const at::TensorOptions& options) {
    // torch-fidelity: grid = arange(out, dtype) * tensor(in / out, float32); lo = grid.long();
    // hi = (lo + 1).clamp_max(in - 1); frac = grid - lo.float().
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    at::Tensor grid = at::arange(0, out, 1, options) *
                      at::scalar_tensor(static_cast<float>(scale), options.dtype(at::kFloat));
    Axis a;
    a.lo = grid.to(at::kLong);
    a.hi = (a.lo + 1).clamp_max(in - 1);
    a.frac = grid - a.lo.to(at::kFloat);
    return a;
}

std::string shape_of(const at::Tensor& t) { return t.defined() ? c10::str(t.sizes()) : std::string("nothing"); }

}  // namespace

at::Tensor resize_bilinear_tf1(const at::Tensor& images, int64_t out_h, int64_t out_w) {
    if (!images.defined() || images.dim() != 4 || !at::isFloatingType(images.scalar_type()))
        throw Error("resize_bilinear_tf1: expected a floating [B, C, H, W] tensor, got " + shape_of(images));
    if (out_h < 1 || out_w < 1 || images.size(2) < 1 || images.size(3) < 1)
        throw Error("resize_bilinear_tf1: sizes must be positive (input " + shape_of(images) + ", output " +
                    std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
    const auto options = images.options();
    const Axis x = tf1_axis(images.size(3), out_w, options);
    const Axis y = tf1_axis(images.size(2), out_h, options);
    const at::Tensor rows_lo = images.index_select(2, y.lo), rows_hi = images.index_select(2, y.hi);
    const at::Tensor in_00 = rows_lo.index_select(3, x.lo), in_01 = rows_lo.index_select(3, x.hi);
    const at::Tensor in_10 = rows_hi.index_select(3, x.lo), in_11 = rows_hi.index_select(3, x.hi);
    const at::Tensor dx = x.frac.view({1, 1, 1, out_w}), dy = y.frac.view({1, 1, out_h, 1});
    const at::Tensor in_0 = in_00 + (in_01 - in_00) * dx;
    const at::Tensor in_1 = in_10 + (in_11 - in_10) * dx;
    return in_0 + (in_1 - in_0) * dy;
}

struct InceptionV3::Impl {
    std::shared_ptr<InceptionModule> module;
};

InceptionV3::InceptionV3() : impl_(std::make_unique<Impl>()) {
    impl_->module = std::make_shared<InceptionModule>();
    impl_->module->eval();
}

InceptionV3::~InceptionV3() = default;

torch::nn::Module& InceptionV3::module() { return *impl_->module; }

void InceptionV3::to(c10::Device device, c10::ScalarType dtype) {
    if (dtype != at::kFloat && dtype != at::kDouble)
        throw Error("InceptionV3::to: dtype must be float32 or float64 (torch-fidelity's internal dtypes)");
    impl_->module->to(device, dtype);
    impl_->module->eval();
    device_ = device;
    dtype_ = dtype;
}

int64_t InceptionV3::parameter_count() const {
    int64_t n = 0;
    for (const auto& p : impl_->module->parameters()) n += p.numel();
    return n;
}

LoadReport InceptionV3::load_weights(const TensorMap& tensors, const std::string& source) {
    LoadOptions options;
    options.strict_unexpected = true;  // the file holds this network and nothing else
    for (const auto& item : impl_->module->named_buffers())
        if (item.key().size() >= 19 && item.key().compare(item.key().size() - 19, 19, "num_batches_tracked") == 0)
            options.allow_missing.push_back(item.key());
    return load_state_dict(*impl_->module, tensors, source, options);
}

InceptionOutputs InceptionV3::forward(const at::Tensor& images, ImageLayout layout) {
    c10::InferenceMode guard;
    const bool nhwc = layout == ImageLayout::NHWC;
    if (!images.defined() || images.dim() != 4 || images.scalar_type() != at::kByte ||
        images.size(nhwc ? 3 : 1) != 3 || images.size(0) < 1)
        throw Error(std::string("InceptionV3: expected uint8 images ") + (nhwc ? "[B, H, W, 3]" : "[B, 3, H, W]") +
                    ", got " + (images.defined() ? std::string(c10::toString(images.scalar_type())) + " " : "") +
                    shape_of(images));
    if (images.size(1) < 1 || images.size(2) < 1 || images.size(3) < 1)
        throw Error("InceptionV3: empty image " + shape_of(images));
    at::Tensor x = nhwc ? images.permute({0, 3, 1, 2}) : images;
    x = x.to(device_).to(dtype_);
    x = resize_bilinear_tf1(x, kInceptionInputSize, kInceptionInputSize);
    x = (x - 128) / 128;
    auto& m = *impl_->module;
    InceptionOutputs out;
    const at::Tensor pool = m.pool_features(x);
    const at::Tensor unbiased = pool.mm(m.fc->weight.t());
    out.pool = pool.to(at::kFloat);
    out.logits_unbiased = unbiased.to(at::kFloat);
    out.logits = (unbiased + m.fc->bias.unsqueeze(0)).to(at::kFloat);
    return out;
}

std::unique_ptr<InceptionV3> load_inception_v3(const std::string& path) {
    const LoadedCheckpoint checkpoint = load_checkpoint(path);
    auto net = std::make_unique<InceptionV3>();
    net->load_weights(checkpoint.tensors, checkpoint.path);
    return net;
}

eval::InceptionScore inception_score_of_images(InceptionV3& net, const at::Tensor& uint8_images, int64_t batch,
                                               int splits, ImageLayout layout) {
    if (batch < 1) throw Error("inception score: batch size must be positive, got " + std::to_string(batch));
    if (!uint8_images.defined() || uint8_images.dim() != 4)
        throw Error("inception score: expected a 4-d uint8 image batch, got " + shape_of(uint8_images));
    const int64_t n = uint8_images.size(0);
    std::vector<double> logits;
    logits.reserve(static_cast<size_t>(n * kInceptionClasses));
    for (int64_t start = 0; start < n; start += batch) {
        const at::Tensor rows =
            net.forward(uint8_images.slice(0, start, std::min(n, start + batch)), layout)
                .logits_unbiased.to(at::kCPU, at::kDouble)
                .contiguous();
        const double* p = rows.data_ptr<double>();
        logits.insert(logits.end(), p, p + rows.numel());
    }
    return eval::inception_score(logits, n, kInceptionClasses, splits);
}

}  // namespace syn::models
