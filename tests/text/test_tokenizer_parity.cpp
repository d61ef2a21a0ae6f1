// Hugging Face parity: every line of ../shared/fixtures/tokenizers/*.cases.jsonl, encoded by the
// tokenizer folder of the same name, must give HF's ids (with and without special tokens, and
// truncated to 16). One test per case file, found by listing the folder: a new case file is a new
// test. The legacy vocabulary files of ../shared/vocab must give the same ids as tokenizer.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/text/tokenizer.h"
#include "tests/support/shared_paths.h"
#include "tests/text/tokenizer_cases.h"

namespace {

using syn::test::check_cases;
using syn::test::read_tokenizer_cases;
using syn::test::tokenizer_fixtures_dir;
namespace fs = std::filesystem;

class TokenizerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerParity, EveryCaseMatchesHuggingFace) {
    SYN_REQUIRE_SHARED();
    const std::string name = GetParam();
    auto tok = syn::text::load_tokenizer(tokenizer_fixtures_dir() + "/" + name);
    auto cases = read_tokenizer_cases(tokenizer_fixtures_dir() + "/" + name + ".cases.jsonl");
    ASSERT_FALSE(cases.empty());
    int mismatches = 0;
    std::string report = check_cases(*tok, cases, mismatches);
    EXPECT_EQ(mismatches, 0) << name << " (" << tok->family() << "): " << mismatches << " of " << cases.size()
                             << " cases differ; first ones:\n" << report;
}

// Several threads encoding all cases at once see exactly what one thread sees (the BPE cache and
// the per-thread regex scratch are shared state).
TEST_P(TokenizerParity, ConcurrentEncodingGivesTheSameIds) {
    SYN_REQUIRE_SHARED();
    const std::string name = GetParam();
    auto tok = syn::text::load_tokenizer(tokenizer_fixtures_dir() + "/" + name);
    auto cases = read_tokenizer_cases(tokenizer_fixtures_dir() + "/" + name + ".cases.jsonl");
    std::vector<std::vector<int32_t>> single;
    for (const auto& c : cases) single.push_back(tok->encode(c.text).ids);

    constexpr int kThreads = 6;
    std::vector<int> differences(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    // A fresh tokenizer, so that the threads race to fill an empty cache.
    auto fresh = syn::text::load_tokenizer(tokenizer_fixtures_dir() + "/" + name);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                for (int round = 0; round < 3; ++round)
                    for (size_t k = 0; k < cases.size(); ++k) {
                        size_t i = (k * 7 + static_cast<size_t>(t) * 13) % cases.size();  // different orders
                        if (fresh->encode(cases[i].text).ids != single[i]) ++differences[static_cast<size_t>(t)];
                    }
            } catch (const std::exception& e) {
                errors[static_cast<size_t>(t)] = e.what();
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(differences[static_cast<size_t>(t)], 0) << "thread " << t;
        EXPECT_EQ(errors[static_cast<size_t>(t)], "") << "thread " << t;
    }
}

std::vector<std::string> case_names_or_placeholder() {
    auto names = syn::test::tokenizer_case_names();
    return names;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string s;
    for (char c : info.param) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerParity, ::testing::ValuesIn(case_names_or_placeholder()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TokenizerParity);

TEST(TokenizerParityFixtures, CaseFilesArePresent) {
    SYN_REQUIRE_SHARED();
    auto names = syn::test::tokenizer_case_names();
    EXPECT_GE(names.size(), 4u) << "expected the bert/roberta/clip/t5 case files in " << tokenizer_fixtures_dir();
    for (const char* n : {"bert-base-uncased", "bert-base-cased", "roberta", "clip"})
        EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

// ---------------------------------------------------------------------------------------------
// Legacy files (../shared/vocab) against the same cases.

std::string vocab_dir() { return syn::test::shared_dir() + "/vocab"; }

void expect_cases_match(const syn::text::Tokenizer& tok, const std::string& cases_name) {
    auto cases = read_tokenizer_cases(tokenizer_fixtures_dir() + "/" + cases_name + ".cases.jsonl");
    int mismatches = 0;
    std::string report = check_cases(tok, cases, mismatches);
    EXPECT_EQ(mismatches, 0) << cases_name << ": " << mismatches << " of " << cases.size() << " differ:\n" << report;
}

TEST(LegacyTokenizerFiles, BertVocabTxtUncasedMatchesTokenizerJson) {
    SYN_REQUIRE_SHARED();
    auto tok = syn::text::load_wordpiece_vocab(vocab_dir() + "/bert-base-uncased-vocab.txt", true);
    EXPECT_EQ(tok->family(), "wordpiece");
    expect_cases_match(*tok, "bert-base-uncased");
}

TEST(LegacyTokenizerFiles, BertVocabTxtCasedMatchesTokenizerJson) {
    SYN_REQUIRE_SHARED();
    auto tok = syn::text::load_wordpiece_vocab(vocab_dir() + "/bert-base-cased-vocab.txt", false);
    expect_cases_match(*tok, "bert-base-cased");
}

TEST(LegacyTokenizerFiles, RobertaVocabAndMergesMatchTokenizerJson) {
    SYN_REQUIRE_SHARED();
    auto tok = syn::text::load_bpe_vocab_merges(vocab_dir() + "/roberta-vocab-reconstructed.json",
                                                vocab_dir() + "/roberta-merges.txt");
    EXPECT_EQ(tok->family(), "bytelevel-bpe");
    expect_cases_match(*tok, "roberta");
}

TEST(LegacyTokenizerFiles, ClipBpeGzMatchesTokenizerJson) {
    SYN_REQUIRE_SHARED();
    auto tok = syn::text::load_clip_bpe_gz(vocab_dir() + "/bpe_simple_vocab_16e6.txt.gz");
    EXPECT_EQ(tok->family(), "clip-bpe");
    EXPECT_EQ(tok->vocab_size(), 49408);
    EXPECT_EQ(tok->model_max_length(), 77);
    expect_cases_match(*tok, "clip");
    // Same vocabulary as the tokenizer.json, id for id.
    auto json_tok = syn::text::load_tokenizer(tokenizer_fixtures_dir() + "/clip");
    for (int32_t id = 0; id < 49408; id += 97) EXPECT_EQ(tok->id_to_token(id), json_tok->id_to_token(id)) << id;
}

TEST(LegacyTokenizerFiles, Gpt2EncoderAndVocabBpe) {
    SYN_REQUIRE_SHARED();
    auto tok = syn::text::load_bpe_vocab_merges(vocab_dir() + "/gpt2-encoder.json", vocab_dir() + "/gpt2-vocab.bpe");
    // GPT-2 adds no special tokens; "Hello world" is 15496, 995 in every GPT-2 vocabulary.
    EXPECT_EQ(tok->encode("Hello world").ids, (std::vector<int32_t>{15496, 995}));
    EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 50256);
    // GPT-2 and RoBERTa share merges; RoBERTa's content ids are a permutation of GPT-2's, so the
    // token strings agree on every case, except texts that contain one of RoBERTa's added tokens
    // (<s>, </s>, <mask>, ...): RoBERTa matches those whole, GPT-2 has none. Those cases are left
    // out, by the added tokens the fixture's tokenizer.json declares, so any valid case file holds.
    const std::string roberta_dir = tokenizer_fixtures_dir() + "/roberta";
    std::vector<std::string> added;
    {
        std::ifstream in(roberta_dir + "/tokenizer.json");
        const nlohmann::json json = nlohmann::json::parse(in);
        for (const auto& t : json.at("added_tokens")) added.push_back(t.at("content").get<std::string>());
    }
    ASSERT_FALSE(added.empty());
    auto roberta = syn::text::load_tokenizer(roberta_dir);
    auto cases = read_tokenizer_cases(tokenizer_fixtures_dir() + "/roberta.cases.jsonl");
    syn::text::EncodeOptions no_special;
    no_special.add_special_tokens = false;
    int compared = 0;
    for (const auto& c : cases) {
        if (std::any_of(added.begin(), added.end(), [&](const std::string& a) { return c.text.find(a) != std::string::npos; }))
            continue;
        ++compared;
        EXPECT_EQ(tok->encode(c.text, no_special).tokens, roberta->encode(c.text, no_special).tokens) << c.text;
    }
    EXPECT_GE(compared, static_cast<int>(cases.size()) / 2) << "too few cases without added tokens to compare";
}

// load_tokenizer() on folders that hold only legacy files (links into ../shared/vocab in a temp dir).
TEST(LegacyTokenizerFiles, LoadTokenizerPicksLegacyFilesFromAFolder) {
    SYN_REQUIRE_SHARED();
    const fs::path root = fs::temp_directory_path() / ("syn_tok_legacy_" + std::to_string(::getpid()));
    fs::remove_all(root);
    auto make = [&](const std::string& name, std::vector<std::pair<std::string, std::string>> links,
                    const std::string& config) {
        fs::create_directories(root / name);
        for (auto& [from, to] : links) fs::create_symlink(vocab_dir() + "/" + from, root / name / to);
        if (!config.empty()) std::ofstream(root / name / "tokenizer_config.json") << config;
        return (root / name).string();
    };
    std::string bert = make("bert", {{"bert-base-cased-vocab.txt", "vocab.txt"}}, R"({"do_lower_case": false})");
    std::string roberta = make("roberta", {{"roberta-vocab-reconstructed.json", "vocab.json"},
                                           {"roberta-merges.txt", "merges.txt"}}, "");
    std::string clip = make("clip", {{"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt.gz"}}, "");
    expect_cases_match(*syn::text::load_tokenizer(bert), "bert-base-cased");
    expect_cases_match(*syn::text::load_tokenizer(roberta), "roberta");
    expect_cases_match(*syn::text::load_tokenizer(clip), "clip");
    EXPECT_THROW(syn::text::load_tokenizer(make("empty", {}, "")), syn::Error);
    fs::remove_all(root);
}

// The model folders of fixtures/models carry their own tokenizer.json (with padding/truncation
// settings): they must tokenize golden.json's texts as the matching fixture tokenizer does.
// (The golden input_ids themselves are in golden.safetensors, checked by the model tests.)
TEST(ModelFolderTokenizers, MatchTheFixtureTokenizers) {
    SYN_REQUIRE_SHARED();
    const std::pair<const char*, const char*> pairs[] = {
        {"tiny-bert", "bert-base-uncased"}, {"tiny-roberta", "roberta"}, {"tiny-clip", "clip"}};
    for (auto [model, fixture] : pairs) {
        const std::string folder = syn::test::fixtures_dir() + "/models/" + model;
        if (!fs::exists(folder + "/golden.json")) continue;
        auto tok = syn::text::load_tokenizer(folder);
        auto ref = syn::text::load_tokenizer(tokenizer_fixtures_dir() + "/" + fixture);
        std::ifstream in(folder + "/golden.json");
        auto golden = nlohmann::json::parse(in);
        for (const auto& t : golden.at("texts")) {
            std::string text = t.get<std::string>();
            EXPECT_EQ(tok->encode(text).ids, ref->encode(text).ids) << model << ": " << text;
        }
        EXPECT_EQ(tok->pad_id(), ref->pad_id()) << model;
    }
}

}  // namespace
