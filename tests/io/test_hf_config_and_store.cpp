#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/model_store.h"
#include "tests/support/error_text.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;

using syn::test::error_of;

namespace {

fs::path fresh_dir(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("syn_test_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

}  // namespace

TEST(HfConfig, ReadsFixtureConfigs) {
    SYN_REQUIRE_SHARED();
    auto clip = syn::HfConfig::load(syn::test::fixtures_dir() + "/models/tiny-clip");
    EXPECT_EQ(clip.model_type(), "clip");
    EXPECT_EQ(clip.architectures().at(0), "CLIPModel");
    auto text = clip.sub("text_config");
    EXPECT_EQ(text.get_int("eos_token_id"), 2);
    EXPECT_EQ(text.get_string("hidden_act"), "quick_gelu");
    EXPECT_DOUBLE_EQ(text.get_double("layer_norm_eps"), 1e-5);
    EXPECT_EQ(text.get_int("no_such_key", 7), 7);
}

TEST(HfConfig, ErrorsNameFileAndKey) {
    fs::path d = fresh_dir("cfg");
    write(d / "config.json", R"({"model_type": "bert", "hidden_size": "big"})");
    auto cfg = syn::HfConfig::load(d.string());
    std::string msg = error_of([&] { cfg.get_int("hidden_size"); });
    EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hidden_size"), std::string::npos) << msg;
    msg = error_of([&] { cfg.get_int("num_hidden_layers"); });
    EXPECT_NE(msg.find("num_hidden_layers"), std::string::npos) << msg;

    write(d / "config.json", "{not json");
    msg = error_of([&] { syn::HfConfig::load(d.string()); });
    EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
    msg = error_of([&] { syn::HfConfig::load((d / "absent").string()); });
    EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(ModelStore, ResolvesHubCacheLayout) {
    fs::path cache = fresh_dir("hub");
    fs::path repo = cache / "models--openai--clip-vit-base-patch32";
    const std::string commit = "3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268";
    write(repo / "refs" / "main", commit + "\n");
    write(repo / "snapshots" / commit / "config.json", "{}");

    auto m = syn::resolve_model("openai/clip-vit-base-patch32", "main", cache.string());
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->from_cache);
    EXPECT_EQ(m->revision, commit);
    EXPECT_EQ(fs::path(m->folder), repo / "snapshots" / commit);

    // By commit hash directly, and a repo that is not cached.
    EXPECT_TRUE(syn::resolve_model("openai/clip-vit-base-patch32", commit, cache.string()).has_value());
    EXPECT_FALSE(syn::resolve_model("bert-base-uncased", "main", cache.string()).has_value());

    auto all = syn::list_cached_models(cache.string());
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].id, "openai/clip-vit-base-patch32");
}

TEST(ModelStore, EnvironmentDecidesTheCacheFolder) {
    setenv("HF_HUB_CACHE", "/x/hub-cache", 1);
    EXPECT_EQ(syn::hf_hub_cache_dir(), "/x/hub-cache");
    unsetenv("HF_HUB_CACHE");
    setenv("HF_HOME", "/y/hf", 1);
    EXPECT_EQ(syn::hf_hub_cache_dir(), "/y/hf/hub");
    unsetenv("HF_HOME");
    EXPECT_EQ(syn::hf_cache_repo_folder_name("google/siglip-base-patch16-224"),
              "models--google--siglip-base-patch16-224");
}

TEST(ModelStore, LocalFoldersAndBadPaths) {
    fs::path d = fresh_dir("local_model");
    auto m = syn::resolve_model(d.string());
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->from_cache);
    write(d / "file.txt", "x");
    EXPECT_NE(error_of([&] { syn::resolve_model((d / "file.txt").string()); }).find("not a model folder"),
              std::string::npos);
    EXPECT_NE(error_of([&] { syn::resolve_model("/no/such/folder"); }).find("no such folder"), std::string::npos);
    EXPECT_TRUE(syn::looks_like_hub_id("bert-base-uncased"));
    EXPECT_TRUE(syn::looks_like_hub_id("princeton-nlp/unsup-simcse-bert-base-uncased"));
    EXPECT_FALSE(syn::looks_like_hub_id("../models/x"));
    EXPECT_FALSE(syn::looks_like_hub_id("a/b/c"));
}
