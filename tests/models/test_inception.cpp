// The InceptionV3 of torch-fidelity: the TF1 resize against the formula, the key set and parameter
// count against an independent list written from torch-fidelity's source, loading errors, output
// shapes, batch independence and the Inception Score helper. Random weights (no real file here);
// SYN_INCEPTION_WEIGHTS=<weights-inception-2015-12-05-6726825d.pth> adds a run on the real file.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/eval/inception_score.h"
#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/torch_checkpoint.h"
#include "core/io/torch/strict_loader.h"
#include "models/inception_v3.h"

namespace fs = std::filesystem;
using namespace syn;
using models::ImageLayout;
using models::InceptionV3;

namespace {

// ---------------------------------------------------------------------------------------------
// The checkpoint's keys and shapes, written from torch_fidelity/feature_extractor_inceptionv3.py
// (FeatureExtractorInceptionV3.__init__ and the Inception* blocks), independently of the module.
struct ConvSpec {
    std::string name;
    int64_t in, out, kh, kw;
};

void block_a(std::vector<ConvSpec>& v, const std::string& p, int64_t in, int64_t pool_features) {
    v.push_back({p + ".branch1x1", in, 64, 1, 1});
    v.push_back({p + ".branch5x5_1", in, 48, 1, 1});
    v.push_back({p + ".branch5x5_2", 48, 64, 5, 5});
    v.push_back({p + ".branch3x3dbl_1", in, 64, 1, 1});
    v.push_back({p + ".branch3x3dbl_2", 64, 96, 3, 3});
    v.push_back({p + ".branch3x3dbl_3", 96, 96, 3, 3});
    v.push_back({p + ".branch_pool", in, pool_features, 1, 1});
}
void block_b(std::vector<ConvSpec>& v, const std::string& p, int64_t in) {
    v.push_back({p + ".branch3x3", in, 384, 3, 3});
    v.push_back({p + ".branch3x3dbl_1", in, 64, 1, 1});
    v.push_back({p + ".branch3x3dbl_2", 64, 96, 3, 3});
    v.push_back({p + ".branch3x3dbl_3", 96, 96, 3, 3});
}
void block_c(std::vector<ConvSpec>& v, const std::string& p, int64_t in, int64_t c7) {
    v.push_back({p + ".branch1x1", in, 192, 1, 1});
    v.push_back({p + ".branch7x7_1", in, c7, 1, 1});
    v.push_back({p + ".branch7x7_2", c7, c7, 1, 7});
    v.push_back({p + ".branch7x7_3", c7, 192, 7, 1});
    v.push_back({p + ".branch7x7dbl_1", in, c7, 1, 1});
    v.push_back({p + ".branch7x7dbl_2", c7, c7, 7, 1});
    v.push_back({p + ".branch7x7dbl_3", c7, c7, 1, 7});
    v.push_back({p + ".branch7x7dbl_4", c7, c7, 7, 1});
    v.push_back({p + ".branch7x7dbl_5", c7, 192, 1, 7});
    v.push_back({p + ".branch_pool", in, 192, 1, 1});
}
void block_d(std::vector<ConvSpec>& v, const std::string& p, int64_t in) {
    v.push_back({p + ".branch3x3_1", in, 192, 1, 1});
    v.push_back({p + ".branch3x3_2", 192, 320, 3, 3});
    v.push_back({p + ".branch7x7x3_1", in, 192, 1, 1});
    v.push_back({p + ".branch7x7x3_2", 192, 192, 1, 7});
    v.push_back({p + ".branch7x7x3_3", 192, 192, 7, 1});
    v.push_back({p + ".branch7x7x3_4", 192, 192, 3, 3});
}
void block_e(std::vector<ConvSpec>& v, const std::string& p, int64_t in) {
    v.push_back({p + ".branch1x1", in, 320, 1, 1});
    v.push_back({p + ".branch3x3_1", in, 384, 1, 1});
    v.push_back({p + ".branch3x3_2a", 384, 384, 1, 3});
    v.push_back({p + ".branch3x3_2b", 384, 384, 3, 1});
    v.push_back({p + ".branch3x3dbl_1", in, 448, 1, 1});
    v.push_back({p + ".branch3x3dbl_2", 448, 384, 3, 3});
    v.push_back({p + ".branch3x3dbl_3a", 384, 384, 1, 3});
    v.push_back({p + ".branch3x3dbl_3b", 384, 384, 3, 1});
    v.push_back({p + ".branch_pool", in, 192, 1, 1});
}

std::vector<ConvSpec> inception_convs() {
    std::vector<ConvSpec> v = {{"Conv2d_1a_3x3", 3, 32, 3, 3},
                               {"Conv2d_2a_3x3", 32, 32, 3, 3},
                               {"Conv2d_2b_3x3", 32, 64, 3, 3},
                               {"Conv2d_3b_1x1", 64, 80, 1, 1},
                               {"Conv2d_4a_3x3", 80, 192, 3, 3}};
    block_a(v, "Mixed_5b", 192, 32);
    block_a(v, "Mixed_5c", 256, 64);
    block_a(v, "Mixed_5d", 288, 64);
    block_b(v, "Mixed_6a", 288);
    block_c(v, "Mixed_6b", 768, 128);
    block_c(v, "Mixed_6c", 768, 160);
    block_c(v, "Mixed_6d", 768, 160);
    block_c(v, "Mixed_6e", 768, 192);
    block_d(v, "Mixed_7a", 768);
    block_e(v, "Mixed_7b", 1280);
    block_e(v, "Mixed_7c", 2048);
    return v;
}

RawTensor float_tensor(std::vector<int64_t> shape, const std::vector<float>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return make_owned_tensor(DType::F32, std::move(shape), std::move(bytes));
}

// Seeded weights for every key: He-scaled convolutions, BN statistics near (0, 1) with variances
// kept positive, so activations stay O(1) through the 48 layers.
TensorMap random_weights(uint32_t seed, bool with_num_batches_tracked = false) {
    std::mt19937 rng(seed);
    auto normal = [&](size_t n, double stddev) {
        std::normal_distribution<float> d(0.f, static_cast<float>(stddev));
        std::vector<float> v(n);
        for (float& x : v) x = d(rng);
        return v;
    };
    auto uniform = [&](size_t n, float lo, float hi) {
        std::uniform_real_distribution<float> d(lo, hi);
        std::vector<float> v(n);
        for (float& x : v) x = d(rng);
        return v;
    };
    TensorMap m;
    for (const ConvSpec& c : inception_convs()) {
        const size_t fan_in = static_cast<size_t>(c.in * c.kh * c.kw), out = static_cast<size_t>(c.out);
        m[c.name + ".conv.weight"] = float_tensor({c.out, c.in, c.kh, c.kw}, normal(out * fan_in, std::sqrt(2.0 / fan_in)));
        m[c.name + ".bn.weight"] = float_tensor({c.out}, uniform(out, 0.5f, 1.5f));
        m[c.name + ".bn.bias"] = float_tensor({c.out}, normal(out, 0.1));
        m[c.name + ".bn.running_mean"] = float_tensor({c.out}, normal(out, 0.1));
        m[c.name + ".bn.running_var"] = float_tensor({c.out}, uniform(out, 0.5f, 1.5f));
        if (with_num_batches_tracked) {
            std::vector<uint8_t> zero(8, 0);
            m[c.name + ".bn.num_batches_tracked"] = make_owned_tensor(DType::I64, {}, zero);
        }
    }
    m["fc.weight"] = float_tensor({1008, 2048}, normal(1008 * 2048, 1.0 / std::sqrt(2048.0)));
    m["fc.bias"] = float_tensor({1008}, normal(1008, 0.5));
    return m;
}

// torchvision's Inception3 (aux_logits=True, 1000 classes) has 27,161,264 parameters
// (torchvision/models/inception.py, Inception_V3_Weights meta "num_params"). torch-fidelity's
// network is the same minus the auxiliary classifier (InceptionAux(768, 1000): conv0 768*128 + bn
// 256, conv1 128*768*25 + bn 1,536, fc 768*1000 + 1000 = 3,326,696) with 1008 classes instead of
// 1000 (+8 * 2048 + 8 = 16,392): 27,161,264 - 3,326,696 + 16,392 = 23,850,960.
constexpr int64_t kInceptionParameters = 27161264 - 3326696 + 16392;

at::Tensor random_images(int64_t b, int64_t h, int64_t w, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    return at::randint(0, 256, {b, 3, h, w}, gen, at::TensorOptions().dtype(at::kByte));
}

// A legacy (torch < 1.6) torch.save file of a plain dict of float tensors, as the released
// weights file is: pickles of the magic number, protocol version 1001 and sys_info, the dict with
// ('storage', torch.FloatStorage, key, 'cpu', numel, None) persistent ids, the storage key list,
// then each storage as an int64 element count and its bytes. Protocol 2 opcodes only.
class LegacyWriter {
public:
    void write(const std::string& path, const TensorMap& tensors) {
        std::string file("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
        out_ = "\x80\x02";
        integer(1001);
        out_ += ".\x80\x02}(";
        str("little_endian");
        out_ += "\x88u.";  // NEWTRUE, SETITEMS, STOP
        file += out_;

        out_ = "\x80\x02}(";
        std::vector<std::string> keys;
        for (const auto& [name, t] : tensors) {
            const std::string key = std::to_string(1000 + keys.size());
            keys.push_back(key);
            const int64_t numel = static_cast<int64_t>(t.nbytes / sizeof(float));
            str(name);
            global("torch._utils", "_rebuild_tensor_v2");
            out_ += "((";
            str("storage");
            global("torch", "FloatStorage");
            str(key);
            str("cpu");
            integer(numel);
            out_ += "NtQ";  // view_metadata None, TUPLE, BINPERSID
            integer(0);
            std::vector<int64_t> stride(t.shape.size(), 1);
            for (size_t d = t.shape.size(); d-- > 1;) stride[d - 1] = stride[d] * t.shape[d];
            ints(t.shape);
            ints(stride);
            out_ += "\x89";  // False
            global("collections", "OrderedDict");
            out_ += ")RtR";
        }
        out_ += "u.]("; // SETITEMS, STOP; then the key list
        for (const auto& k : keys) str(k);
        out_ += "e.";
        file += "\x80\x02" + out_;
        std::ofstream f(path, std::ios::binary);
        f << file;
        for (const auto& [name, t] : tensors) {
            const int64_t numel = static_cast<int64_t>(t.nbytes / sizeof(float));
            f.write(reinterpret_cast<const char*>(&numel), 8);  // little-endian host
            f.write(reinterpret_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
        }
    }

private:
    void integer(int64_t v) {
        out_ += 'J';
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(static_cast<uint32_t>(v) >> (8 * i)));
    }
    void str(const std::string& s) {
        out_ += 'X';
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(static_cast<uint32_t>(s.size()) >> (8 * i)));
        out_ += s;
    }
    void global(const std::string& module, const std::string& name) { out_ += "c" + module + "\n" + name + "\n"; }
    void ints(const std::vector<int64_t>& v) {
        out_ += '(';
        for (int64_t x : v) integer(x);
        out_ += 't';
    }
    std::string out_;
};

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected syn::Error";
    return {};
}

std::unique_ptr<InceptionV3> random_net() {
    auto net = std::make_unique<InceptionV3>();
    net->load_weights(random_weights(1234), "random");
    return net;
}

}  // namespace

// =============================================================================================
// The TF1 resize: src = dst * in / out, lo = floor(src), hi = min(lo + 1, in - 1).

TEST(InceptionResize, UpsampleTwoToFourByTheTf1Formula) {
    // One row [a, b] -> src x = 0, 0.5, 1, 1.5 -> [a, (a+b)/2, b, b] (the last clamps hi to 1).
    at::Tensor x = torch::tensor({10.f, 30.f, 50.f, 90.f}).view({1, 1, 2, 2});
    at::Tensor y = models::resize_bilinear_tf1(x, 4, 4);
    // Rows [10, 30] and [50, 90]; source rows 0, 0.5, 1, 1.5 (the last clamps to row 1).
    at::Tensor want = torch::tensor({10.f, 20.f, 30.f, 30.f,   //
                                     30.f, 45.f, 60.f, 60.f,   //
                                     50.f, 70.f, 90.f, 90.f,   //
                                     50.f, 70.f, 90.f, 90.f})
                         .view({1, 1, 4, 4});
    EXPECT_TRUE(at::equal(y, want)) << y;
}

TEST(InceptionResize, DownsampleFourToTwoPicksEveryOtherPixel) {
    // src = 0, 2: exact pixels 0 and 2, no blending (align_corners=False, no half-pixel offset).
    at::Tensor x = at::arange(16, at::kFloat).view({1, 1, 4, 4});
    at::Tensor y = models::resize_bilinear_tf1(x, 2, 2);
    EXPECT_TRUE(at::equal(y, torch::tensor({0.f, 2.f, 8.f, 10.f}).view({1, 1, 2, 2}))) << y;
    // 3 -> 2 columns: src = 0, 1.5 -> [c0, (c1 + c2) / 2].
    at::Tensor z = models::resize_bilinear_tf1(torch::tensor({4.f, 8.f, 16.f}).view({1, 1, 1, 3}), 1, 2);
    EXPECT_TRUE(at::equal(z, torch::tensor({4.f, 12.f}).view({1, 1, 1, 2}))) << z;
}

TEST(InceptionResize, IdentityAt299AndAgreesWithTheFormulaElsewhere) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    at::Tensor big = at::rand({2, 3, 299, 299}, gen) * 255;
    EXPECT_TRUE(at::equal(models::resize_bilinear_tf1(big, 299, 299), big));

    // A plain loop over the formula (float32 source coordinates, as torch-fidelity computes them).
    at::Tensor x = at::rand({1, 2, 5, 7}, gen) * 255;
    const int64_t oh = 13, ow = 4;
    at::Tensor y = models::resize_bilinear_tf1(x, oh, ow);
    auto a = x.accessor<float, 4>();
    const float sy = static_cast<float>(5.0 / oh), sx = static_cast<float>(7.0 / ow);
    for (int64_t c = 0; c < 2; ++c)
        for (int64_t i = 0; i < oh; ++i)
            for (int64_t j = 0; j < ow; ++j) {
                const float fy = static_cast<float>(i) * sy, fx = static_cast<float>(j) * sx;
                const int64_t y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
                const int64_t y1 = std::min<int64_t>(y0 + 1, 4), x1 = std::min<int64_t>(x0 + 1, 6);
                const double dy = fy - y0, dx = fx - x0;
                const double top = a[0][c][y0][x0] + (a[0][c][y0][x1] - a[0][c][y0][x0]) * dx;
                const double bottom = a[0][c][y1][x0] + (a[0][c][y1][x1] - a[0][c][y1][x0]) * dx;
                EXPECT_NEAR(y[0][c][i][j].item<float>(), top + (bottom - top) * dy, 1e-3) << c << "," << i << "," << j;
            }

    EXPECT_NE(error_of([&] { models::resize_bilinear_tf1(x.to(at::kByte), 4, 4); }).find("floating"), std::string::npos);
    EXPECT_NE(error_of([&] { models::resize_bilinear_tf1(x, 0, 4); }).find("positive"), std::string::npos);
}

// =============================================================================================
// The network.

TEST(InceptionV3Model, KeySetAndParameterCountMatchTorchFidelity) {
    InceptionV3 net;
    EXPECT_EQ(net.parameter_count(), kInceptionParameters);
    EXPECT_EQ(kInceptionParameters, 23850960);

    // The independent list gives the same count (BN running statistics are buffers, not parameters).
    int64_t from_list = 1008 * 2048 + 1008;
    for (const ConvSpec& c : inception_convs()) from_list += c.out * c.in * c.kh * c.kw + 2 * c.out;
    EXPECT_EQ(from_list, kInceptionParameters);
    EXPECT_EQ(inception_convs().size(), 94u);

    // Every key of the list loads, nothing is left over (strict both ways), with or without
    // BatchNorm's num_batches_tracked.
    const TensorMap weights = random_weights(1);
    const LoadReport report = net.load_weights(weights, "random");
    EXPECT_EQ(report.loaded.size(), weights.size());
    EXPECT_EQ(report.loaded.size(), 94u * 5 + 2);
    EXPECT_TRUE(report.missing.empty());
    EXPECT_TRUE(report.unexpected.empty());
    EXPECT_EQ(net.load_weights(random_weights(1, true), "random+nbt").loaded.size(), 94u * 6 + 2);
}

TEST(InceptionV3Model, LoadErrorsNameTheKey) {
    InceptionV3 net;
    const TensorMap base = random_weights(2);  // copies below share its storages
    TensorMap w = base;
    w.erase("Mixed_6c.branch7x7dbl_3.bn.running_var");
    std::string msg = error_of([&] { net.load_weights(w, "weights.pth"); });
    EXPECT_NE(msg.find("Mixed_6c.branch7x7dbl_3.bn.running_var"), std::string::npos) << msg;
    EXPECT_NE(msg.find("weights.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing"), std::string::npos) << msg;

    w = base;
    w["fc.weight"] = float_tensor({1000, 2048}, std::vector<float>(1000 * 2048, 0.f));
    msg = error_of([&] { net.load_weights(w, "weights.pth"); });
    EXPECT_NE(msg.find("fc.weight: checkpoint [1000, 2048] vs module [1008, 2048]"), std::string::npos) << msg;

    // A transposed 1x7 / 7x1 kernel is a shape error too.
    w = base;
    w["Mixed_6b.branch7x7_2.conv.weight"] = float_tensor({128, 128, 7, 1}, std::vector<float>(128 * 128 * 7, 0.f));
    msg = error_of([&] { net.load_weights(w, "weights.pth"); });
    EXPECT_NE(msg.find("Mixed_6b.branch7x7_2.conv.weight"), std::string::npos) << msg;

    w = base;
    w["AuxLogits.fc.weight"] = float_tensor({2}, {0.f, 0.f});
    msg = error_of([&] { net.load_weights(w, "weights.pth"); });
    EXPECT_NE(msg.find("AuxLogits.fc.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected"), std::string::npos) << msg;
}

TEST(InceptionV3Model, ShapesBatchIndependenceLayoutsAndScore) {
    auto net = random_net();
    const at::Tensor images = random_images(3, 37, 45, 11);
    const models::InceptionOutputs out = net->forward(images);
    ASSERT_EQ(out.logits_unbiased.sizes(), (std::vector<int64_t>{3, 1008}));
    ASSERT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 1008}));
    ASSERT_EQ(out.pool.sizes(), (std::vector<int64_t>{3, 2048}));
    EXPECT_EQ(out.pool.scalar_type(), at::kFloat);
    EXPECT_TRUE(at::isfinite(out.logits).all().item<bool>());
    EXPECT_GE(out.pool.min().item<float>(), 0.f);  // ReLU then average pooling
    EXPECT_GT(out.pool.std().item<float>(), 0.f);
    // logits = logits_unbiased + fc.bias; the images differ, so do their logits.
    const at::Tensor bias = net->module().named_parameters()["fc.bias"];
    EXPECT_TRUE(at::allclose(out.logits, out.logits_unbiased + bias, 1e-5, 1e-4));
    EXPECT_GT((out.logits_unbiased[0] - out.logits_unbiased[1]).abs().max().item<float>(), 1e-3);

    // Row 0 alone equals row 0 of the batch of 3; [B, H, W, 3] input gives the same.
    const models::InceptionOutputs one = net->forward(images.slice(0, 0, 1).permute({0, 2, 3, 1}).contiguous(),
                                                      ImageLayout::NHWC);
    EXPECT_TRUE(at::allclose(one.logits_unbiased[0], out.logits_unbiased[0], 1e-5, 1e-5))
        << (one.logits_unbiased[0] - out.logits_unbiased[0]).abs().max();
    EXPECT_TRUE(at::allclose(one.pool[0], out.pool[0], 1e-5, 1e-5));

    // The helper: logits_unbiased in batches of 2, then the score over the rows in order.
    const eval::InceptionScore is = models::inception_score_of_images(*net, images, 2, 1);
    const at::Tensor l = out.logits_unbiased.to(at::kDouble).contiguous();
    const std::vector<double> rows(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
    const eval::InceptionScore want = eval::inception_score(rows, 3, 1008, 1);
    EXPECT_NEAR(is.mean, want.mean, 1e-4 * want.mean);
    EXPECT_EQ(is.samples, 3);
    EXPECT_NE(error_of([&] { models::inception_score_of_images(*net, images, 2, 10); }).find("cannot fill 10 splits"),
              std::string::npos);
}

TEST(InceptionV3Model, BadInputIsAnError) {
    InceptionV3 net;
    EXPECT_NE(error_of([&] { net.forward(at::zeros({1, 3, 8, 8})); }).find("expected uint8 images [B, 3, H, W]"),
              std::string::npos);
    EXPECT_NE(error_of([&] { net.forward(at::zeros({1, 8, 8, 3}, at::kByte)); }).find("[B, 3, H, W]"), std::string::npos);
    EXPECT_NE(error_of([&] { net.forward(at::zeros({1, 3, 8, 8}, at::kByte), ImageLayout::NHWC); }).find("[B, H, W, 3]"),
              std::string::npos);
    EXPECT_NE(error_of([&] { net.forward(at::zeros({3, 8, 8}, at::kByte)); }).find("expected uint8"), std::string::npos);
    EXPECT_NE(error_of([&] { net.to(at::kCPU, at::kHalf); }).find("float32 or float64"), std::string::npos);
}

TEST(InceptionV3Model, LoadsThroughTheCheckpointEntry) {
    const fs::path dir = fs::temp_directory_path() / ("syn_inception_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "inception.safetensors").string();
    const TensorMap weights = random_weights(3);
    write_safetensors(path, weights);
    // The released file's format: legacy torch.save (.pth).
    const std::string legacy = (dir / "weights-inception-2015-12-05-6726825d.pth").string();
    LegacyWriter().write(legacy, weights);
    EXPECT_TRUE(load_torch_checkpoint(legacy).legacy);
    for (const std::string& file : {path, legacy}) {
        auto net = models::load_inception_v3(file);
        for (const char* name : {"Mixed_7c.branch3x3dbl_3b.conv.weight", "fc.bias", "Conv2d_1a_3x3.bn.running_var"}) {
            const at::Tensor w = name == std::string("Conv2d_1a_3x3.bn.running_var")
                                     ? net->module().named_buffers()[name]
                                     : net->module().named_parameters()[name];
            const RawTensor& raw = weights.at(name);
            EXPECT_EQ(std::memcmp(w.contiguous().data_ptr<float>(), raw.data, raw.nbytes), 0) << file << " " << name;
        }
    }
    fs::remove_all(dir);
    EXPECT_NE(error_of([&] { models::load_inception_v3((dir / "absent.pth").string()); }).find("absent.pth"),
              std::string::npos);
}

// The real weights, when given: the file (legacy torch.save format, or zip) loads strictly and a
// forward pass is finite. Reference logits are not available here to compare against.
TEST(InceptionV3Model, RealWeightsWhenGiven) {
    const char* path = std::getenv("SYN_INCEPTION_WEIGHTS");
    if (!path || !*path)
        GTEST_SKIP() << "set SYN_INCEPTION_WEIGHTS to weights-inception-2015-12-05-6726825d.pth to run this";
    auto net = models::load_inception_v3(path);
    EXPECT_EQ(net->parameter_count(), kInceptionParameters);
    const models::InceptionOutputs out = net->forward(random_images(2, 64, 64, 3));
    EXPECT_TRUE(at::isfinite(out.logits).all().item<bool>());
    std::cout << "real weights: logits_unbiased[0][:4] = " << out.logits_unbiased[0].slice(0, 0, 4) << "\n";
}
