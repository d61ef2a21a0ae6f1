// tiny-taming parity: taming's VQModel + minGPT (Net2NetTransformer key names) against the golden
// tensors of the reference implementation, from both checkpoint files, plus the cached decoding
// path, the prefix conditioning and the configuration reader's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/io/checkpoint.h"
#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/torch/strict_loader.h"
#include "core/io/torch/tensor_bridge.h"
#include "models/mingpt.h"
#include "models/prefix_mapping.h"
#include "models/taming_config.h"
#include "models/vqgan.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::models;

namespace {

constexpr double kTolerance = 1e-5;
constexpr double kLogitTolerance = 1e-4;

std::string taming_dir() { return (fs::path(syn::test::fixtures_dir()) / "models" / "tiny-taming").string(); }

std::map<std::string, at::Tensor> read_golden() {
    std::map<std::string, at::Tensor> out;
    const auto file = syn::read_safetensors((fs::path(taming_dir()) / "golden.safetensors").string());
    for (const auto& [key, raw] : file.tensors) out[key] = syn::to_torch(raw);
    return out;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tolerance, const std::string& name) {
    ASSERT_EQ(actual.sizes(), expected.sizes()) << name;
    const double diff = max_abs_diff(actual, expected);
    std::printf("  %-20s max abs diff %.3g\n", name.c_str(), diff);
    EXPECT_LE(diff, tolerance) << name;
}

class TamingParity : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SYN_REQUIRE_SHARED();
        const fs::path dir = taming_dir();
        if (!fs::exists(dir / GetParam())) GTEST_SKIP() << "no " << (dir / GetParam()).string();
        model_ = load_taming_files((dir / "config.json").string(), (dir / GetParam()).string());
        golden_ = read_golden();
    }
    TamingModel model_;
    std::map<std::string, at::Tensor> golden_;
};

TEST_P(TamingParity, EncodeGivesGoldenLatentsAndIndices) {
    auto encoded = model_.vqgan->encode(golden_.at("image"));
    expect_close(encoded.z_quant, golden_.at("z_quant"), kTolerance, "z_quant");
    EXPECT_TRUE(at::equal(encoded.indices, golden_.at("z_indices"))) << "z_indices differ";
}

TEST_P(TamingParity, DecodeCodesGivesGoldenImage) {
    expect_close(model_.vqgan->decode_codes(golden_.at("codes")), golden_.at("decoded"), kTolerance, "decoded");
}

TEST_P(TamingParity, GptLogitsMatch) {
    torch::NoGradGuard no_grad;
    expect_close(model_.gpt->forward(golden_.at("gpt_input")), golden_.at("gpt_logits"), kLogitTolerance, "gpt_logits");
}

TEST_P(TamingParity, PrefixConditionedLogitsMatch) {
    torch::NoGradGuard no_grad;
    expect_close(model_.gpt->forward_with_prefix(golden_.at("gpt_input"), golden_.at("prefix")),
                 golden_.at("gpt_logits_prefix"), kLogitTolerance, "gpt_logits_prefix");
}

// The key/value cache, one token per step, reproduces the golden logits at every position.
TEST_P(TamingParity, CachedStepsMatchGoldenLogitsAtEveryPosition) {
    for (bool with_prefix : {false, true}) {
        const auto& input = golden_.at("gpt_input");
        const auto& expected = golden_.at(with_prefix ? "gpt_logits_prefix" : "gpt_logits");
        auto cache = model_.gpt->make_cache(input.size(0), input.size(1) + 1);
        double worst = 0.0;
        for (int64_t t = 0; t < input.size(1); ++t) {
            at::Tensor prefix = with_prefix && t == 0 ? golden_.at("prefix") : at::Tensor();
            auto logits = model_.gpt->step(cache, input.narrow(1, t, 1), prefix);
            ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{input.size(0), 1, expected.size(2)}));
            worst = std::max(worst, max_abs_diff(logits.squeeze(1), expected.select(1, t)));
        }
        std::printf("  cached steps (%s prefix) max abs diff %.3g\n", with_prefix ? "with" : "without", worst);
        EXPECT_LE(worst, kLogitTolerance) << (with_prefix ? "with prefix" : "without prefix");
    }
}

// Several tokens in one step (prefix + SOS + codes, then the rest one at a time).
TEST_P(TamingParity, CachedChunkedStepsMatch) {
    const auto& input = golden_.at("gpt_input");
    auto cache = model_.gpt->make_cache(input.size(0), input.size(1) + 1);
    auto first = model_.gpt->step(cache, input.narrow(1, 0, 5), golden_.at("prefix"));
    auto rest = model_.gpt->step(cache, input.narrow(1, 5, input.size(1) - 5));
    expect_close(at::cat({first, rest}, 1), golden_.at("gpt_logits_prefix"), kLogitTolerance, "chunked cache");
    EXPECT_THROW(model_.gpt->step(cache, input.narrow(1, 0, 1)), syn::Error);  // cache full
}

// bfloat16 on the CPU (GroupNorm / LayerNorm statistics and the attention softmax in float32):
// the cached GPT's logits and the decoded image stay within bf16 rounding of the float32 goldens,
// and sampling draws the same codes as often as such a perturbation allows. Bounds as in
// test_model_parity: 16 roundings' worth (16 * 2^-9) of the largest golden magnitude.
TEST_P(TamingParity, Bfloat16OnCpuWithinRounding) {
    torch::NoGradGuard no_grad;
    auto bound = [](const at::Tensor& golden) {
        return 16.0 * std::ldexp(1.0, -9) * std::max(1.0, golden.abs().max().item<double>());
    };
    model_.gpt->to(torch::kCPU, torch::kBFloat16);
    model_.vqgan->to(torch::kCPU, torch::kBFloat16);
    const auto& input = golden_.at("gpt_input");
    const auto& expected = golden_.at("gpt_logits_prefix");
    auto cache = model_.gpt->make_cache(input.size(0), input.size(1) + 1);
    std::vector<at::Tensor> steps;
    for (int64_t t = 0; t < input.size(1); ++t)
        steps.push_back(model_.gpt->step(cache, input.narrow(1, t, 1),
                                         t == 0 ? golden_.at("prefix").to(torch::kBFloat16) : at::Tensor()));
    const at::Tensor logits = at::cat(steps, 1);
    EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
    expect_close(logits, expected, bound(expected), "bf16 cached logits");
    // The most likely code is the float32 one wherever float32's top two are apart by more than
    // the bound (elsewhere a tie within rounding may flip).
    const auto top2 = at::topk(expected, 2, -1);
    const at::Tensor clear = (std::get<0>(top2).select(-1, 0) - std::get<0>(top2).select(-1, 1)) > 2 * bound(expected);
    const at::Tensor same = logits.to(at::kFloat).argmax(-1).eq(expected.argmax(-1));
    EXPECT_TRUE(same.masked_select(clear).all().item<bool>()) << "bf16 changed a clear argmax";
    // The decoder is ~30 convolutions deep (more roundings than the bound above counts): held to 2 grey
    // levels on average and 16 at worst, in [-1, 1] pixels (1 level = 2/255). generate keeps the
    // decoder in float32 (its cost is small next to sampling); this checks the bf16 path works.
    const at::Tensor decoded = model_.vqgan->decode_codes(golden_.at("codes")).to(at::kFloat);
    const at::Tensor err = (decoded - golden_.at("decoded")).abs();
    std::printf("  bf16 decoded         mean abs diff %.3g, max %.3g (grey levels: %.2f, %.1f)\n",
                err.mean().item<double>(), err.max().item<double>(), err.mean().item<double>() * 127.5,
                err.max().item<double>() * 127.5);
    EXPECT_LE(err.mean().item<double>(), 2.0 / 127.5);
    EXPECT_LE(err.max().item<double>(), 16.0 / 127.5);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, TamingParity, ::testing::Values("model.safetensors", "last.ckpt"),
                         [](const auto& info) { return info.param == "last.ckpt" ? "last_ckpt" : "safetensors"; });

TEST(TamingCheckpoints, SafetensorsAndLastCkptGiveIdenticalModels) {
    SYN_REQUIRE_SHARED();
    const fs::path dir = taming_dir();
    auto a = load_taming_files((dir / "config.json").string(), (dir / "model.safetensors").string());
    auto b = load_taming_files((dir / "config.json").string(), (dir / "last.ckpt").string());
    EXPECT_NE(a.checkpoint, b.checkpoint);
    for (auto pair : {std::make_pair(&a.vqgan->module(), &b.vqgan->module()), std::make_pair(&a.gpt->module(), &b.gpt->module())}) {
        auto pa = pair.first->named_parameters();
        auto pb = pair.second->named_parameters();
        ASSERT_EQ(pa.size(), pb.size());
        ASSERT_GT(pa.size(), 10u);
        for (const auto& item : pa) {
            const at::Tensor* other = pb.find(item.key());
            ASSERT_NE(other, nullptr) << item.key();
            EXPECT_TRUE(at::equal(item.value(), *other)) << item.key();
        }
        auto ba = pair.first->named_buffers();
        auto bb = pair.second->named_buffers();
        ASSERT_EQ(ba.size(), bb.size());
        for (const auto& item : ba) EXPECT_TRUE(at::equal(item.value(), *bb.find(item.key()))) << item.key();
    }
}

TEST(TamingCheckpoints, FolderLoaderFindsConfigAndWeights) {
    SYN_REQUIRE_SHARED();
    auto model = load_taming(taming_dir());
    EXPECT_EQ(model.config.transformer.vocab_size, 64);
    EXPECT_EQ(model.config.first_stage.latent_size(), 8);
    EXPECT_EQ(fs::path(model.checkpoint).filename(), "model.safetensors");
}

TEST(TamingCheckpoints, MissingKeyIsAClearError) {
    SYN_REQUIRE_SHARED();
    auto checkpoint = syn::load_checkpoint((fs::path(taming_dir()) / "model.safetensors").string());
    auto config = read_taming_config((fs::path(taming_dir()) / "config.json").string());
    checkpoint.tensors.erase("first_stage_model.encoder.down.1.block.0.nin_shortcut.weight");
    checkpoint.tensors.erase("transformer.blocks.1.mlp.2.bias");
    VQGAN vqgan(config.first_stage);
    try {
        vqgan.load_weights(checkpoint.tensors, "model.safetensors");
        FAIL() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("encoder.down.1.block.0.nin_shortcut.weight"), std::string::npos) << e.what();
    }
    MinGPT gpt(config.transformer);
    try {
        gpt.load_weights(checkpoint.tensors, "model.safetensors");
        FAIL() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("blocks.1.mlp.2.bias"), std::string::npos) << e.what();
    }
}

TEST(TamingCheckpoints, NonCausalMaskIsRefused) {
    SYN_REQUIRE_SHARED();
    auto checkpoint = syn::load_checkpoint((fs::path(taming_dir()) / "model.safetensors").string());
    auto config = read_taming_config((fs::path(taming_dir()) / "config.json").string());
    const std::string key = "transformer.blocks.0.attn.mask";
    auto mask = syn::to_torch(checkpoint.tensors.at(key)).clone();
    mask.index_put_({0, 0, 0, 1}, 1.0f);
    checkpoint.tensors[key] = syn::from_torch(mask);
    MinGPT gpt(config.transformer);
    try {
        gpt.load_weights(checkpoint.tensors, "x.ckpt");
        FAIL() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
}

// --- bad input to the modules ---

TEST(TamingInputs, OutOfRangeIdsAndWrongShapesAreErrors) {
    GPTConfig g;
    g.vocab_size = 16, g.block_size = 8, g.n_layer = 1, g.n_head = 2, g.n_embd = 8;
    MinGPT gpt(g);
    EXPECT_THROW(gpt.forward(at::full({1, 3}, 16, at::kLong)), syn::Error);
    EXPECT_THROW(gpt.forward(at::zeros({1, 9}, at::kLong)), syn::Error);  // beyond block_size
    EXPECT_THROW(gpt.forward(at::zeros({1, 3}, at::kFloat)), syn::Error);
    EXPECT_THROW(gpt.forward_with_prefix(at::zeros({1, 3}, at::kLong), at::zeros({1, 1, 7})), syn::Error);
    auto cache = gpt.make_cache(1, 4);
    EXPECT_THROW(gpt.step(cache, at::zeros({2, 1}, at::kLong)), syn::Error);  // batch mismatch
    gpt.step(cache, at::zeros({1, 1}, at::kLong));
    EXPECT_THROW(gpt.step(cache, at::zeros({1, 1}, at::kLong), at::zeros({1, 1, 8})), syn::Error);  // late prefix

    VQGANConfig v;
    v.embed_dim = 4, v.n_embed = 8, v.z_channels = 4, v.resolution = 8, v.ch = 32, v.ch_mult = {1, 1};
    v.num_res_blocks = 1, v.attn_resolutions = {};
    VQGAN vqgan(v);
    EXPECT_THROW(vqgan.decode_codes(at::full({1, 16}, 8, at::kLong)), syn::Error);  // outside the codebook
    EXPECT_THROW(vqgan.decode_codes(at::zeros({1, 15}, at::kLong)), syn::Error);    // not the grid
    EXPECT_THROW(vqgan.encode(at::zeros({1, 1, 8, 8})), syn::Error);                // channels
    EXPECT_EQ(vqgan.decode_codes(at::zeros({2, 16}, at::kLong)).sizes(), (std::vector<int64_t>{2, 3, 8, 8}));
    v.ch = 48;
    EXPECT_THROW(VQGAN{v}, syn::Error);  // GroupNorm(32) cannot split 48 channels
}

// --- project YAML ---

const char* kProjectYaml = R"(model:
  base_learning_rate: 4.5e-06
  target: taming.models.cond_transformer.Net2NetTransformer
  params:
    transformer_config:
      target: taming.modules.transformer.mingpt.GPT
      params:
        vocab_size: 1024
        block_size: 256
        n_layer: 24
        n_head: 16
        n_embd: 1664
    first_stage_config:
      target: taming.models.vqgan.VQModel
      params:
        embed_dim: 256
        n_embed: 1024
        ddconfig:
          double_z: false
          z_channels: 256
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 128
          ch_mult: [1, 1, 2, 2, 4]
          num_res_blocks: 2
          attn_resolutions: [16]
          dropout: 0.0
        lossconfig:
          target: taming.modules.losses.DummyLoss
    cond_stage_config: __is_unconditional__
)";

TEST(TamingConfigYaml, ReadsTheCelebahqProjectLayout) {
    auto c = parse_taming_config(kProjectYaml, "celebahq-project.yaml");
    EXPECT_EQ(c.transformer.n_layer, 24);
    EXPECT_EQ(c.transformer.n_embd, 1664);
    EXPECT_EQ(c.transformer.block_size, 256);
    EXPECT_EQ(c.first_stage.ch_mult, (std::vector<int64_t>{1, 1, 2, 2, 4}));
    EXPECT_EQ(c.first_stage.attn_resolutions, (std::vector<int64_t>{16}));
    EXPECT_EQ(c.first_stage.latent_size(), 16);
    EXPECT_EQ(c.sos_token, 0);
}

void expect_config_error(const std::string& text, const std::string& needle) {
    try {
        parse_taming_config(text, "bad.yaml");
        FAIL() << "no error for " << needle;
    } catch (const syn::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("bad.yaml"), std::string::npos) << what;
        EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

TEST(TamingConfigYaml, UnknownTargetsAndBadValuesAreClearErrors) {
    const std::string yaml = kProjectYaml;
    expect_config_error(replaced(yaml, "taming.models.vqgan.VQModel", "taming.models.vqgan.GumbelVQ"),
                        "unknown target 'taming.models.vqgan.GumbelVQ'");
    expect_config_error(replaced(yaml, "taming.modules.transformer.mingpt.GPT", "my.GPT"), "unknown target 'my.GPT'");
    expect_config_error(replaced(yaml, "cond_transformer.Net2NetTransformer", "cond_transformer.Other"),
                        "unknown target 'taming.models.cond_transformer.Other'");
    expect_config_error(replaced(yaml, "__is_unconditional__", "{target: taming.modules.misc.coord.CoordStage}"),
                        "CoordStage");
    expect_config_error(replaced(yaml, "n_head: 16", "n_head: 15"), "does not divide");
    expect_config_error(replaced(yaml, "n_embd: 1664", "n_embd: lots"), "expected an integer");
    expect_config_error(replaced(yaml, "        vocab_size: 1024\n", ""), "'vocab_size' is missing");
    expect_config_error("model: [unclosed", "not valid YAML");
    // A scalar or a list where a mapping belongs (found by fuzz_taming_config: yaml-cpp's own
    // BadSubscript escaped, with no file name): the file, the path and what was found.
    expect_config_error(replaced(yaml, "        ddconfig:\n", "        ddconfig: 3\n        old_ddconfig:\n"),
                        "first_stage_config.params.ddconfig: expected a mapping (holding 'double_z'), got '3'");
    expect_config_error(replaced(yaml, "        ddconfig:\n", "        ddconfig: [1, 2]\n        old_ddconfig:\n"),
                        "got a list");
    expect_config_error("other: 1", "'model' is missing");
}

TEST(TamingConfigYaml, LineNumbersPointAtTheProblem) {
    try {
        parse_taming_config(replaced(kProjectYaml, "taming.models.vqgan.VQModel", "x.Y"), "bad.yaml");
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("bad.yaml:14"), std::string::npos) << e.what();
    }
}

// --- prefix mapping ---

TEST(PrefixMappingModule, ShapeDropoutAndErrors) {
    PrefixMapping mapping(6, 8);
    auto x = at::randn({3, 6});
    mapping.module().eval();
    auto a = mapping.forward(x);
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{3, 1, 8}));
    EXPECT_TRUE(at::equal(a, mapping.forward(x)));  // no dropout in eval mode
    mapping.module().train();
    torch::manual_seed(1);
    EXPECT_FALSE(at::equal(a, mapping.forward(x)));  // dropout 0.1 in train mode
    EXPECT_THROW(mapping.forward(at::randn({3, 5})), syn::Error);
    auto state = mapping.state_dict();
    EXPECT_EQ(state.size(), 2u);
    PrefixMapping other(6, 8);
    other.load_weights(state, "mapping.safetensors");
    other.module().eval();
    mapping.module().eval();
    EXPECT_TRUE(at::equal(mapping.forward(x), other.forward(x)));
    state.erase("linear.bias");
    EXPECT_THROW(other.load_weights(state, "mapping.safetensors"), syn::Error);
}

}  // namespace
