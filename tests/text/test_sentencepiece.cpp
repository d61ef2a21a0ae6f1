// SentencePiece tokenizer (T5 / SigLIP) against the Hugging Face reference: every line of
// fixtures/tokenizers/t5.cases.jsonl, the input_ids of the tiny-t5-encoder and tiny-siglip goldens,
// hostile inputs, error reporting, and thread safety. This process has no libtorch.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/text/sentencepiece_tokenizer.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using syn::text::EncodeOptions;
using syn::text::Tokenizer;

namespace {

std::string t5_dir() { return syn::test::fixtures_dir() + "/tokenizers/t5"; }

std::unique_ptr<Tokenizer> load_t5() {
    return syn::text::load_sentencepiece_tokenizer(t5_dir() + "/spiece.model", t5_dir());
}

struct Case {
    int line = 0;
    std::string text;
    std::vector<int32_t> ids, ids_no_special, ids_truncated_16;
    std::vector<std::string> tokens;
};

std::vector<Case> read_cases(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    std::vector<Case> cases;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        const auto j = nlohmann::json::parse(line);
        Case c;
        c.line = number;
        c.text = j.at("text").get<std::string>();
        c.ids = j.at("ids").get<std::vector<int32_t>>();
        c.tokens = j.at("tokens").get<std::vector<std::string>>();
        c.ids_no_special = j.at("ids_no_special").get<std::vector<int32_t>>();
        c.ids_truncated_16 = j.at("ids_truncated_16").get<std::vector<int32_t>>();
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string temp_path(const std::string& name) {
    return (fs::temp_directory_path() / ("syn_spm_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

// The rows of an I64 [rows, cols] golden tensor.
std::vector<std::vector<int64_t>> int_rows(const syn::RawTensor& t) {
    EXPECT_EQ(t.dtype, syn::DType::I64);
    EXPECT_EQ(t.shape.size(), 2u);
    std::vector<std::vector<int64_t>> rows(static_cast<size_t>(t.shape[0]));
    const auto* data = reinterpret_cast<const int64_t*>(t.data);
    for (int64_t r = 0; r < t.shape[0]; ++r)
        rows[r].assign(data + r * t.shape[1], data + (r + 1) * t.shape[1]);
    return rows;
}

std::vector<std::string> golden_texts(const std::string& folder) {
    std::ifstream in(folder + "/golden.json");
    return nlohmann::json::parse(in).at("texts").get<std::vector<std::string>>();
}

}  // namespace

TEST(SentencePiece, LoadsThroughTheShim) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    EXPECT_EQ(tok->family(), "sentencepiece");
    EXPECT_EQ(tok->vocab_size(), 32100);  // 32,000 pieces + 100 sentinels, as len(T5Tokenizer)
    EXPECT_EQ(tok->pad_id(), 0);
    EXPECT_EQ(tok->token_to_id("</s>"), 1);
    EXPECT_EQ(tok->token_to_id("<unk>"), 2);
    EXPECT_EQ(tok->token_to_id("▁man"), 388);
    EXPECT_EQ(tok->token_to_id("<extra_id_0>"), 32099);
    EXPECT_EQ(tok->token_to_id("<extra_id_99>"), 32000);
    EXPECT_FALSE(tok->token_to_id("definitely-not-a-piece").has_value());
    EXPECT_EQ(tok->id_to_token(388), "▁man");
    EXPECT_EQ(tok->id_to_token(32099), "<extra_id_0>");
    EXPECT_FALSE(tok->id_to_token(32100).has_value());
    EXPECT_FALSE(tok->id_to_token(-1).has_value());
    const std::string how = syn::text::sentencepiece_shim_description();
    EXPECT_NE(how.find("libsyn_spm_shim.so"), std::string::npos) << how;
    std::printf("shim: %s\n", how.c_str());
}

// The data-driven parity test: every line of the case file, all three encodings, exactly.
TEST(SentencePiece, MatchesHuggingFaceCases) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    const auto cases = read_cases(syn::test::fixtures_dir() + "/tokenizers/t5.cases.jsonl");
    ASSERT_GT(cases.size(), 100u);
    int mismatches = 0;
    for (const auto& c : cases) {
        const auto full = tok->encode(c.text);
        EncodeOptions no_special;
        no_special.add_special_tokens = false;
        EncodeOptions truncated;
        truncated.max_length = 16;
        const auto plain = tok->encode(c.text, no_special);
        const auto cut = tok->encode(c.text, truncated);
        const bool ok = full.ids == c.ids && full.tokens == c.tokens && plain.ids == c.ids_no_special &&
                        cut.ids == c.ids_truncated_16;
        if (!ok && ++mismatches <= 5)
            ADD_FAILURE() << "t5.cases.jsonl line " << c.line << ": " << c.text;
        EXPECT_EQ(full.ids.size(), full.type_ids.size());
        EXPECT_EQ(full.ids.size(), full.attention_mask.size());
        EXPECT_EQ(cut.truncated, static_cast<int>(c.ids_no_special.size() + 1 - c.ids_truncated_16.size()));
    }
    EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " cases";
}

TEST(SentencePiece, TruncationKeepsEosAndPairsAreAEosBEos) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    EncodeOptions opt;
    opt.max_length = 4;
    const auto e = tok->encode("A man is flying a kite in a field", opt);
    EXPECT_EQ(e.ids, (std::vector<int32_t>{71, 388, 19, 1}));
    EXPECT_EQ(e.truncated, 9);

    const auto pair = tok->encode_pair("A man", "a field");
    EXPECT_EQ(pair.ids, (std::vector<int32_t>{71, 388, 1, 3, 9, 1057, 1}));
    EXPECT_EQ(pair.type_ids, std::vector<int32_t>(7, 0));
    opt.max_length = 6;  // budget 4: longest-first, the first sequence wins a tie
    const auto cut = tok->encode_pair("A man is flying", "a field", opt);
    EXPECT_EQ(cut.ids, (std::vector<int32_t>{71, 388, 1, 3, 9, 1}));
}

TEST(SentencePiece, SentinelsAndSpecialTokensInText) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    const auto e = tok->encode("A man <extra_id_0> a field</s>");
    EXPECT_EQ(e.ids, (std::vector<int32_t>{71, 388, 32099, 3, 9, 1057, 1, 1}));
    EXPECT_EQ(e.tokens[2], "<extra_id_0>");
    // Decode as the fast tokenizer: specials skipped by default, kept on request.
    EXPECT_EQ(tok->decode(e.ids), "A man a field");
    EXPECT_EQ(tok->decode(e.ids, false), "A man<extra_id_0> a field</s></s>");
    EXPECT_THROW(tok->decode({71, 999999}), syn::Error);
}

TEST(SentencePiece, HostileInputsDoNotCrash) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    EXPECT_EQ(tok->encode("").ids, (std::vector<int32_t>{1}));
    const std::string invalid_utf8 = "abc\xff\xfe\xc3(\xe2\x82 tail \x80";
    const auto bad = tok->encode(invalid_utf8);
    EXPECT_EQ(bad.ids.back(), 1);
    EXPECT_GT(bad.ids.size(), 2u);
    const std::string with_nul("before\0after\0\0 end", 18);
    const auto nul = tok->encode(with_nul);
    EXPECT_EQ(nul.ids.back(), 1);
    EXPECT_GT(nul.ids.size(), 3u);
    std::string big;
    while (big.size() < (1u << 20)) big += "A man is flying a kite in a field. ";
    const auto large = tok->encode(big);
    EXPECT_GT(large.ids.size(), 100000u);
    EXPECT_EQ(large.ids.back(), 1);
    EncodeOptions opt;
    opt.max_length = 64;
    EXPECT_EQ(tok->encode(big, opt).ids.size(), 64u);
    std::string all_bytes;
    for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
    EXPECT_EQ(tok->encode(all_bytes).ids.back(), 1);
}

TEST(SentencePiece, MissingOrCorruptModelIsAnErrorNamingTheFile) {
    SYN_REQUIRE_SHARED();
    const std::string missing = temp_path("missing.model");
    try {
        syn::text::load_sentencepiece_tokenizer(missing, "");
        FAIL() << "no error for a missing model";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
    const std::string corrupt = temp_path("corrupt.model");
    write_file(corrupt, "this is not a protobuf \x01\x02\x03\xff\xff\xff\xff");
    try {
        syn::text::load_sentencepiece_tokenizer(corrupt, "");
        FAIL() << "no error for a corrupt model";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find(corrupt), std::string::npos) << e.what();
    }
    // A truncated real model.
    std::ifstream in(t5_dir() + "/spiece.model", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_file(corrupt, bytes.substr(0, bytes.size() / 3));
    EXPECT_THROW(syn::text::load_sentencepiece_tokenizer(corrupt, ""), syn::Error);
    write_file(corrupt, "");
    EXPECT_THROW(syn::text::load_sentencepiece_tokenizer(corrupt, ""), syn::Error);
    std::remove(corrupt.c_str());
}

TEST(SentencePiece, BadTokenizerConfigIsAnErrorNamingTheFile) {
    SYN_REQUIRE_SHARED();
    const std::string folder = temp_path("cfg");
    fs::create_directories(folder);
    write_file(folder + "/tokenizer_config.json", "{\"extra_ids\": \"many\"");
    try {
        syn::text::load_sentencepiece_tokenizer(t5_dir() + "/spiece.model", folder);
        FAIL() << "no error for invalid JSON";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    }
    write_file(folder + "/tokenizer_config.json", "{\"eos_token\": \"<no-such-token>\", \"extra_ids\": 0}");
    // An eos that is not in the vocabulary becomes a new added token, as Hugging Face adds it.
    auto tok = syn::text::load_sentencepiece_tokenizer(t5_dir() + "/spiece.model", folder);
    EXPECT_EQ(tok->vocab_size(), 32001);
    EXPECT_EQ(tok->encode("a").ids, (std::vector<int32_t>{3, 9, 32000}));
    fs::remove_all(folder);
}

TEST(SentencePiece, MultithreadedEncodeEqualsSingleThread) {
    SYN_REQUIRE_SHARED();
    auto tok = load_t5();
    const auto cases = read_cases(syn::test::fixtures_dir() + "/tokenizers/t5.cases.jsonl");
    std::vector<std::vector<int32_t>> expected;
    for (const auto& c : cases) expected.push_back(tok->encode(c.text).ids);
    const int threads = 8;
    std::vector<int> mismatches(threads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int round = 0; round < 5; ++round)
                for (size_t i = t; i < cases.size() + t; ++i) {
                    const size_t k = i % cases.size();
                    if (tok->encode(cases[k].text).ids != expected[k]) ++mismatches[t];
                }
        });
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// The model folders' goldens: unpadded ids equal the golden rows up to their padding.
TEST(SentencePiece, TinyT5AndSiglipGoldenInputIds) {
    SYN_REQUIRE_SHARED();
    for (const std::string name : {"tiny-t5-encoder", "tiny-siglip"}) {
        const std::string folder = syn::test::fixtures_dir() + "/models/" + name;
        auto tok = syn::text::load_sentencepiece_tokenizer(folder + "/spiece.model", folder);
        const auto golden = syn::read_safetensors(folder + "/golden.safetensors");
        const auto rows = int_rows(golden.tensors.at("input_ids"));
        const auto texts = golden_texts(folder);
        ASSERT_EQ(rows.size(), texts.size()) << name;
        for (size_t i = 0; i < texts.size(); ++i) {
            EncodeOptions opt;
            opt.max_length = static_cast<int>(rows[i].size());  // truncation on, as the goldens
            auto ids = tok->encode(texts[i], opt).ids;
            std::vector<int64_t> padded(ids.begin(), ids.end());
            padded.resize(rows[i].size(), tok->pad_id());
            EXPECT_EQ(padded, rows[i]) << name << " text " << i << ": " << texts[i];
        }
    }
}

// SigLIP's own tokenizer class (big_vision canonicalisation): lower case, no punctuation,
// collapsed whitespace, pad = "</s>".
TEST(SentencePiece, SiglipTokenizerCanonicalisesText) {
    SYN_REQUIRE_SHARED();
    const std::string folder = temp_path("siglip");
    fs::create_directories(folder);
    write_file(folder + "/tokenizer_config.json", R"({"tokenizer_class": "SiglipTokenizer", "model_max_length": 64})");
    auto siglip = syn::text::load_sentencepiece_tokenizer(t5_dir() + "/spiece.model", folder);
    auto t5 = load_t5();
    EXPECT_EQ(siglip->pad_id(), 1);
    EXPECT_EQ(siglip->vocab_size(), 32000);
    const auto canon = siglip->encode("  A MAN, is flying... a KITE!  ").ids;
    EXPECT_EQ(canon, t5->encode("a man is flying a kite").ids);
    EXPECT_EQ(siglip->encode("Hello\t\n  World").ids, t5->encode("hello world").ids);
    EXPECT_EQ(siglip->encode("").ids, (std::vector<int32_t>{1}));
    fs::remove_all(folder);
}

// Hostile lengths: a 3,000-word line and a 1 MB line are cut to tokenizer_config.json's
// model_max_length (what the embedding job passes as max_length), the closing </s> kept, and the
// cut counted in Encoding::truncated; a 1 MB text encodes in bounded time.
TEST(SentencePiece, LongTextsAreTruncatedToModelMaxLength) {
    SYN_REQUIRE_SHARED();
    std::string words;
    for (int i = 0; i < 3000; ++i) words += (i % 2 ? "kite " : "field ");
    std::string megabyte;
    while (megabyte.size() < (1u << 20)) megabyte += "A man is flying a kite in a field. ";
    for (const std::string folder : {t5_dir(), syn::test::fixtures_dir() + "/models/tiny-siglip"}) {
        auto tok = syn::text::load_sentencepiece_tokenizer(folder + "/spiece.model", folder);
        ASSERT_EQ(tok->model_max_length(), 512) << folder;
        EncodeOptions opt;
        opt.max_length = tok->model_max_length();
        for (const std::string* text : {&words, &megabyte}) {
            const auto start = std::chrono::steady_clock::now();
            const auto e = tok->encode(*text, opt);
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            EXPECT_EQ(e.ids.size(), 512u) << folder;
            EXPECT_EQ(e.ids.back(), 1) << folder;  // </s> kept
            EXPECT_EQ(e.attention_mask.size(), 512u);
            EXPECT_GT(e.truncated, 0) << folder;
            EXPECT_LT(seconds, 30.0) << folder << ": " << text->size() << " bytes";
        }
        // The reference: the same line truncated with truncation=True, max_length=16.
        opt.max_length = 16;
        const auto cut = tok->encode(words, opt);
        EXPECT_EQ(cut.ids.size(), 16u);
        const auto content = tok->encode(words, EncodeOptions{false, 0, false}).ids.size();
        EXPECT_EQ(cut.truncated, static_cast<int>(content) - 15) << folder;
    }
    // "no limit" (HF's 1e30) is no limit, not an overflow.
    const std::string folder = temp_path("nolimit");
    fs::create_directories(folder);
    write_file(folder + "/tokenizer_config.json", R"({"model_max_length": 1000000000000000019884624838656})");
    EXPECT_EQ(syn::text::load_sentencepiece_tokenizer(t5_dir() + "/spiece.model", folder)->model_max_length(), 0);
    fs::remove_all(folder);
}

TEST(SentencePiece, FolderGivenAsTheModelIsNamed) {
    const std::string folder = temp_path("spiece.model");
    fs::create_directories(folder);
    try {
        syn::text::load_sentencepiece_tokenizer(folder, "");
        ADD_FAILURE() << "no error for a folder";
    } catch (const syn::Error& e) {
        EXPECT_EQ(std::string(e.what()), folder + ": is a directory, not a file");
    }
    fs::remove_all(folder);
}
