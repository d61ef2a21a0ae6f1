// sentence-transformers model folders (modules.json + 1_Pooling/ + 2_Dense/ + Normalize +
// sentence_bert_config.json), laid out in a temp dir around the tiny-bert fixture, embedded through
// the same embed_texts() that `synesthesia embed` and `sts` run. Every pooling mode is checked against
// the Hugging Face goldens (mean_pooled) or against a plain loop over the golden last_hidden_state and
// attention_mask written here, independently of the code under test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/hub_download.h"
#include "core/io/safetensors.h"
#include "core/io/sentence_transformers.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/commands/cli_commands.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/sentence_transformers_embed.h"
#include "core/text/tokenizer.h"
#include "models/registry.h"
#include "models/sentence_pipeline.h"
#include "tests/support/error_text.h"
#include "tests/support/shared_paths.h"
#include "tests/support/torch_save_writer.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace syn::run;

using syn::test::error_of;

namespace {

std::string tiny_bert() { return syn::test::fixtures_dir() + "/models/tiny-bert"; }

struct Golden {
    std::vector<std::string> texts;
    at::Tensor hidden;  // [N, T, H] float32
    at::Tensor mask;    // [N, T] int64
    at::Tensor ids;     // [N, T] int64
    at::Tensor mean;    // [N, H]
};

const Golden& golden() {
    static const Golden g = [] {
        Golden out;
        const auto j = json::parse(syn::read_file(tiny_bert() + "/golden.json"));
        out.texts = j.at("texts").get<std::vector<std::string>>();
        const auto f = syn::read_safetensors(tiny_bert() + "/golden.safetensors");
        out.hidden = syn::to_torch(f.tensors.at("last_hidden_state")).to(at::kFloat);
        out.mask = syn::to_torch(f.tensors.at("attention_mask")).to(at::kLong);
        out.ids = syn::to_torch(f.tensors.at("input_ids")).to(at::kLong);
        out.mean = syn::to_torch(f.tensors.at("mean_pooled")).to(at::kFloat);
        return out;
    }();
    return g;
}

// --- the expected vectors, computed with plain loops from the goldens (one row per text) ----------

using Row = std::vector<double>;
using Expect = std::function<Row(int64_t text)>;

int64_t length_of(int64_t n) {
    int64_t len = 0;
    for (int64_t t = 0; t < golden().mask.size(1); ++t) len += golden().mask[n][t].item<int64_t>() != 0;
    return len;
}
double h(int64_t n, int64_t t, int64_t d) { return golden().hidden[n][t][d].item<double>(); }
bool on(int64_t n, int64_t t) { return golden().mask[n][t].item<int64_t>() != 0; }
int64_t H() { return golden().hidden.size(2); }
int64_t T() { return golden().hidden.size(1); }

Row golden_mean(int64_t n) {
    Row r(H());
    for (int64_t d = 0; d < H(); ++d) r[d] = golden().mean[n][d].item<double>();
    return r;
}
Row cls(int64_t n) {
    Row r(H());
    for (int64_t d = 0; d < H(); ++d) r[d] = h(n, 0, d);
    return r;
}
Row max_over_tokens(int64_t n) {
    Row r(H(), -INFINITY);
    for (int64_t t = 0; t < T(); ++t)
        if (on(n, t))
            for (int64_t d = 0; d < H(); ++d) r[d] = std::max(r[d], h(n, t, d));
    return r;
}
Row sum_over_tokens(int64_t n) {
    Row r(H(), 0.0);
    for (int64_t t = 0; t < T(); ++t)
        if (on(n, t))
            for (int64_t d = 0; d < H(); ++d) r[d] += h(n, t, d);
    return r;
}
Row mean_sqrt_len(int64_t n) {
    Row r = sum_over_tokens(n);
    for (double& v : r) v /= std::sqrt(static_cast<double>(length_of(n)));
    return r;
}
Row weighted_mean(int64_t n) {  // weights 1..T by position
    Row r(H(), 0.0);
    double w = 0;
    for (int64_t t = 0; t < T(); ++t) {
        if (!on(n, t)) continue;
        w += t + 1;
        for (int64_t d = 0; d < H(); ++d) r[d] += (t + 1) * h(n, t, d);
    }
    for (double& v : r) v /= w;
    return r;
}
Row last_token(int64_t n) {
    int64_t last = 0;
    for (int64_t t = 0; t < T(); ++t)
        if (on(n, t)) last = t;
    Row r(H());
    for (int64_t d = 0; d < H(); ++d) r[d] = h(n, last, d);
    return r;
}
Row concat(Row a, const Row& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
Row normalized(Row r) {
    double s = 0;
    for (double v : r) s += v * v;
    for (double& v : r) v /= std::sqrt(s);
    return r;
}

// A Dense layer with known weights: W[o][i] = sin(0.37 o + 0.11 i) / 4, b[o] = 0.05 (o - 3).
constexpr int64_t kDenseOut = 8;
float dense_w(int64_t o, int64_t i) { return static_cast<float>(std::sin(0.37 * o + 0.11 * i) / 4); }
float dense_b(int64_t o) { return static_cast<float>(0.05 * (o - 3)); }
Row dense_tanh(const Row& x) {
    Row y(kDenseOut);
    for (int64_t o = 0; o < kDenseOut; ++o) {
        double s = dense_b(o);
        for (size_t i = 0; i < x.size(); ++i) s += static_cast<double>(dense_w(o, static_cast<int64_t>(i))) * x[i];
        y[o] = std::tanh(s);
    }
    return y;
}
syn::TensorMap dense_tensors(int64_t in, int64_t out, bool bias = true) {
    std::vector<float> w(static_cast<size_t>(out * in)), b(static_cast<size_t>(out));
    for (int64_t o = 0; o < out; ++o) {
        b[o] = dense_b(o);
        for (int64_t i = 0; i < in; ++i) w[o * in + i] = dense_w(o, i);
    }
    auto raw = [](const std::vector<float>& v, std::vector<int64_t> shape) {
        std::vector<uint8_t> bytes(v.size() * sizeof(float));
        std::memcpy(bytes.data(), v.data(), bytes.size());
        return syn::make_owned_tensor(syn::DType::F32, std::move(shape), std::move(bytes));
    };
    syn::TensorMap m;
    m["linear.weight"] = raw(w, {out, in});
    if (bias) m["linear.bias"] = raw(b, {out});
    return m;
}

// --- folders laid out like sentence-transformers' save() ------------------------------------------

void write_json(const fs::path& p, const json& j) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << j.dump(2);
}

json pooling_config(std::initializer_list<const char*> modes) {
    json j = {{"word_embedding_dimension", 32},
              {"pooling_mode_cls_token", false},
              {"pooling_mode_mean_tokens", false},
              {"pooling_mode_max_tokens", false},
              {"pooling_mode_mean_sqrt_len_tokens", false},
              {"pooling_mode_weightedmean_tokens", false},
              {"pooling_mode_lasttoken", false},
              {"include_prompt", true}};
    for (const char* m : modes) j[std::string("pooling_mode_") + m] = true;
    return j;
}

struct Layout {
    json pooling = pooling_config({"mean_tokens"});
    bool dense = false;
    std::string dense_activation = "torch.nn.modules.activation.Tanh";
    bool dense_as_bin = false;
    bool normalize = false;
    json sbert = {{"max_seq_length", 256}, {"do_lower_case", false}};
    std::string transformer_path;  // "" = the folder itself, else e.g. "0_Transformer"
    json st_config;                // config_sentence_transformers.json when not null
};

fs::path make_folder(const std::string& name, const Layout& l) {
    const fs::path root = fs::temp_directory_path() / ("syn_st_" + name);
    fs::remove_all(root);
    const fs::path tf = l.transformer_path.empty() ? root : root / l.transformer_path;
    fs::create_directories(tf);
    for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"})
        fs::create_symlink(fs::path(tiny_bert()) / f, tf / f);
    json modules = json::array();
    modules.push_back({{"idx", 0}, {"name", "0"}, {"path", l.transformer_path}, {"type", "sentence_transformers.models.Transformer"}});
    modules.push_back({{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}});
    write_json(root / "1_Pooling" / "config.json", l.pooling);
    if (l.dense) {
        modules.push_back({{"idx", 2}, {"name", "2"}, {"path", "2_Dense"}, {"type", "sentence_transformers.models.Dense"}});
        int64_t modes = 0;
        for (const auto& [k, v] : l.pooling.items())
            if (k.rfind("pooling_mode", 0) == 0 && v.is_boolean() && v.get<bool>()) ++modes;
        write_json(root / "2_Dense" / "config.json", {{"in_features", 32 * modes},
                                                      {"out_features", kDenseOut},
                                                      {"bias", true},
                                                      {"activation_function", l.dense_activation}});
        if (l.dense_as_bin)
            syn::test::write_torch_state_dict((root / "2_Dense" / "pytorch_model.bin").string(),
                                              dense_tensors(32 * modes, kDenseOut));
        else
            syn::write_safetensors((root / "2_Dense" / "model.safetensors").string(), dense_tensors(32 * modes, kDenseOut));
    }
    if (l.normalize)
        modules.push_back({{"idx", static_cast<int>(modules.size())}, {"name", std::to_string(modules.size())},
                           {"path", std::to_string(modules.size()) + "_Normalize"},
                           {"type", "sentence_transformers.models.Normalize"}});
    write_json(root / "modules.json", modules);
    if (!l.sbert.is_null()) write_json(tf / "sentence_bert_config.json", l.sbert);
    if (!l.st_config.is_null()) write_json(root / "config_sentence_transformers.json", l.st_config);
    return root;
}

EmbedOptions options_for(const fs::path& folder) {
    EmbedOptions o;
    o.model = folder.string();
    o.device = "cpu";
    o.dtype = "float32";
    o.use_cache = false;
    return o;
}

void expect_rows(const EmbedResult& r, const Expect& expect, double tol = 1e-5) {
    const int64_t n = static_cast<int64_t>(golden().texts.size());
    ASSERT_EQ(r.rows.size(), static_cast<size_t>(n * r.dim));
    for (int64_t i = 0; i < n; ++i) {
        const Row e = expect(i);
        ASSERT_EQ(static_cast<int64_t>(e.size()), r.dim) << "text " << i;
        for (int64_t d = 0; d < r.dim; ++d)
            ASSERT_NEAR(r.rows[i * r.dim + d], e[d], tol) << "text " << i << " (" << golden().texts[i] << "), value " << d;
    }
}

struct Case {
    const char* name;
    std::function<Layout()> layout;
    const char* pooling;  // EmbedResult::pooling
    Expect expect;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        {"mean_normalize",
         [] {
             Layout l;
             l.normalize = true;
             return l;
         },
         "st:mean+normalize", [](int64_t n) { return normalized(golden_mean(n)); }},
        {"mean_key_absent_defaults_to_mean",  // Pooling.__init__: pooling_mode_mean_tokens=True
         [] {
             Layout l;
             l.pooling = {{"word_embedding_dimension", 32}};
             return l;
         },
         "st:mean", golden_mean},
        {"cls", [] { Layout l; l.pooling = pooling_config({"cls_token"}); return l; }, "st:cls", cls},
        {"max", [] { Layout l; l.pooling = pooling_config({"max_tokens"}); return l; }, "st:max", max_over_tokens},
        {"mean_sqrt_len", [] { Layout l; l.pooling = pooling_config({"mean_sqrt_len_tokens"}); return l; },
         "st:mean_sqrt_len_tokens", mean_sqrt_len},
        {"weightedmean", [] { Layout l; l.pooling = pooling_config({"weightedmean_tokens"}); return l; },
         "st:weightedmean", weighted_mean},
        {"lasttoken", [] { Layout l; l.pooling = pooling_config({"lasttoken"}); return l; }, "st:lasttoken", last_token},
        {"pooling_mode_string", [] { Layout l; l.pooling = {{"pooling_mode", "LastToken"}}; return l; }, "st:lasttoken",
         last_token},
        // Several modes: concatenated in sentence-transformers' order (cls, max, mean, ...), not the file's.
        {"cls_and_mean", [] { Layout l; l.pooling = pooling_config({"mean_tokens", "cls_token"}); return l; },
         "st:cls+mean", [](int64_t n) { return concat(cls(n), golden_mean(n)); }},
        {"max_mean_sqrt_lasttoken",
         [] {
             Layout l;
             l.pooling = pooling_config({"lasttoken", "mean_sqrt_len_tokens", "max_tokens"});
             return l;
         },
         "st:max+mean_sqrt_len_tokens+lasttoken",
         [](int64_t n) { return concat(concat(max_over_tokens(n), mean_sqrt_len(n)), last_token(n)); }},
        {"all_six_modes",
         [] {
             Layout l;
             l.pooling = pooling_config({"lasttoken", "weightedmean_tokens", "mean_sqrt_len_tokens", "mean_tokens",
                                         "max_tokens", "cls_token"});
             return l;
         },
         "st:cls+max+mean+mean_sqrt_len_tokens+weightedmean+lasttoken",
         [](int64_t n) {
             return concat(concat(concat(concat(concat(cls(n), max_over_tokens(n)), golden_mean(n)), mean_sqrt_len(n)),
                                  weighted_mean(n)),
                           last_token(n));
         }},
        {"mean_dense_tanh_normalize",
         [] {
             Layout l;
             l.dense = true;
             l.normalize = true;
             return l;
         },
         "st:mean+dense+normalize", [](int64_t n) { return normalized(dense_tanh(golden_mean(n))); }},
        {"cls_mean_dense_from_pytorch_bin",
         [] {
             Layout l;
             l.pooling = pooling_config({"cls_token", "mean_tokens"});
             l.dense = true;
             l.dense_as_bin = true;
             return l;
         },
         "st:cls+mean+dense", [](int64_t n) { return dense_tanh(concat(cls(n), golden_mean(n))); }},
        {"transformer_in_subfolder",
         [] {
             Layout l;
             l.transformer_path = "0_Transformer";
             l.normalize = true;
             return l;
         },
         "st:mean+normalize", [](int64_t n) { return normalized(golden_mean(n)); }},
    };
    return c;
}

}  // namespace

class SentenceTransformersLayout : public ::testing::TestWithParam<Case> {};

TEST_P(SentenceTransformersLayout, EmbedsAsSentenceTransformersDoes) {
    SYN_REQUIRE_SHARED();
    const fs::path folder = make_folder(GetParam().name, GetParam().layout());
    const EmbedResult r = embed_texts(golden().texts, options_for(folder));
    EXPECT_EQ(r.pooling, GetParam().pooling);
    EXPECT_NE(r.pooling_reason.find("modules.json"), std::string::npos) << r.pooling_reason;
    EXPECT_EQ(r.truncated_texts, 0u);
    expect_rows(r, GetParam().expect);
}

INSTANTIATE_TEST_SUITE_P(Layouts, SentenceTransformersLayout, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SentenceTransformers, ExplicitPoolingWinsOverModulesJson) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.dense = true;
    l.normalize = true;
    const fs::path folder = make_folder("explicit", l);
    EmbedOptions o = options_for(folder);
    o.pooling = "cls";
    const EmbedResult r = embed_texts(golden().texts, o);
    EXPECT_EQ(r.pooling, "cls");
    EXPECT_NE(r.pooling_reason.find("asked for"), std::string::npos) << r.pooling_reason;
    EXPECT_NE(r.pooling_reason.find("st:mean+dense+normalize"), std::string::npos) << r.pooling_reason;
    expect_rows(r, cls);
    o.pooling = "mean+l2";
    expect_rows(embed_texts(golden().texts, o), [](int64_t n) { return normalized(golden_mean(n)); });
}

// sentence-transformers truncates the token sequence to max_seq_length, special tokens included:
// [CLS] a man is [SEP] for max_seq_length 5. The expected vector runs the encoder on exactly those
// ids (the golden input_ids cut by hand), not through the tokenizer's truncation.
TEST(SentenceTransformers, MaxSeqLengthTruncatesLikeSentenceTransformers) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.sbert = {{"max_seq_length", 5}, {"do_lower_case", false}};
    const fs::path folder = make_folder("truncate", l);
    const std::vector<std::string> texts = {golden().texts[0], "a"};
    const EmbedResult r = embed_texts(texts, options_for(folder));
    EXPECT_EQ(r.truncated_texts, 1u);

    auto encoder = syn::models::load_text_encoder(tiny_bert());
    torch::NoGradGuard no_grad;
    at::Tensor ids = golden().ids[0].narrow(0, 0, 5).clone().unsqueeze(0);
    ids[0][4] = golden().ids[0][length_of(0) - 1];  // the closing [SEP]
    ASSERT_EQ(ids[0][4].item<int64_t>(), 102);
    const at::Tensor hidden = encoder->forward(ids, torch::ones_like(ids)).last_hidden_state;
    const at::Tensor expected = hidden.mean(1)[0];
    ASSERT_EQ(r.dim, 32);
    for (int64_t d = 0; d < 32; ++d) EXPECT_NEAR(r.rows[d], expected[d].item<double>(), 1e-5) << d;
    // "a" is 3 tokens: not cut, the golden mean.
    for (int64_t d = 0; d < 32; ++d) EXPECT_NEAR(r.rows[32 + d], golden().mean[4][d].item<double>(), 1e-5) << d;

    // Without sentence_bert_config.json: the model's own limit, nothing cut.
    l.sbert = nullptr;
    const EmbedResult full = embed_texts(texts, options_for(make_folder("truncate_none", l)));
    EXPECT_EQ(full.truncated_texts, 0u);
    for (int64_t d = 0; d < 32; ++d) EXPECT_NEAR(full.rows[d], golden().mean[0][d].item<double>(), 1e-5) << d;
}

TEST(SentenceTransformers, TextsAreStrippedLowerCasedAndPrompted) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.sbert = {{"max_seq_length", 128}, {"do_lower_case", true}};
    l.st_config = {{"prompts", {{"query", "Query: "}, {"document", ""}}},
                   {"default_prompt_name", "query"},
                   {"similarity_fn_name", "cosine"}};
    const fs::path folder = make_folder("prompted", l);
    auto st = sentence_transformers_embedding(folder.string(), "");
    ASSERT_TRUE(st);
    // The prompt is prepended first, then the whole text stripped and lower-cased (encode, then
    // Transformer.tokenize), so the spaces between prompt and text stay.
    EXPECT_EQ(st->prepare_text("  Café NAÏVE\t\n"), "query:   café naïve");
    EXPECT_EQ(st->prepare_text("Two DOGS "), "query: two dogs");
    EXPECT_EQ(python_strip("\x1c\xc2\xa0 x y \xe3\x80\x80"), "x y");
    EXPECT_EQ(python_strip(" \t "), "");

    // The prompt is prepended: "a man" embeds as "query: a man" does in a folder without prompts.
    const EmbedResult prompted = embed_texts({"a man"}, options_for(folder));
    Layout plain;
    const EmbedResult reference = embed_texts({"query: a man"}, options_for(make_folder("unprompted", plain)));
    ASSERT_EQ(prompted.dim, reference.dim);
    for (int64_t d = 0; d < prompted.dim; ++d) EXPECT_NEAR(prompted.rows[d], reference.rows[d], 1e-6) << d;
    EXPECT_NE(prompted.fingerprint, reference.fingerprint);  // the ST files are part of the model
}

// include_prompt false: the prompt's tokens ([CLS] query :) are left out of the mean, as
// sentence-transformers' _get_prompt_length + Pooling do.
TEST(SentenceTransformers, IncludePromptFalseExcludesThePromptTokens) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.pooling["include_prompt"] = false;
    l.st_config = {{"prompts", {{"query", "query: "}}}, {"default_prompt_name", "query"}};
    const fs::path folder = make_folder("include_prompt", l);
    const EmbedResult r = embed_texts({"a man rides a horse"}, options_for(folder));

    auto tokenizer = syn::text::load_tokenizer(tiny_bert());
    const auto enc = tokenizer->encode("query: a man rides a horse");
    const auto prompt = tokenizer->encode("query:");
    ASSERT_EQ(prompt.ids.size(), 4u);  // [CLS] query : [SEP]
    auto encoder = syn::models::load_text_encoder(tiny_bert());
    torch::NoGradGuard no_grad;
    at::Tensor ids = torch::tensor(std::vector<int64_t>(enc.ids.begin(), enc.ids.end())).unsqueeze(0);
    const at::Tensor hidden = encoder->forward(ids, torch::ones_like(ids)).last_hidden_state[0];
    const at::Tensor expected = hidden.narrow(0, 3, hidden.size(0) - 3).mean(0);
    ASSERT_EQ(r.dim, 32);
    for (int64_t d = 0; d < 32; ++d) EXPECT_NEAR(r.rows[d], expected[d].item<double>(), 1e-5) << d;
}

TEST(SentenceTransformers, CacheKeyFollowsThePipelineAndItsFiles) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.dense = true;
    const fs::path folder = make_folder("cache", l);
    const fs::path cache = fs::temp_directory_path() / "syn_st_cache_root";
    fs::remove_all(cache);
    EmbedOptions o = options_for(folder);
    o.use_cache = true;
    o.cache_root = cache.string();
    const EmbedResult first = embed_texts(golden().texts, o);
    EXPECT_EQ(first.from_cache, 0u);
    const EmbedResult again = embed_texts(golden().texts, o);
    EXPECT_EQ(again.from_cache, golden().texts.size());
    EXPECT_EQ(again.rows, first.rows);

    // Other Dense weights, same pipeline description: a new fingerprint, nothing from the cache.
    syn::TensorMap w = dense_tensors(32, kDenseOut);
    auto* p = reinterpret_cast<float*>(const_cast<uint8_t*>(w.at("linear.bias").data));
    p[0] += 1.0f;
    fs::remove(folder / "2_Dense" / "model.safetensors");
    syn::write_safetensors((folder / "2_Dense" / "model.safetensors").string(), w);
    const EmbedResult changed = embed_texts(golden().texts, o);
    EXPECT_EQ(changed.pooling, first.pooling);
    EXPECT_NE(changed.fingerprint, first.fingerprint);
    EXPECT_EQ(changed.from_cache, 0u);
    EXPECT_NE(changed.rows, first.rows);
}

TEST(SentenceTransformers, RefusesWhatItCannotComputeNamingFileAndKey) {
    SYN_REQUIRE_SHARED();
    auto expect_error = [](const std::string& name, const std::function<void(const fs::path&)>& spoil,
                           std::vector<std::string> needles) {
        Layout l;
        l.dense = true;
        l.normalize = true;
        const fs::path folder = make_folder("bad_" + name, l);
        spoil(folder);
        const std::string e = error_of([&] { embed_texts({"a"}, options_for(folder)); });
        ASSERT_FALSE(e.empty()) << name << ": no error";
        for (const auto& n : needles) EXPECT_NE(e.find(n), std::string::npos) << name << ": '" << n << "' not in: " << e;
    };
    auto edit_modules = [](const fs::path& folder, const std::function<void(json&)>& f) {
        json m = json::parse(syn::read_file((folder / "modules.json").string()));
        f(m);
        write_json(folder / "modules.json", m);
    };
    expect_error("unknown_type",
                 [&](const fs::path& f) {
                     edit_modules(f, [](json& m) { m[2]["type"] = "sentence_transformers.models.LayerNorm"; });
                 },
                 {"modules.json", "sentence_transformers.models.LayerNorm", "not supported"});
    expect_error("custom_type",
                 [&](const fs::path& f) { edit_modules(f, [](json& m) { m[1]["type"] = "my_package.MyPooling"; }); },
                 {"modules.json", "my_package.MyPooling"});
    expect_error("pooling_missing",
                 [&](const fs::path& f) { edit_modules(f, [](json& m) { m.erase(1); }); },
                 {"modules.json", "Pooling"});
    expect_error("path_escape",
                 [&](const fs::path& f) { edit_modules(f, [](json& m) { m[1]["path"] = "../elsewhere"; }); },
                 {"modules.json", "'path'"});
    expect_error("modules_not_array", [&](const fs::path& f) { write_json(f / "modules.json", {{"a", 1}}); },
                 {"modules.json", "array"});
    expect_error("pooling_bool_as_string",
                 [&](const fs::path& f) {
                     json p = pooling_config({"mean_tokens"});
                     p["pooling_mode_mean_tokens"] = "yes";
                     write_json(f / "1_Pooling" / "config.json", p);
                 },
                 {"1_Pooling/config.json", "pooling_mode_mean_tokens", "boolean"});
    expect_error("pooling_unknown_mode",
                 [&](const fs::path& f) {
                     json p = pooling_config({"mean_tokens"});
                     p["pooling_mode_median_tokens"] = true;
                     write_json(f / "1_Pooling" / "config.json", p);
                 },
                 {"1_Pooling/config.json", "pooling_mode_median_tokens"});
    expect_error("pooling_none_on",
                 [&](const fs::path& f) { write_json(f / "1_Pooling" / "config.json", pooling_config({})); },
                 {"1_Pooling/config.json", "no pooling mode"});
    expect_error("pooling_not_json",
                 [&](const fs::path& f) { std::ofstream(f / "1_Pooling" / "config.json") << "{mean"; },
                 {"1_Pooling/config.json", "invalid JSON"});
    expect_error("dense_activation_missing",
                 [&](const fs::path& f) {
                     write_json(f / "2_Dense" / "config.json", {{"in_features", 32}, {"out_features", kDenseOut}});
                 },
                 {"2_Dense/config.json", "activation_function", "missing"});
    expect_error("dense_activation_unknown",
                 [&](const fs::path& f) {
                     write_json(f / "2_Dense" / "config.json", {{"in_features", 32},
                                                                {"out_features", kDenseOut},
                                                                {"activation_function", "torch.nn.modules.activation.Softplus"}});
                 },
                 {"2_Dense/config.json", "activation_function", "Softplus"});
    expect_error("dense_in_features_vs_hidden",
                 [&](const fs::path& f) {
                     json p = pooling_config({"mean_tokens"});
                     p.erase("word_embedding_dimension");  // then only the transformer says 32
                     write_json(f / "1_Pooling" / "config.json", p);
                     write_json(f / "2_Dense" / "config.json", {{"in_features", 16},
                                                                {"out_features", kDenseOut},
                                                                {"activation_function", "torch.nn.modules.activation.Tanh"}});
                     syn::write_safetensors((f / "2_Dense" / "model.safetensors").string(), dense_tensors(16, kDenseOut));
                 },
                 {"2_Dense/config.json", "in_features", "32"});
    expect_error("dense_weight_shape",
                 [&](const fs::path& f) {
                     syn::write_safetensors((f / "2_Dense" / "model.safetensors").string(), dense_tensors(31, kDenseOut));
                 },
                 {"2_Dense/model.safetensors", "linear.weight", "[8, 31]"});
    expect_error("dense_bias_missing",
                 [&](const fs::path& f) {
                     syn::write_safetensors((f / "2_Dense" / "model.safetensors").string(),
                                            dense_tensors(32, kDenseOut, /*bias=*/false));
                 },
                 {"2_Dense/model.safetensors", "linear.bias"});
    expect_error("dense_no_weights", [&](const fs::path& f) { fs::remove(f / "2_Dense" / "model.safetensors"); },
                 {"2_Dense", "model.safetensors", "pytorch_model.bin"});
    expect_error("sbert_max_seq_length_string",
                 [&](const fs::path& f) { write_json(f / "sentence_bert_config.json", {{"max_seq_length", "128"}}); },
                 {"sentence_bert_config.json", "max_seq_length"});
    expect_error("default_prompt_unknown",
                 [&](const fs::path& f) {
                     write_json(f / "config_sentence_transformers.json",
                                {{"prompts", {{"query", "q: "}}}, {"default_prompt_name", "passage"}});
                 },
                 {"config_sentence_transformers.json", "default_prompt_name", "passage"});
}

TEST(SentenceTransformers, ModelsCommandDescribesTheFolder) {
    SYN_REQUIRE_SHARED();
    Layout l;
    l.dense = true;
    l.normalize = true;
    l.sbert = {{"max_seq_length", 128}, {"do_lower_case", true}};
    const fs::path folder = make_folder("listing", l);
    const auto summary = syn::st::summarize_sentence_transformers(syn::st::read_sentence_transformers(folder.string()));
    EXPECT_EQ(summary.model_type, "bert");
    EXPECT_EQ(summary.pooling, "st:mean+dense+normalize");
    EXPECT_NE(summary.details.find("max_seq_length 128"), std::string::npos) << summary.details;
    EXPECT_NE(summary.details.find("dense 32->8 tanh"), std::string::npos) << summary.details;

    std::string arg0 = "synesthesia", arg1 = "models", arg2 = folder.string();
    char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
    testing::internal::CaptureStdout();
    const int rc = cli_main(3, argv);
    std::fflush(stdout);
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find("sentence-transformers (bert)"), std::string::npos) << out;
    EXPECT_NE(out.find("st:mean+dense+normalize"), std::string::npos) << out;
}

TEST(SentenceTransformers, HubSelectsTheModuleFiles) {
    using syn::hub::select_model_files;
    const std::vector<std::string> listing = {
        "README.md", "config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json", "vocab.txt",
        "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json",
        "2_Dense/config.json", "2_Dense/model.safetensors", "2_Dense/pytorch_model.bin", "onnx/model.onnx",
        "openvino/openvino_model.xml"};
    const auto files = select_model_files("sentence-transformers/LaBSE", listing);
    for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "modules.json",
                          "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling/config.json",
                          "2_Dense/config.json", "2_Dense/model.safetensors"})
        EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
    for (const char* f : {"pytorch_model.bin", "2_Dense/pytorch_model.bin", "onnx/model.onnx", "README.md"})
        EXPECT_EQ(std::find(files.begin(), files.end(), f), files.end()) << f;
    EXPECT_EQ(files.back(), "model.safetensors");

    // Only the listed files; a Dense with only pytorch_model.bin gets that.
    EXPECT_EQ(select_model_files("r", {"config.json", "model.safetensors", "modules.json", "1_Pooling/config.json",
                                       "2_Dense/config.json", "2_Dense/pytorch_model.bin"}),
              (std::vector<std::string>{"config.json", "modules.json", "1_Pooling/config.json", "2_Dense/config.json",
                                        "2_Dense/pytorch_model.bin", "model.safetensors"}));
    // The Transformer saved in 0_Transformer/: its files stand in for root weights.
    EXPECT_EQ(select_model_files("r", {"modules.json", "0_Transformer/config.json", "0_Transformer/model.safetensors",
                                       "0_Transformer/vocab.txt", "0_Transformer/sentence_bert_config.json",
                                       "1_Pooling/config.json"}),
              (std::vector<std::string>{"modules.json", "0_Transformer/config.json", "0_Transformer/vocab.txt",
                                        "0_Transformer/sentence_bert_config.json", "0_Transformer/model.safetensors",
                                        "1_Pooling/config.json"}));
    // Without modules.json nothing in sub-folders is taken, as before.
    EXPECT_EQ(select_model_files("r", {"config.json", "model.safetensors", "1_Pooling/config.json"}),
              (std::vector<std::string>{"config.json", "model.safetensors"}));
}

// The pooling formulas on hand-made inputs with left padding and an all-padding row, where the
// goldens (right padding) cannot reach.
TEST(SentenceTransformers, PoolingHandlesLeftPaddingAndEmptyRows) {
    // [B=2, T=3, H=1]: row 0 left-padded (mask 0 1 1), row 1 all padding.
    const at::Tensor hs = torch::tensor({5.f, 1.f, 3.f, 7.f, 8.f, 9.f}).view({2, 3, 1});
    const at::Tensor mask = torch::tensor({0, 1, 1, 0, 0, 0}).view({2, 3});
    syn::models::SentencePoolingOptions o;
    o.lasttoken = true;
    o.max = true;
    o.weightedmean = true;
    const at::Tensor p = syn::models::sentence_pool(hs, mask, o);  // max, weightedmean, lasttoken
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_FLOAT_EQ(p[0][0].item<float>(), 3.f);                      // max over positions 1, 2
    EXPECT_FLOAT_EQ(p[0][1].item<float>(), (2 * 1.f + 3 * 3.f) / 5);  // weights = positions 2, 3
    EXPECT_FLOAT_EQ(p[0][2].item<float>(), 3.f);                      // last non-pad token
    EXPECT_FLOAT_EQ(p[1][0].item<float>(), -1e9f);                    // sentence-transformers' fill value
    EXPECT_FLOAT_EQ(p[1][1].item<float>(), 0.f);
    EXPECT_FLOAT_EQ(p[1][2].item<float>(), 0.f);  // no token: zeros
}
