// describe_model (core/run/model_description.h): the one description of a model folder, on folders
// the test writes itself (config.json + checkpoints whose tensors it chooses), so the parameter
// count can be held against the element counts written.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/raw_tensor.h"
#include "core/io/safetensors.h"
#include "core/run/catalog.h"
#include "core/run/commands/cli_commands.h"
#include "core/run/model_description.h"
#include "tests/support/error_text.h"
#include "tests/support/torch_save_writer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using syn::run::describe_model;
using syn::run::ModelDescription;

namespace {

struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name) {
        path = fs::temp_directory_path() / ("syn_model_description_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_text(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

syn::RawTensor zeros(std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return syn::make_owned_tensor(syn::DType::F32, std::move(shape), std::vector<uint8_t>(static_cast<size_t>(n) * 4));
}

long long sum_numel(const syn::TensorMap& tensors) {
    long long n = 0;
    for (const auto& [name, t] : tensors) n += t.numel();
    return n;
}

json bert_config() {
    return {{"model_type", "bert"},        {"architectures", {"BertModel"}},
            {"vocab_size", 50},            {"hidden_size", 8},
            {"num_hidden_layers", 3},      {"num_attention_heads", 2},
            {"intermediate_size", 16},     {"max_position_embeddings", 40},
            {"type_vocab_size", 2}};
}

// BERT-layout tensors (names as the hub's BertModel checkpoints; shapes need not be complete here:
// describe_model reads headers, it does not load).
syn::TensorMap bert_tensors() {
    return {{"embeddings.word_embeddings.weight", zeros({50, 8})},
            {"embeddings.position_embeddings.weight", zeros({40, 8})},
            {"embeddings.token_type_embeddings.weight", zeros({2, 8})},
            {"encoder.layer.0.attention.self.query.weight", zeros({8, 8})},
            {"encoder.layer.0.attention.self.query.bias", zeros({8})},
            {"encoder.layer.0.intermediate.dense.weight", zeros({16, 8})},
            {"pooler.dense.weight", zeros({8, 8})},
            {"pooler.dense.bias", zeros({8})}};
}

}  // namespace

TEST(ModelDescription, BertFolder) {
    TempDir dir("bert");
    write_text(dir.path / "config.json", bert_config().dump());
    const syn::TensorMap tensors = bert_tensors();
    syn::write_safetensors((dir.path / "model.safetensors").string(), tensors);
    const ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(d.model_type, "bert");
    EXPECT_EQ(d.family, "bert");
    EXPECT_EQ(d.style, "bert");
    EXPECT_EQ(d.hidden_size, 8);
    EXPECT_EQ(d.layers, 3);
    EXPECT_EQ(d.max_positions, 40);
    EXPECT_FALSE(d.sentence_transformers);
    EXPECT_EQ(d.params, sum_numel(tensors));
    EXPECT_EQ(d.params, 50 * 8 + 40 * 8 + 2 * 8 + 64 + 8 + 128 + 64 + 8);
    EXPECT_EQ(fs::path(d.weights_file).filename(), "model.safetensors");
}

TEST(ModelDescription, RobertaIsBertStyle) {
    TempDir dir("roberta");
    json c = bert_config();
    c["model_type"] = "roberta";
    c["max_position_embeddings"] = 42;
    c["pad_token_id"] = 1;
    write_text(dir.path / "config.json", c.dump());
    syn::write_safetensors((dir.path / "model.safetensors").string(), bert_tensors());
    const ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(d.family, "roberta");
    EXPECT_EQ(d.style, "bert");
}

TEST(ModelDescription, ClipFolderCountsTheTextTowerOnly) {
    TempDir dir("clip");
    const json config = {{"model_type", "clip"},
                         {"projection_dim", 6},
                         {"text_config",
                          {{"vocab_size", 60}, {"hidden_size", 12}, {"num_hidden_layers", 2},
                           {"num_attention_heads", 2}, {"intermediate_size", 24}, {"max_position_embeddings", 77}}},
                         {"vision_config",
                          {{"hidden_size", 16}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                           {"intermediate_size", 32}, {"image_size", 32}, {"patch_size", 16}}}};
    write_text(dir.path / "config.json", config.dump());
    const syn::TensorMap text = {{"text_model.embeddings.token_embedding.weight", zeros({60, 12})},
                                 {"text_model.embeddings.position_embedding.weight", zeros({77, 12})},
                                 {"text_model.final_layer_norm.weight", zeros({12})},
                                 {"text_projection.weight", zeros({6, 12})}};
    syn::TensorMap all = text;
    all.emplace("vision_model.embeddings.patch_embedding.weight", zeros({16, 3, 16, 16}));
    all.emplace("visual_projection.weight", zeros({6, 16}));
    all.emplace("logit_scale", zeros({}));
    syn::write_safetensors((dir.path / "model.safetensors").string(), all);
    const ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(d.family, "clip");
    EXPECT_EQ(d.style, "clip");
    EXPECT_EQ(d.hidden_size, 12);
    EXPECT_EQ(d.layers, 2);
    EXPECT_EQ(d.max_positions, 77);
    EXPECT_EQ(d.params, sum_numel(text));
    EXPECT_LT(d.params, sum_numel(all));
}

TEST(ModelDescription, ShardedIndexAndPytorchBinAreCounted) {
    TempDir dir("sharded");
    write_text(dir.path / "config.json", bert_config().dump());
    const syn::TensorMap tensors = bert_tensors();
    syn::TensorMap a, b;
    json weight_map = json::object();
    int i = 0;
    for (const auto& [name, t] : tensors) {
        const std::string shard = (i++ % 2) ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
        ((i % 2) ? a : b).emplace(name, t);
        weight_map[name] = shard;
    }
    syn::write_safetensors((dir.path / "model-00001-of-00002.safetensors").string(), a);
    syn::write_safetensors((dir.path / "model-00002-of-00002.safetensors").string(), b);
    write_text(dir.path / "model.safetensors.index.json", json({{"metadata", json::object()}, {"weight_map", weight_map}}).dump());
    ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(fs::path(d.weights_file).filename(), "model.safetensors.index.json");
    EXPECT_EQ(d.params, sum_numel(tensors));

    TempDir bin("bin");
    write_text(bin.path / "config.json", bert_config().dump());
    syn::test::write_torch_state_dict((bin.path / "pytorch_model.bin").string(), tensors);
    d = describe_model(bin.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(fs::path(d.weights_file).filename(), "pytorch_model.bin");
    EXPECT_EQ(d.params, sum_numel(tensors));
}

TEST(ModelDescription, SentenceTransformersFolder) {
    TempDir dir("st");
    write_text(dir.path / "config.json", bert_config().dump());
    const syn::TensorMap tensors = bert_tensors();
    syn::write_safetensors((dir.path / "model.safetensors").string(), tensors);
    write_text(dir.path / "modules.json",
               json::array({{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
                            {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}},
                            {{"idx", 2}, {"name", "2"}, {"path", "2_Normalize"}, {"type", "sentence_transformers.models.Normalize"}}})
                   .dump());
    write_text(dir.path / "sentence_bert_config.json", json({{"max_seq_length", 32}, {"do_lower_case", false}}).dump());
    write_text(dir.path / "1_Pooling" / "config.json",
               json({{"word_embedding_dimension", 8}, {"pooling_mode_mean_tokens", true}}).dump());
    const ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_TRUE(d.sentence_transformers);
    EXPECT_EQ(d.family, "bert");
    EXPECT_EQ(d.style, "bert");
    EXPECT_EQ(d.st_pooling, "st:mean+normalize");
    EXPECT_NE(d.st_details.find("max_seq_length 32"), std::string::npos) << d.st_details;
    EXPECT_EQ(d.params, sum_numel(tensors));

    // `synesthesia models <folder>` lists it from the same description.
    std::string arg0 = "synesthesia", arg1 = "models", arg2 = dir.path.string();
    char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
    testing::internal::CaptureStdout();
    const int rc = syn::run::cli_main(3, argv);
    std::fflush(stdout);
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find("sentence-transformers (bert)"), std::string::npos) << out;
    EXPECT_NE(out.find("st:mean+normalize"), std::string::npos) << out;
}

TEST(ModelDescription, BadConfigNamesTheFileAndKey) {
    TempDir dir("bad");
    json c = bert_config();
    c["hidden_size"] = -5;
    write_text(dir.path / "config.json", c.dump());
    syn::write_safetensors((dir.path / "model.safetensors").string(), bert_tensors());
    const ModelDescription d = describe_model(dir.path.string());
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error.find("config.json"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("'hidden_size'"), std::string::npos) << d.error;
    EXPECT_EQ(syn::test::error_of([&] { d.throw_if_error(); }), d.error);

    // A key of the wrong type, an unknown family, JSON that is not JSON.
    c = bert_config();
    c["num_hidden_layers"] = "three";
    write_text(dir.path / "config.json", c.dump());
    std::string e = describe_model(dir.path.string()).error;
    EXPECT_NE(e.find("'num_hidden_layers'"), std::string::npos) << e;
    c = bert_config();
    c["model_type"] = "gpt2";
    write_text(dir.path / "config.json", c.dump());
    e = describe_model(dir.path.string()).error;
    EXPECT_NE(e.find("model_type 'gpt2'"), std::string::npos) << e;
    write_text(dir.path / "config.json", "{not json");
    e = describe_model(dir.path.string()).error;
    EXPECT_NE(e.find("config.json"), std::string::npos) << e;
}

TEST(ModelDescription, NotAModelFolder) {
    TempDir dir("none");
    EXPECT_NE(describe_model((dir.path / "missing").string()).error.find("does not exist"), std::string::npos);
    write_text(dir.path / "file.txt", "x");
    EXPECT_NE(describe_model((dir.path / "file.txt").string()).error.find("is not a folder"), std::string::npos);
    EXPECT_NE(describe_model(dir.path.string()).error.find("no config.json"), std::string::npos);
    // config.json and no weights: described, size unknown.
    write_text(dir.path / "config.json", bert_config().dump());
    ModelDescription d = describe_model(dir.path.string());
    ASSERT_TRUE(d.ok()) << d.error;
    EXPECT_EQ(d.weights_file, "");
    EXPECT_EQ(d.params, 0);
    // Corrupt weights: the reader's message, naming the file.
    write_text(dir.path / "model.safetensors", "this is not a safetensors file at all");
    d = describe_model(dir.path.string());
    EXPECT_FALSE(d.ok());
    EXPECT_NE(d.error.find("model.safetensors"), std::string::npos) << d.error;
}

TEST(ModelDescription, StylesAndCatalog) {
    using syn::run::group_of_style;
    using syn::run::style_of_family;
    EXPECT_EQ(style_of_family("bert"), "bert");
    EXPECT_EQ(style_of_family("roberta"), "bert");
    EXPECT_EQ(style_of_family("clip"), "clip");
    EXPECT_EQ(style_of_family("siglip"), "clip");
    EXPECT_EQ(style_of_family("lexical"), "lexical");
    EXPECT_EQ(style_of_family("t5"), "other");
    EXPECT_EQ(group_of_style("bert"), "BERT-style");
    EXPECT_EQ(group_of_style("clip"), "CLIP-style");
    EXPECT_EQ(group_of_style("other"), "Other");

    // The catalog answers for its own ids, describe_model for other folders.
    const auto listed = syn::run::catalog_entry_or_folder("roberta-large", "");
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->style, "bert");
    EXPECT_FALSE(syn::run::catalog_entry_or_folder("someone/unlisted", "").has_value());
    TempDir dir("catalog");
    write_text(dir.path / "config.json", bert_config().dump());
    syn::write_safetensors((dir.path / "model.safetensors").string(), bert_tensors());
    const auto described = syn::run::catalog_entry_or_folder(dir.path.string(), dir.path.string());
    ASSERT_TRUE(described.has_value());
    EXPECT_EQ(described->family, "bert");
    EXPECT_EQ(described->style, "bert");
    EXPECT_EQ(described->params, sum_numel(bert_tensors()));
    write_text(dir.path / "config.json", R"({"model_type": "bert", "hidden_size": 0})");
    const std::string e = syn::test::error_of([&] { syn::run::catalog_entry_or_folder(dir.path.string(), dir.path.string()); });
    EXPECT_NE(e.find("'hidden_size'"), std::string::npos) << e;
}
