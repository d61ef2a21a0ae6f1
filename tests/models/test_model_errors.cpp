// Bad input to the encoders: every failure is a syn::Error whose message names the file / key and
// the problem. Broken model folders are built in a temporary directory from the fixtures.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sys/resource.h>
#include <tuple>
#include <unistd.h>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/safetensors.h"
#include "core/io/torch/tensor_bridge.h"
#include "models/bert.h"
#include "models/pooling.h"
#include "models/registry.h"
#include "models/t5_encoder.h"
#include "models/taming_config.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::models;

namespace {

std::string fixture(const std::string& name) { return (fs::path(syn::test::fixtures_dir()) / "models" / name).string(); }

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// Runs `f`, expects a syn::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        FAIL() << "expected a syn::Error";
    } catch (const syn::Error& e) {
        const std::string message = e.what();
        for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
}

class BrokenFolder : public ::testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() / ("syn-models-test-" + std::to_string(rd()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string path(const std::string& file) const { return (dir_ / file).string(); }
    void write_config(const nlohmann::json& config) const {
        std::ofstream(path("config.json")) << config.dump(2);
    }
    // The weights of fixture `name`, changed by `edit`, written as this folder's model.safetensors.
    void write_weights(const std::string& name, const std::function<void(syn::TensorMap&)>& edit) const {
        syn::TensorMap tensors = syn::read_safetensors((fs::path(fixture(name)) / "model.safetensors").string()).tensors;
        edit(tensors);
        syn::write_safetensors(path("model.safetensors"), tensors);
    }
    fs::path dir_;
};

TEST_F(BrokenFolder, UnsupportedActivationNamesFileAndKey) {
    SYN_REQUIRE_SHARED();
    auto config = read_json(fixture("tiny-bert") + "/config.json");
    config["hidden_act"] = "gelu_fancy";
    write_config(config);
    write_weights("tiny-bert", [](syn::TensorMap&) {});
    expect_error([&] { load_text_encoder(dir_.string()); }, {"config.json", "hidden_act", "gelu_fancy", "supported"});
}

TEST_F(BrokenFolder, UnsupportedT5FeedForwardNamesKey) {
    SYN_REQUIRE_SHARED();
    auto config = read_json(fixture("tiny-t5-encoder") + "/config.json");
    config["feed_forward_proj"] = "gated-mish";
    write_config(config);
    expect_error([&] { load_text_encoder(dir_.string()); }, {"config.json", "feed_forward_proj", "gated-mish"});
}

TEST_F(BrokenFolder, UnknownFamilyNamesModelType) {
    write_config({{"model_type", "gpt2"}, {"architectures", {"GPT2LMHeadModel"}}});
    expect_error([&] { load_text_encoder(dir_.string()); }, {"config.json", "model_type 'gpt2'", "not a supported"});
}

TEST_F(BrokenFolder, MissingKeyIsListed) {
    SYN_REQUIRE_SHARED();
    write_config(read_json(fixture("tiny-bert") + "/config.json"));
    write_weights("tiny-bert", [](syn::TensorMap& t) { t.erase("encoder.layer.1.output.dense.weight"); });
    expect_error([&] { load_text_encoder(dir_.string()); },
                 {"model.safetensors", "missing", "encoder.layer.1.output.dense.weight"});
}

TEST_F(BrokenFolder, MisShapedKeyIsListedWithShapes) {
    SYN_REQUIRE_SHARED();
    write_config(read_json(fixture("tiny-clip") + "/config.json"));
    write_weights("tiny-clip", [](syn::TensorMap& t) {
        t["text_model.encoder.layers.0.self_attn.q_proj.weight"] = syn::from_torch(torch::zeros({32, 31}));
    });
    expect_error([&] { load_text_encoder(dir_.string()); },
                 {"mis-shaped", "text_model.encoder.layers.0.self_attn.q_proj.weight", "[32, 31]", "[32, 32]"});
}

TEST_F(BrokenFolder, WrongFamilyNamesTheMissingTensor) {
    SYN_REQUIRE_SHARED();
    // A CLIP checkpoint whose config.json says bert: refused before a BERT module is built.
    write_config(read_json(fixture("tiny-bert") + "/config.json"));
    write_weights("tiny-clip", [](syn::TensorMap&) {});
    expect_error([&] { load_text_encoder(dir_.string()); },
                 {"model.safetensors", "no tensor 'embeddings.word_embeddings.weight'", "config.json", "does not hold"});
}

// --- config values are validated and held against the checkpoint before anything is allocated ----

// Runs `f` in a child process whose address space may grow by at most `extra_mb` over what it has
// now (as `ulimit -v` would), and expects a syn::Error containing every one of `parts` there.
[[noreturn]] void run_in_bounded_memory(const std::function<void()>& f, const std::vector<std::string>& parts,
                                       long extra_mb) {
    std::ifstream statm("/proc/self/statm");
    long pages = 0;
    statm >> pages;
    const rlim_t limit = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + (static_cast<rlim_t>(extra_mb) << 20);
    rlimit r{limit, limit};
    ::setrlimit(RLIMIT_AS, &r);
    try {
        f();
        std::fprintf(stderr, "no error\n");
        std::_Exit(1);
    } catch (const syn::Error& e) {
        const std::string message = e.what();
        for (const auto& part : parts)
            if (message.find(part) == std::string::npos) {
                std::fprintf(stderr, "'%s' not in: %s\n", part.c_str(), message.c_str());
                std::_Exit(2);
            }
        std::_Exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "not a syn::Error: %s\n", e.what());
        std::_Exit(3);
    }
}

void expect_error_in_bounded_memory(const std::function<void()>& f, const std::vector<std::string>& parts,
                                    long extra_mb = 512) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(run_in_bounded_memory(f, parts, extra_mb), ::testing::ExitedWithCode(0), "");
}

TEST_F(BrokenFolder, BillionLayersFailByKeyInBoundedMemory) {
    SYN_REQUIRE_SHARED();
    auto config = read_json(fixture("tiny-bert") + "/config.json");
    config["num_hidden_layers"] = 1000000000;
    write_config(config);
    write_weights("tiny-bert", [](syn::TensorMap&) {});
    expect_error_in_bounded_memory([&] { load_text_encoder(dir_.string()); },
                                   {"config.json", "num_hidden_layers", "1000000000", "model.safetensors", "2 entries"});
}

TEST_F(BrokenFolder, UncheckableClipProjectionIsBounded) {
    SYN_REQUIRE_SHARED();
    // CLIPTextModel (no text_projection in the checkpoint) with a hostile projection_dim: the unused
    // layer would take 32 x 2^31 floats.
    auto config = read_json(fixture("tiny-clip") + "/config.json");
    config["projection_dim"] = 2147483647;
    write_config(config);
    write_weights("tiny-clip", [](syn::TensorMap& t) { t.erase("text_projection.weight"); });
    expect_error_in_bounded_memory([&] { load_text_encoder(dir_.string()); },
                                   {"config.json", "projection_dim", "2147483647", "text_projection.weight"});
}

TEST_F(BrokenFolder, HostileSizesNameTheKey) {
    SYN_REQUIRE_SHARED();
    const auto base = read_json(fixture("tiny-bert") + "/config.json");
    write_weights("tiny-bert", [](syn::TensorMap&) {});
    for (const auto& [key, value] : std::vector<std::pair<std::string, int64_t>>{
             {"hidden_size", 1000000000000}, {"vocab_size", -5}, {"max_position_embeddings", 0},
             {"intermediate_size", int64_t(1) << 40}, {"num_attention_heads", -4}}) {
        SCOPED_TRACE(key);
        auto config = base;
        config[key] = value;
        write_config(config);
        expect_error_in_bounded_memory([&] { load_text_encoder(dir_.string()); },
                                       {"config.json", "key '" + key + "'", std::to_string(value)});
    }
}

TEST_F(BrokenFolder, AbsentSizeIsNotSilentlyDefaulted) {
    SYN_REQUIRE_SHARED();
    auto config = read_json(fixture("tiny-bert") + "/config.json");
    config.erase("hidden_size");  // BertConfig's default is 768; the checkpoint's width is 32
    write_config(config);
    write_weights("tiny-bert", [](syn::TensorMap&) {});
    expect_error([&] { load_text_encoder(dir_.string()); },
                 {"config.json", "key 'hidden_size' is absent, default 768", "embeddings.word_embeddings.weight", "[30522, 32]"});
}

TEST_F(BrokenFolder, EveryFamilysSizesAreHeldAgainstTheCheckpoint) {
    SYN_REQUIRE_SHARED();
    struct Case {
        std::string fixture;
        std::function<void(nlohmann::json&)> edit;
        std::vector<std::string> parts;
    };
    const std::vector<Case> cases = {
        {"tiny-bert", [](nlohmann::json& c) { c["num_hidden_layers"] = 1; }, {"num_hidden_layers' = 1", "2 entries encoder.layer.N"}},
        {"tiny-bert", [](nlohmann::json& c) { c["intermediate_size"] = 64; }, {"intermediate_size' = 64", "intermediate.dense.weight"}},
        {"tiny-roberta", [](nlohmann::json& c) { c["vocab_size"] = 77; }, {"vocab_size' = 77", "word_embeddings"}},
        {"tiny-clip", [](nlohmann::json& c) { c["text_config"]["max_position_embeddings"] = 4096; },
         {"config.json:text_config", "max_position_embeddings' = 4096", "position_embedding.weight"}},
        {"tiny-clip", [](nlohmann::json& c) { c["projection_dim"] = 1000; }, {"projection_dim' = 1000", "text_projection.weight"}},
        {"tiny-t5-encoder", [](nlohmann::json& c) { c["d_kv"] = 1024; }, {"num_heads*d_kv", "SelfAttention.q.weight"}},
        {"tiny-t5-encoder", [](nlohmann::json& c) { c["num_layers"] = 100000; }, {"num_layers' = 100000", "encoder.block.N"}},
        {"tiny-t5-encoder", [](nlohmann::json& c) { c["relative_attention_num_buckets"] = 1 << 30; },
         {"relative_attention_num_buckets"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.fixture + ": " + c.parts.front());
        auto config = read_json(fixture(c.fixture) + "/config.json");
        c.edit(config);
        write_config(config);
        write_weights(c.fixture, [](syn::TensorMap&) {});
        std::vector<std::string> parts = c.parts;
        parts.push_back("config.json");
        expect_error_in_bounded_memory([&] { load_text_encoder(dir_.string()); }, parts);
    }
}

TEST_F(BrokenFolder, ClipVisionSizesAreHeldAgainstTheCheckpoint) {
    SYN_REQUIRE_SHARED();
    auto config = read_json(fixture("tiny-clip") + "/config.json");
    config["vision_config"]["image_size"] = 30000 * int64_t(config["vision_config"]["patch_size"]);
    write_config(config);
    write_weights("tiny-clip", [](syn::TensorMap&) {});
    expect_error_in_bounded_memory([&] { load_clip_vision(dir_.string()); },
                                   {"config.json:vision_config", "(image_size/patch_size)^2+1", "position_embedding.weight"});
}

TEST_F(BrokenFolder, TamingSizesAreHeldAgainstTheCheckpoint) {
    SYN_REQUIRE_SHARED();
    const std::string weights = (fs::path(fixture("tiny-taming")) / "model.safetensors").string();
    for (const auto& [key, value, part] : std::vector<std::tuple<std::string, int64_t, std::string>>{
             {"n_layer", 1000000000, "transformer_config.params.n_layer"},
             {"n_embd", int64_t(1) << 40, "sizes must be at most"},
             {"block_size", 1 << 30, "transformer_config.params.block_size"}}) {
        SCOPED_TRACE(key);
        auto config = read_json(fixture("tiny-taming") + "/config.json");
        config["model"]["params"]["transformer_config"]["params"][key] = value;
        write_config(config);
        expect_error_in_bounded_memory([&] { load_taming_files(path("config.json"), weights); },
                                       {"config.json", part});
    }
}

TEST_F(BrokenFolder, PoolerRefusedWithoutTrainedPooler) {
    SYN_REQUIRE_SHARED();
    // roberta-base ships no pooler: the encoder loads, but pooling 'pooler' is refused.
    write_config(read_json(fixture("tiny-roberta") + "/config.json"));
    write_weights("tiny-roberta", [](syn::TensorMap& t) {
        t.erase("pooler.dense.weight");
        t.erase("pooler.dense.bias");
    });
    auto encoder = load_text_encoder(dir_.string());
    EXPECT_FALSE(encoder->has_trained_pooler());
    auto ids = torch::tensor({{0, 250, 2}}, torch::kLong);
    auto mask = torch::ones_like(ids);
    const EncoderOutput out = encoder->forward(ids, mask);
    EXPECT_FALSE(out.pooler_output.defined());
    expect_error([&] { pool(*encoder, out, mask, {Pooling::pooler, false}); }, {"pooler", "no trained pooler", "model.safetensors"});
    EXPECT_EQ(pool(*encoder, out, mask, {Pooling::cls, true}).sizes(), (std::vector<int64_t>{1, 32}));

    // The study's behaviour, made reproducible: tanh(W h_cls) with a seeded N(0, 0.02^2) W.
    // Checked against the formula computed here in double precision.
    const at::Tensor random0 = pool(*encoder, out, mask, parse_pooling_choice("random_pooler@0"));
    const at::Tensor w = random_pooler_weight(32, 0).to(torch::kDouble);
    const at::Tensor expected = at::tanh(at::matmul(out.last_hidden_state.select(1, 0).to(torch::kDouble), w.t()));
    EXPECT_LT((random0.to(torch::kDouble) - expected).abs().max().item<double>(), 1e-5);
    EXPECT_TRUE(at::equal(random0, pool(*encoder, out, mask, parse_pooling_choice("random_pooler"))));  // seed 0
    EXPECT_FALSE(at::allclose(random0, pool(*encoder, out, mask, parse_pooling_choice("random_pooler@1"))));

    // The full fixture has one: accepted.
    auto trained = load_text_encoder(fixture("tiny-roberta"));
    EXPECT_TRUE(trained->has_trained_pooler());
    EXPECT_NO_THROW(check_pooling(*trained, Pooling::pooler));
}

TEST_F(BrokenFolder, HalfAPoolerIsAnError) {
    SYN_REQUIRE_SHARED();
    write_config(read_json(fixture("tiny-bert") + "/config.json"));
    write_weights("tiny-bert", [](syn::TensorMap& t) { t.erase("pooler.dense.bias"); });
    expect_error([&] { load_text_encoder(dir_.string()); }, {"pooler.dense.weight"});
}

TEST_F(BrokenFolder, ClipTextWithoutProjectionRefusesProjected) {
    SYN_REQUIRE_SHARED();
    write_config(read_json(fixture("tiny-clip") + "/config.json"));
    write_weights("tiny-clip", [](syn::TensorMap& t) { t.erase("text_projection.weight"); });
    auto encoder = load_text_encoder(dir_.string());
    EXPECT_FALSE(encoder->has_projection());
    expect_error([&] { check_pooling(*encoder, Pooling::projected); }, {"projected", "text_projection.weight"});
    expect_error([&] { check_pooling(*encoder, Pooling::cls); }, {"'cls'", "not available", "clip"});
}

TEST(EncoderInput, LengthVocabularyAndShapeAreChecked) {
    SYN_REQUIRE_SHARED();
    auto bert = load_text_encoder(fixture("tiny-bert"));
    auto too_long = torch::ones({1, 513}, torch::kLong);
    expect_error([&] { bert->forward(too_long, torch::ones_like(too_long)); }, {"513 tokens", "512", "max_position_embeddings"});
    auto bad_id = torch::tensor({{101, 30522, 102}}, torch::kLong);
    expect_error([&] { bert->forward(bad_id, torch::ones_like(bad_id)); }, {"30522", "vocabulary"});
    auto ids = torch::tensor({{101, 102}}, torch::kLong);
    expect_error([&] { bert->forward(ids, torch::ones({1, 3}, torch::kLong)); }, {"attention_mask"});
    expect_error([&] { bert->forward(ids.to(torch::kFloat), torch::ones_like(ids)); }, {"input_ids must be integer"});

    // RoBERTa positions start at pad + 1: 514 positions hold 512 tokens.
    auto roberta = load_text_encoder(fixture("tiny-roberta"));
    EXPECT_EQ(roberta->max_tokens(), 512);
    auto long_ok = torch::full({1, 512}, 5, torch::kLong);
    EXPECT_NO_THROW(roberta->forward(long_ok, torch::ones_like(long_ok)));
}

TEST(EncoderInput, UnknownPoolingNameListsChoices) {
    expect_error([] { parse_pooling("max"); }, {"'max'", "cls", "mean", "projected"});
    EXPECT_EQ(parse_pooling_choice("projected+l2").kind, Pooling::projected);
    EXPECT_TRUE(parse_pooling_choice("mean+l2").l2_normalize);
    EXPECT_EQ(parse_pooling_choice("cls").describe(), "cls");
    // A random pooler always records its seed; only it takes one.
    EXPECT_EQ(parse_pooling_choice("random_pooler").describe(), "random_pooler@0");
    EXPECT_EQ(parse_pooling_choice("random_pooler@42+l2").describe(), "random_pooler@42+l2");
    EXPECT_EQ(parse_pooling_choice("random_pooler@42+l2").seed, 42u);
    expect_error([] { parse_pooling_choice("mean@3"); }, {"mean@3", "only random_pooler"});
    expect_error([] { parse_pooling_choice("random_pooler@x"); }, {"decimal integer"});
    expect_error([] { parse_pooling_choice("random_pooler@"); }, {"decimal integer"});
}

// The random pooler's weight: a fixed generator, so the same matrix everywhere; statistics of
// N(0, 0.02^2) within sampling error (n = 1024^2: the sd of the mean is 2e-5).
TEST(RandomPooler, WeightIsReproducibleAndNormal) {
    const at::Tensor a = random_pooler_weight(1024, 7);
    EXPECT_TRUE(at::equal(a, random_pooler_weight(1024, 7)));
    EXPECT_FALSE(at::equal(a, random_pooler_weight(1024, 8)));
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{1024, 1024}));
    EXPECT_NEAR(a.mean().item<double>(), 0.0, 1e-4);
    EXPECT_NEAR(a.std().item<double>(), 0.02, 1e-4);
    // Tails of a normal: P(|z| > 3) = 0.0027.
    const double tail = (a.abs() > 0.06).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(tail, 0.0027, 0.0003);
    // Pinned values from an independent implementation (Python, the SplitMix64 reference constants
    // and Box-Muller): the generator may not change silently, it would change published rows.
    const at::Tensor w2 = random_pooler_weight(2, 0);
    EXPECT_FLOAT_EQ(w2[0][0].item<float>(), -0.009055154804349161f);
    EXPECT_FLOAT_EQ(w2[0][1].item<float>(), 0.004155320778683834f);
    EXPECT_FLOAT_EQ(w2[1][0].item<float>(), 0.05301211624159338f);
    EXPECT_FLOAT_EQ(w2[1][1].item<float>(), -0.009808456507972954f);
    expect_error([] { random_pooler_weight(0, 1); }, {"hidden size"});
}

// The device/dtype path on the CPU: bf16 weights give bf16 states close to fp32, pooled vectors are
// float32, and an integer dtype is refused.
TEST(EncoderDevice, Bfloat16OnCpuTracksFloat32) {
    SYN_REQUIRE_SHARED();
    auto fp32 = load_text_encoder(fixture("tiny-bert"));
    auto bf16 = load_text_encoder(fixture("tiny-bert"), torch::kCPU, torch::kBFloat16);
    EXPECT_EQ(bf16->dtype(), torch::kBFloat16);
    auto ids = torch::tensor({{101, 1037, 2158, 102}}, torch::kLong);
    auto mask = torch::ones_like(ids);
    const auto a = fp32->forward(ids, mask);
    const auto b = bf16->forward(ids, mask);
    EXPECT_EQ(b.last_hidden_state.scalar_type(), torch::kBFloat16);
    const double diff = (a.last_hidden_state - b.last_hidden_state.to(torch::kFloat)).abs().max().item<double>();
    EXPECT_LT(diff, 0.15) << "bf16 drifted from fp32 by " << diff;
    EXPECT_GT(diff, 0.0) << "bf16 weights should round somewhere";
    EXPECT_EQ(pool(*bf16, b, mask, {Pooling::mean, false}).scalar_type(), torch::kFloat);
    expect_error([&] { fp32->to(torch::kCPU, torch::kLong); }, {"floating"});
}

TEST(T5Buckets, MatchTransformersFormula) {
    // Hand-computed from T5Attention._relative_position_bucket (bidirectional, 32 buckets, 128):
    // keys before the query use buckets 0..15, after it 16..31; exact up to distance 7.
    const auto b = t5_relative_position_buckets(1, 200, true, 32, 128)[0];
    EXPECT_EQ(b[0].item<int64_t>(), 0);
    EXPECT_EQ(b[1].item<int64_t>(), 17);
    EXPECT_EQ(b[7].item<int64_t>(), 23);
    EXPECT_EQ(b[8].item<int64_t>(), 24);    // 8 + int(log(8/8)/log(16)*8) = 8 -> +16
    EXPECT_EQ(b[16].item<int64_t>(), 26);   // 8 + int(log(2)/log(16)*8) = 10
    EXPECT_EQ(b[127].item<int64_t>(), 31);  // 8 + int(log(127/8)/log(16)*8) = 15
    EXPECT_EQ(b[199].item<int64_t>(), 31);  // clamped
    const auto back = t5_relative_position_buckets(200, 1, true, 32, 128).select(1, 0);
    EXPECT_EQ(back[5].item<int64_t>(), 5);
    EXPECT_EQ(back[199].item<int64_t>(), 15);
}

TEST(Registry, FamiliesFromModelTypeAndArchitectures) {
    using nlohmann::json;
    EXPECT_EQ(detect_family(syn::HfConfig(json{{"model_type", "bert"}}, "c.json")), Family::bert);
    EXPECT_EQ(detect_family(syn::HfConfig(json{{"model_type", "roberta"}}, "c.json")), Family::roberta);
    EXPECT_EQ(detect_family(syn::HfConfig(json{{"model_type", "clip"}}, "c.json")), Family::clip_text);
    EXPECT_EQ(detect_family(syn::HfConfig(json{{"model_type", "siglip"}}, "c.json")), Family::siglip_text);
    EXPECT_EQ(detect_family(syn::HfConfig(json{{"architectures", {"T5EncoderModel"}}}, "c.json")), Family::t5);
    expect_error([] { detect_family(syn::HfConfig(json{{"architectures", {"LlamaForCausalLM"}}}, "c.json")); },
                 {"c.json", "cannot tell"});
    // Random-weight modules of real shapes build from a config alone (the benchmark's path).
    auto bert = build_text_encoder(syn::HfConfig(json{{"model_type", "bert"}, {"num_hidden_layers", 1}}, "c.json"));
    EXPECT_EQ(bert->hidden_size(), 768);
    EXPECT_FALSE(bert->has_trained_pooler());
}

// The fixtures hold no SigLIP weights (see the parity suite), so at least the module tree must
// carry SigLIP's checkpoint names, and pooling must read the last position through the head.
TEST(Registry, SiglipTextModuleNamesAndLastTokenHead) {
    using nlohmann::json;
    auto siglip = build_text_encoder(syn::HfConfig(
        json{{"model_type", "siglip"},
             {"text_config", {{"vocab_size", 50}, {"hidden_size", 16}, {"intermediate_size", 20}, {"num_hidden_layers", 1},
                              {"num_attention_heads", 2}, {"max_position_embeddings", 8}, {"projection_size", 12}}}},
        "siglip/config.json"));
    std::vector<std::string> names;
    for (const auto& p : siglip->module().named_parameters()) names.push_back(p.key());
    for (const char* expected :
         {"text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight",
          "text_model.encoder.layers.0.layer_norm1.weight", "text_model.encoder.layers.0.self_attn.q_proj.weight",
          "text_model.encoder.layers.0.self_attn.out_proj.bias", "text_model.encoder.layers.0.mlp.fc2.weight",
          "text_model.final_layer_norm.bias", "text_model.head.weight", "text_model.head.bias"})
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    EXPECT_EQ(siglip->required_length(), 8);
    auto ids = torch::randint(0, 50, {2, 8}, torch::kLong);
    const auto out = siglip->forward(ids, torch::ones_like(ids));
    EXPECT_EQ(out.pooler_output.sizes(), (std::vector<int64_t>{2, 12}));
    // Changing only the first token changes the last position's state (no causal mask).
    auto ids2 = ids.clone();
    ids2.index_put_({torch::indexing::Slice(), 0}, (ids.select(1, 0) + 1) % 50);
    const auto out2 = siglip->forward(ids2, torch::ones_like(ids2));
    EXPECT_GT((out.pooler_output - out2.pooler_output).abs().max().item<double>(), 0.0);
    auto short_ids = torch::zeros({1, 5}, torch::kLong);
    expect_error([&] { siglip->forward(short_ids, torch::ones_like(short_ids)); }, {"padded to exactly 8"});
}

}  // namespace
