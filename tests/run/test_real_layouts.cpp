// The study's eight encoders as a researcher has them: a fresh Hugging Face cache (blobs, snapshot
// symlinks, refs/main) holding folders laid out like the real hub repos of the eight ids, made here
// from the tiny fixtures:
//   bert-base/large-cased: BertForPreTraining keys ("bert." prefix, legacy LayerNorm.gamma/.beta,
//     cls.predictions.* and cls.seq_relationship.* heads), architectures BertForMaskedLM;
//   roberta-base/large: RobertaForMaskedLM keys ("roberta." prefix, lm_head.*, NO pooler);
//   openai/clip-*: a full CLIPModel with the position_ids buffers older checkpoints carry.
// Half of them as model.safetensors, the others as torch.save zips (pytorch_model.bin).
// Checked: each loads to the fixture's function (its HF goldens), scripts/table2.sh's exact
// command gives Table 2 with every row, and a model that fails costs only its own row.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/commands/cli_commands.h"
#include "core/run/commands/fetch_command.h"
#include "core/run/jobs/sts_job.h"
#include "core/run/reports/sts_report.h"
#include "models/pooling.h"
#include "models/registry.h"
#include "tests/support/shared_paths.h"
#include "tests/support/torch_save_writer.h"

namespace fs = std::filesystem;
using namespace syn;

namespace {

enum class Layout { bert_pretraining, roberta_masked_lm, clip_full };

struct HubRepo {
    std::string id, fixture;
    Layout layout;
    bool torch_bin;  // pytorch_model.bin instead of model.safetensors
};

const std::vector<HubRepo>& study_repos() {
    static const std::vector<HubRepo> repos = {
        {"bert-base-cased", "tiny-bert", Layout::bert_pretraining, false},
        {"bert-large-cased", "tiny-bert", Layout::bert_pretraining, true},
        {"roberta-base", "tiny-roberta", Layout::roberta_masked_lm, false},
        {"roberta-large", "tiny-roberta", Layout::roberta_masked_lm, true},
        {"openai/clip-vit-base-patch32", "tiny-clip", Layout::clip_full, false},
        {"openai/clip-vit-base-patch16", "tiny-clip", Layout::clip_full, true},
        {"openai/clip-vit-large-patch14", "tiny-clip", Layout::clip_full, false},
        {"openai/clip-vit-large-patch14-336", "tiny-clip", Layout::clip_full, false},
    };
    return repos;
}

std::string fixture_dir(const std::string& name) { return syn::test::fixtures_dir() + "/models/" + name; }

nlohmann::json read_json(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A float32 tensor of `shape` with values that vary (the heads are never read, but must load).
RawTensor filler(std::vector<int64_t> shape, float scale = 0.01f) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<uint8_t> bytes(static_cast<size_t>(n) * 4);
    auto* f = reinterpret_cast<float*>(bytes.data());
    for (int64_t i = 0; i < n; ++i) f[i] = scale * static_cast<float>((i * 7919) % 201 - 100) / 100.0f;
    return make_owned_tensor(DType::F32, std::move(shape), std::move(bytes));
}

RawTensor position_ids(int64_t n) {
    std::vector<uint8_t> bytes(static_cast<size_t>(n) * 8);
    auto* p = reinterpret_cast<int64_t*>(bytes.data());
    for (int64_t i = 0; i < n; ++i) p[i] = i;
    return make_owned_tensor(DType::I64, {1, n}, std::move(bytes));
}

// The fixture's BertModel / RobertaModel / CLIPModel tensors under the real repo's key names.
TensorMap real_layout_tensors(const HubRepo& repo, const TensorMap& fixture, const nlohmann::json& config) {
    TensorMap out;
    if (repo.layout == Layout::clip_full) {
        out = fixture;
        const auto& text = config.at("text_config");
        const auto& vision = config.at("vision_config");
        const int64_t patches = vision.at("image_size").get<int64_t>() / vision.at("patch_size").get<int64_t>();
        out["text_model.embeddings.position_ids"] = position_ids(text.at("max_position_embeddings").get<int64_t>());
        out["vision_model.embeddings.position_ids"] = position_ids(patches * patches + 1);
        return out;
    }
    const int64_t h = config.at("hidden_size").get<int64_t>();
    const int64_t v = config.at("vocab_size").get<int64_t>();
    if (repo.layout == Layout::bert_pretraining) {
        for (const auto& [key, t] : fixture) {
            std::string k = "bert." + key;
            if (ends_with(k, "LayerNorm.weight")) k = k.substr(0, k.size() - 6) + "gamma";
            else if (ends_with(k, "LayerNorm.bias")) k = k.substr(0, k.size() - 4) + "beta";
            out[k] = t;
        }
        out["cls.predictions.bias"] = filler({v});
        out["cls.predictions.transform.dense.weight"] = filler({h, h});
        out["cls.predictions.transform.dense.bias"] = filler({h});
        out["cls.predictions.transform.LayerNorm.gamma"] = filler({h}, 1.0f);
        out["cls.predictions.transform.LayerNorm.beta"] = filler({h});
        out["cls.predictions.decoder.weight"] = fixture.at("embeddings.word_embeddings.weight");
        out["cls.seq_relationship.weight"] = filler({2, h});
        out["cls.seq_relationship.bias"] = filler({2});
    } else {
        for (const auto& [key, t] : fixture)
            if (key.rfind("pooler.", 0) != 0) out["roberta." + key] = t;  // roberta-base has no pooler
        out["lm_head.dense.weight"] = filler({h, h});
        out["lm_head.dense.bias"] = filler({h});
        out["lm_head.layer_norm.weight"] = filler({h}, 1.0f);
        out["lm_head.layer_norm.bias"] = filler({h});
        out["lm_head.decoder.weight"] = fixture.at("embeddings.word_embeddings.weight");
        out["lm_head.bias"] = filler({v});
    }
    return out;
}

// Puts `file` into the repo's blobs (named by content hash, as huggingface_hub does) and links it
// from the snapshot.
void add_blob(const fs::path& repo_dir, const fs::path& snapshot, const std::string& name, const fs::path& file) {
    const std::string hash = sha256_file(file.string());
    fs::create_directories(repo_dir / "blobs");
    const fs::path blob = repo_dir / "blobs" / hash;
    if (!fs::exists(blob)) fs::rename(file, blob);
    else fs::remove(file);
    fs::create_symlink(fs::path("../../blobs") / hash, snapshot / name);
}

// models--org--name/{blobs, snapshots/<commit>, refs/main} for one study id.
fs::path write_hub_repo(const fs::path& cache, const HubRepo& repo) {
    std::string folder = "models--" + repo.id;
    for (size_t p; (p = folder.find('/')) != std::string::npos;) folder.replace(p, 1, "--");
    const fs::path repo_dir = cache / folder;
    const std::string commit = sha256_hex(repo.id).substr(0, 40);
    const fs::path snapshot = repo_dir / "snapshots" / commit;
    fs::create_directories(snapshot);
    fs::create_directories(repo_dir / "refs");
    std::ofstream(repo_dir / "refs" / "main") << commit;

    const fs::path src = fixture_dir(repo.fixture);
    nlohmann::json config = read_json(src / "config.json");
    if (repo.layout == Layout::bert_pretraining) config["architectures"] = {"BertForMaskedLM"};
    if (repo.layout == Layout::roberta_masked_lm) config["architectures"] = {"RobertaForMaskedLM"};
    const fs::path tmp = repo_dir / "incoming";
    fs::create_directories(tmp);
    std::ofstream(tmp / "config.json") << config.dump(2);
    add_blob(repo_dir, snapshot, "config.json", tmp / "config.json");
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "preprocessor_config.json"}) {
        if (!fs::exists(src / f)) continue;
        fs::copy_file(src / f, tmp / f);
        add_blob(repo_dir, snapshot, f, tmp / f);
    }
    const SafetensorsFile fixture = read_safetensors((src / "model.safetensors").string());
    const TensorMap tensors = real_layout_tensors(repo, fixture.tensors, config);
    if (repo.torch_bin) {
        syn::test::write_torch_state_dict((tmp / "pytorch_model.bin").string(), tensors);
        add_blob(repo_dir, snapshot, "pytorch_model.bin", tmp / "pytorch_model.bin");
    } else {
        write_safetensors((tmp / "model.safetensors").string(), tensors, {{"format", "pt"}});
        add_blob(repo_dir, snapshot, "model.safetensors", tmp / "model.safetensors");
    }
    fs::remove_all(tmp);
    return snapshot;
}

std::map<std::string, at::Tensor> read_golden(const std::string& fixture) {
    std::map<std::string, at::Tensor> out;
    const auto file = read_safetensors(fixture_dir(fixture) + "/golden.safetensors");
    for (const auto& [key, raw] : file.tensors) out[key] = to_torch(raw).clone();
    return out;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

void set_env(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

// A fresh HF cache with the eight repos, a data folder as `fetch --data cxc,coco-captions` leaves
// it (pointing at ../shared's files), and an empty embedding cache; all through the environment,
// as a user's shell would set them.
class StudyCache : public ::testing::Test {
protected:
    void SetUp() override {
        if (!syn::test::shared_available()) GTEST_SKIP() << "set SYNESTHESIA_SHARED";
        root_ = fs::temp_directory_path() / ("syn_real_layouts_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        hub_ = root_ / "hf" / "hub";
        fs::create_directories(hub_);
        for (const auto& repo : study_repos()) snapshots_[repo.id] = write_hub_repo(hub_, repo);
        data_ = root_ / "data";
        fs::create_directories(data_ / "cxc");
        fs::create_directories(data_ / "coco" / "annotations");
        const fs::path shared = syn::test::shared_dir();
        fs::create_symlink(shared / "data/cxc/sts_val.csv", data_ / "cxc/sts_val.csv");
        fs::create_symlink(shared / "data/cxc/sts_test.csv", data_ / "cxc/sts_test.csv");
        // The Karpathy test captions hold every caption id of sts_test.csv (captions_val2014.json
        // is their superset).
        fs::create_symlink(shared / "data/coco/captions_karpathy_test.json",
                           data_ / "coco/annotations/captions_val2014.json");
        set_env("HF_HOME", (root_ / "hf").string());
        ::unsetenv("HF_HUB_CACHE");
        set_env("HF_HUB_OFFLINE", "1");
        set_env("SYNESTHESIA_DATA", data_.string());
        set_env("SYN_CACHE_DIR", (root_ / "embedding-cache").string());
    }
    void TearDown() override {
        std::error_code ec;
        if (!root_.empty() && !HasFailure()) fs::remove_all(root_, ec);
    }

    run::StsJobOptions options(std::vector<std::string> models) const {
        run::StsJobOptions o;
        o.cxc_csv = (data_ / "cxc/sts_test.csv").string();
        o.captions_json = (data_ / "coco/annotations/captions_val2014.json").string();
        o.models = std::move(models);
        o.max_pairs = 300;
        o.bootstrap = 50;
        o.device = "cpu";
        return o;
    }

    fs::path root_, hub_, data_;
    std::map<std::string, fs::path> snapshots_;
};

TEST_F(StudyCache, EachRealLayoutComputesTheFixturesFunction) {
    torch::NoGradGuard no_grad;  // inference: TextEncoder::forward follows the caller's grad mode
    for (const auto& repo : study_repos()) {
        SCOPED_TRACE(repo.id);
        auto golden = read_golden(repo.fixture);
        const at::Tensor ids = golden.at("input_ids");
        const at::Tensor mask = golden.at("attention_mask");
        // By hub id, through the cache, as `sts --models <id>` resolves it.
        auto encoder = models::load_text_encoder(snapshots_.at(repo.id).string());
        const models::EncoderOutput out = encoder->forward(ids, mask);
        if (repo.layout == Layout::clip_full) {
            EXPECT_LE(max_abs_diff(out.last_hidden_state, golden.at("text_last_hidden_state")), 1e-5);
            EXPECT_LE(max_abs_diff(out.projected, golden.at("text_embeds_unnormalized")), 1e-5);
        } else {
            EXPECT_LE(max_abs_diff(out.last_hidden_state, golden.at("last_hidden_state")), 1e-5);
        }
        if (repo.layout == Layout::bert_pretraining) {
            ASSERT_TRUE(encoder->has_trained_pooler()) << "bert.pooler.dense.* (legacy names) not loaded";
            EXPECT_LE(max_abs_diff(out.pooler_output, golden.at("pooler_output")), 1e-5);
        }
        if (repo.layout == Layout::roberta_masked_lm) EXPECT_FALSE(encoder->has_trained_pooler());
    }
}

// scripts/table2.sh exactly as the README gives it (plus a smaller sample so that the test is quick),
// offline on the cache above: every one of the ten rows, each with its catalog pooling.
TEST_F(StudyCache, Table2ScriptGivesEveryRow) {
    const fs::path out = root_ / "results";
    set_env("SYN_RESULTS_DIR", out.string());
    set_env("SYN_BUILD_DIR", SYN_TEST_BUILD_DIR);
    set_env("QT_QPA_PLATFORM", "offscreen");
    const fs::path log = root_ / "table2.log";
    const std::string cmd = "bash '" + std::string(SYN_TEST_SOURCE_DIR) +
                            "/scripts/table2.sh' --max-pairs 300 --bootstrap 50 --device cpu > '" + log.string() +
                            "' 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), {});
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;

    const nlohmann::json results = read_json(out / "results.json");
    EXPECT_TRUE(results.at("failed").empty()) << results.at("failed").dump(2);
    std::map<std::string, std::string> pooling_by_label;
    for (const auto& e : results.at("encoders")) pooling_by_label[e.at("label")] = e.at("pooling");
    const std::map<std::string, std::string> expected = {
        {"lexical/jaccard", "none"},        {"lexical/tfidf", "none"},
        {"BERT-base", "pooler"},            {"BERT-large", "pooler"},
        {"RoBERTa-base", "cls"},            {"RoBERTa-large", "cls"},
        {"CLIP ViT-B/32", "projected"},     {"CLIP ViT-B/16", "projected"},
        {"CLIP ViT-L/14", "projected"},     {"CLIP ViT-L/14@336px", "projected"}};
    EXPECT_EQ(pooling_by_label, expected);
    std::ifstream md(out / "table.md");
    const std::string table((std::istreambuf_iterator<char>(md)), {});
    for (const auto& [label, pooling] : expected)
        EXPECT_NE(table.find("| " + label + " | " + pooling + " | "), std::string::npos) << label << "\n" << table;
    EXPECT_EQ(table.find("failed"), std::string::npos) << table;
}

// The command `fetch --study` prints after fetching runs as printed (space-separated ids, the test
// split and its captions), here on the cache above.
TEST_F(StudyCache, FetchHintIsACommandThatRuns) {
    const std::string hint = run::table2_hint(data_.string());
    EXPECT_EQ(hint.find(','), std::string::npos) << hint;  // one id per word, not a comma list
    EXPECT_EQ(hint.find("sts_val"), std::string::npos) << hint;
    const size_t start = hint.find("synesthesia sts");
    ASSERT_NE(start, std::string::npos) << hint;
    std::string cmd = hint.substr(start);
    cmd.replace(0, std::string("synesthesia").size(), std::string("'") + SYN_TEST_CLI + "'");
    while (!cmd.empty() && cmd.back() == '\n') cmd.pop_back();
    const fs::path log = root_ / "hint.log";
    const std::string full = "cd '" + root_.string() + "' && QT_QPA_PLATFORM=offscreen " + cmd +
                             " --max-pairs 200 --bootstrap 20 --device cpu > '" + log.string() + "' 2>&1";
    const int status = std::system(full.c_str());
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), {});
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << full << "\n" << output;
    const nlohmann::json results = read_json(root_ / "results/table2/results.json");
    EXPECT_EQ(results.at("encoders").size(), 10u);
}

// A model that cannot be evaluated is a failed row with its reason; the others complete. Per-model
// poolings, the seeded random pooler and duplicate entries get distinct labels.
TEST_F(StudyCache, OneFailingModelCostsOnlyItsRow) {
    auto o = options({"lexical/jaccard", "roberta-base:pooler", "bert-base-cased", "nobody/absent-model",
                      "roberta-base:random_pooler@3", "roberta-base:random_pooler@3", "roberta-base:mean"});
    const run::StsResult r = run::run_sts(o);
    std::vector<std::string> labels;
    for (const auto& e : r.encoders) labels.push_back(e.label);
    EXPECT_EQ(labels, (std::vector<std::string>{"lexical/jaccard", "BERT-base", "RoBERTa-base (random_pooler@3)",
                                                "RoBERTa-base (random_pooler@3) #2", "RoBERTa-base (mean)"}));
    ASSERT_EQ(r.failed.size(), 2u);
    EXPECT_EQ(r.failed[0].model, "roberta-base:pooler");
    EXPECT_NE(r.failed[0].reason.find("no trained pooler"), std::string::npos) << r.failed[0].reason;
    EXPECT_NE(r.failed[0].reason.find("random_pooler@<seed>"), std::string::npos) << r.failed[0].reason;
    EXPECT_EQ(r.failed[1].model, "nobody/absent-model");
    EXPECT_NE(r.failed[1].reason.find("not in the local Hugging Face cache"), std::string::npos) << r.failed[1].reason;
    // The same seed gives the same scores (a cached or a fresh run alike); the pooling is recorded.
    EXPECT_EQ(r.encoders[2].scores, r.encoders[3].scores);
    EXPECT_EQ(r.encoders[2].pooling, "random_pooler@3");
    // 5 evaluated encoders -> 10 pairs x 4 metrics of paired comparisons; none with a failed model.
    EXPECT_EQ(r.comparisons.size(), 40u);
    const std::string md = run::sts_table_markdown(r);
    EXPECT_NE(md.find("| RoBERTa-base (pooler) | pooler | failed |"), std::string::npos) << md;
    EXPECT_NE(md.find("| failed | failed | failed | failed |"), std::string::npos) << md;
    EXPECT_NE(md.find("nobody/absent-model"), std::string::npos) << md;
    EXPECT_NE(run::sts_table_latex(r).find("failed: "), std::string::npos);
    const nlohmann::json j = run::sts_results_json(r);
    EXPECT_EQ(j.at("failed").size(), 2u);
    EXPECT_EQ(j.at("manifest").at("failed_models").size(), 2u);

    // Nothing evaluable: an error naming every model and why.
    try {
        run::run_sts(options({"roberta-base:pooler", "nobody/absent-model"}));
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("roberta-base:pooler"), std::string::npos) << msg;
        EXPECT_NE(msg.find("nobody/absent-model"), std::string::npos) << msg;
    }
    // A ':' suffix that is no pooling is this entry's failure, not the run's.
    const run::StsResult bad = run::run_sts(options({"lexical/jaccard", "bert-base-cased:maxx"}));
    ASSERT_EQ(bad.failed.size(), 1u);
    EXPECT_NE(bad.failed[0].reason.find("unknown pooling 'maxx'"), std::string::npos) << bad.failed[0].reason;
}

// The CLI writes the tables and exits with status 3 when a model failed.
TEST_F(StudyCache, CliExitsThreeWhenAModelFailed) {
    const fs::path out = root_ / "partial";
    const fs::path log = root_ / "partial.log";
    const std::string cmd = "QT_QPA_PLATFORM=offscreen '" + std::string(SYN_TEST_CLI) + "' sts --cxc '" +
                            (data_ / "cxc/sts_test.csv").string() + "' --captions '" +
                            (data_ / "coco/annotations/captions_val2014.json").string() +
                            "' --models lexical/jaccard roberta-base:pooler --max-pairs 200 --bootstrap 20 --out '" +
                            out.string() + "' > '" + log.string() + "' 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), {});
    ASSERT_TRUE(WIFEXITED(status)) << output;
    EXPECT_EQ(WEXITSTATUS(status), run::kExitSomeModelsFailed) << output;
    EXPECT_NE(output.find("FAILED roberta-base:pooler"), std::string::npos) << output;
    std::ifstream md(out / "table.md");
    const std::string table((std::istreambuf_iterator<char>(md)), {});
    EXPECT_NE(table.find("| lexical/jaccard | none |"), std::string::npos) << table;
    EXPECT_NE(table.find("| RoBERTa-base (pooler) | pooler | failed |"), std::string::npos) << table;
}

}  // namespace
