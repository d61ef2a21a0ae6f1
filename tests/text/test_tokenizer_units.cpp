// Tokenizer behaviour beyond the golden cases: bad input (invalid UTF-8, NUL bytes, CESU-8
// surrogates, empty and 1 MB texts), unsupported tokenizer.json components, truncation of pairs,
// padding, id <-> token and decode, and the Unicode helpers.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/io/errors.h"
#include "core/text/split_regex.h"
#include "core/text/tokenizer.h"
#include "core/text/unicode_utils.h"
#include "tests/support/shared_paths.h"
#include "tests/text/tokenizer_cases.h"

namespace {

namespace fs = std::filesystem;
using syn::text::EncodeOptions;
using syn::text::Tokenizer;

std::unique_ptr<Tokenizer> fixture(const std::string& name) {
    return syn::text::load_tokenizer(syn::test::tokenizer_fixtures_dir() + "/" + name);
}

const char* const kFamilies[] = {"bert-base-uncased", "bert-base-cased", "roberta", "clip"};

// ---------------------------------------------------------------------------------------------
// Unicode helpers

TEST(UnicodeUtils, SanitizeReplacesEachMaximalIllFormedSubpart) {
    namespace u = syn::text::unicode;
    std::string out;
    EXPECT_TRUE(u::sanitize_utf8("caf\xC3\xA9", out));
    EXPECT_FALSE(u::sanitize_utf8("a\xFF" "b", out));
    EXPECT_EQ(out, "a\xEF\xBF\xBD" "b");
    // CESU-8 surrogate ED A0 80: three ill-formed bytes, three replacements (as Python does).
    EXPECT_FALSE(u::sanitize_utf8("\xED\xA0\x80", out));
    EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    // A truncated 3-byte sequence is one maximal subpart.
    EXPECT_FALSE(u::sanitize_utf8("x\xE2\x82", out));
    EXPECT_EQ(out, "x\xEF\xBF\xBD");
    // Overlong encodings are ill-formed.
    EXPECT_FALSE(u::sanitize_utf8("\xC0\xAF", out));
    EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(UnicodeUtils, NormalisationAndCaseGoThroughUtf8proc) {
    namespace u = syn::text::unicode;
    EXPECT_EQ(u::nfc("e\xCC\x81"), "\xC3\xA9");
    EXPECT_EQ(u::nfd("\xC3\xA9"), "e\xCC\x81");
    EXPECT_EQ(u::lowercase("\xC3\x85NGSTR\xC3\x96M"), "\xC3\xA5ngstr\xC3\xB6m");
    EXPECT_EQ(u::lowercase("\xC4\xB0"), "i\xCC\x87");  // U+0130 -> i + combining dot, as Rust does
    EXPECT_EQ(u::nfc(std::string("a\0b", 3)), std::string("a\0b", 3));  // NUL survives
    EXPECT_TRUE(u::is_punctuation_bert('$'));  // ASCII symbol counted as punctuation by BERT
    EXPECT_TRUE(u::is_punctuation_bert(0x00AB));  // « (Pi)
    EXPECT_FALSE(u::is_punctuation_bert(0x20AC));  // € is Sc, not P*
    EXPECT_TRUE(u::is_whitespace(0x3000));
    EXPECT_FALSE(u::is_whitespace(0x200B));  // zero width space is Cf
    EXPECT_TRUE(u::is_control_bert(0x200B));
}

TEST(SplitRegex, WhitespaceClassIsOnigurumasNotPcre2s) {
    // U+180E MONGOLIAN VOWEL SEPARATOR: PCRE2's \s matches it, Oniguruma's (HF's) does not.
    syn::text::SplitRegex re("\\s+", "test");
    int matches = 0;
    re.find_all("a\xE1\xA0\x8E" "b c", [&](size_t, size_t) { ++matches; });
    EXPECT_EQ(matches, 1);
    EXPECT_THROW(syn::text::SplitRegex("(unclosed", "test"), syn::Error);
}

// ---------------------------------------------------------------------------------------------
// Bad input: no crash, no hang, the documented result.

TEST(TokenizerBadInput, InvalidUtf8IsReplacedWithU_FFFD) {
    SYN_REQUIRE_SHARED();
    for (const char* name : kFamilies) {
        auto tok = fixture(name);
        EncodeOptions plain;
        auto bad = tok->encode("caf\xC3 au lait \xFF\xFE end");
        auto replaced = tok->encode("caf\xEF\xBF\xBD au lait \xEF\xBF\xBD\xEF\xBF\xBD end");
        EXPECT_EQ(bad.ids, replaced.ids) << name;
        // Surrogates in CESU-8 (an unpaired U+D800) are three invalid bytes.
        EXPECT_EQ(tok->encode("x\xED\xA0\x80y").ids, tok->encode("x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy").ids) << name;
    }
}

TEST(TokenizerBadInput, EmptyTextGivesOnlySpecialTokens) {
    SYN_REQUIRE_SHARED();
    EXPECT_EQ(fixture("bert-base-uncased")->encode("").ids, (std::vector<int32_t>{101, 102}));
    EXPECT_EQ(fixture("roberta")->encode("").ids, (std::vector<int32_t>{0, 2}));
    EXPECT_EQ(fixture("clip")->encode("").ids, (std::vector<int32_t>{49406, 49407}));
    EncodeOptions no_special;
    no_special.add_special_tokens = false;
    for (const char* name : kFamilies) EXPECT_TRUE(fixture(name)->encode("", no_special).ids.empty()) << name;
}

TEST(TokenizerBadInput, NulBytesAreTextNotTerminators) {
    SYN_REQUIRE_SHARED();
    const std::string with_nul("dog\0cat", 7);
    // BERT's cleaning drops NUL; the byte-level BPEs keep it as byte 0.
    EXPECT_EQ(fixture("bert-base-uncased")->encode(with_nul).ids, fixture("bert-base-uncased")->encode("dogcat").ids);
    auto roberta = fixture("roberta");
    EXPECT_GT(roberta->encode(with_nul).ids.size(), roberta->encode("dogcat").ids.size());
    auto clip = fixture("clip");
    EXPECT_NO_THROW(clip->encode(with_nul));
    EXPECT_NO_THROW(clip->encode(std::string(1000, '\0')));
}

TEST(TokenizerBadInput, OneMegabyteTextsFinish) {
    SYN_REQUIRE_SHARED();
    const std::string one_word(1 << 20, 'a');
    std::string mixed;  // filled below
    while (mixed.size() < (1 << 20)) mixed += "The quick brown fox, 123 jumps! \xC3\xA9t\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC ";
    std::string spaces(1 << 20, ' ');
    std::string random_bytes(1 << 20, '\0');
    uint32_t x = 12345;
    for (char& c : random_bytes) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
    for (const char* name : kFamilies) {
        auto tok = fixture(name);
        for (const std::string* text : std::vector<const std::string*>{&one_word, &mixed, &spaces, &random_bytes}) {
            syn::text::Encoding e;
            ASSERT_NO_THROW(e = tok->encode(*text)) << name;
            EXPECT_EQ(e.ids.size(), e.attention_mask.size());
            EncodeOptions cut;
            cut.max_length = 77;
            EXPECT_LE(tok->encode(*text, cut).ids.size(), 77u) << name;
        }
        // One 1 MB word: WordPiece gives [UNK] (over 100 characters); BPE merges it in O(n log n).
        auto e = tok->encode(one_word, EncodeOptions{false, 0, false});
        if (tok->family() == "wordpiece") EXPECT_EQ(e.ids.size(), 1u) << name;
        else EXPECT_LT(e.ids.size(), one_word.size() / 2) << name;
    }
}

// A 3,000-word line and a 1 MB line, cut to the tokenizer's model_max_length (what the jobs pass as
// max_length): bounded length, the closing special token kept, the cut counted, bounded time.
// (SentencePiece: tests/text/test_sentencepiece.cpp, same cases.)
TEST(TokenizerBadInput, LongTextsAreTruncatedToModelMaxLength) {
    SYN_REQUIRE_SHARED();
    std::string words;
    for (int i = 0; i < 3000; ++i) words += (i % 3 == 0 ? "kite " : i % 3 == 1 ? "field " : "surfboard ");
    std::string megabyte;
    while (megabyte.size() < (1u << 20)) megabyte += "A man is flying a kite in a field. ";
    for (const char* name : kFamilies) {
        auto tok = fixture(name);
        const int limit = tok->model_max_length();
        ASSERT_GT(limit, 0) << name;
        EncodeOptions opt;
        opt.max_length = limit;
        const auto reference_end = tok->encode("a").ids.back();
        for (const std::string* text : {&words, &megabyte}) {
            const auto start = std::chrono::steady_clock::now();
            const auto e = tok->encode(*text, opt);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            EXPECT_EQ(e.ids.size(), static_cast<size_t>(limit)) << name;
            EXPECT_EQ(e.ids.back(), reference_end) << name << ": closing special token kept";
            EXPECT_GT(e.truncated, 1000) << name;
            EXPECT_LT(seconds, 30.0) << name << ": " << text->size() << " bytes";
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loader errors

fs::path temp_folder(const std::string& tag) {
    fs::path p = fs::temp_directory_path() / ("syn_tok_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

std::string with_replaced(const std::string& text, const std::string& from, const std::string& to) {
    std::string s = text;
    size_t pos = s.find(from);
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
}

// A NUL (or any non-printable byte) in merges.txt / vocab.json is quoted as \x00 in the message,
// never passed through (a NUL cut the message off where it was printed as a C string).
TEST(TokenizerJsonLoader, BadBytesInLegacyFilesAreEscapedInMessages) {
    const fs::path dir = temp_folder("nul_merges");
    { std::ofstream(dir / "vocab.json") << R"({"a": 0, "b": 1, "ab": 2})"; }
    { std::ofstream(dir / "merges.txt", std::ios::binary) << std::string("#version: 0.2\na\0\xff b\n", 19); }
    std::string message;
    try {
        syn::text::load_bpe_vocab_merges((dir / "vocab.json").string(), (dir / "merges.txt").string());
    } catch (const syn::Error& e) {
        message = std::string(e.what());
    }
    EXPECT_NE(message.find("merges.txt line 2: merge 'a\\x00\\xff b' uses a token missing from the vocabulary"),
              std::string::npos) << message;
    EXPECT_EQ(message.find('\0'), std::string::npos);
    // A folder given as merges.txt.
    fs::remove(dir / "merges.txt");
    fs::create_directories(dir / "merges.txt");
    try {
        syn::text::load_bpe_vocab_merges((dir / "vocab.json").string(), (dir / "merges.txt").string());
        ADD_FAILURE() << "no error for a folder";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("merges.txt: is a directory, not a file"), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
}

TEST(TokenizerJsonLoader, UnsupportedComponentsAreNamed) {
    SYN_REQUIRE_SHARED();
    std::ifstream in(syn::test::tokenizer_fixtures_dir() + "/roberta/tokenizer.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto root = temp_folder("unsupported");
    auto expect_error = [&](const std::string& text, const std::string& needle) {
        std::ofstream(root / "tokenizer.json") << text;
        try {
            syn::text::load_tokenizer(root.string());
            ADD_FAILURE() << "no error for " << needle;
        } catch (const syn::Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
        }
    };
    auto parsed = nlohmann::json::parse(json);
    auto edit = [&](auto f) {
        auto j = parsed;
        f(j);
        return j.dump();
    };
    expect_error(edit([](auto& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "_"}}; }),
                 "unsupported pre_tokenizer type 'Metaspace'");
    expect_error(edit([](auto& j) { j["model"]["type"] = "Unigram"; }), "unsupported model type 'Unigram'");
    expect_error(edit([](auto& j) { j["normalizer"] = {{"type", "Precompiled"}}; }),
                 "unsupported normalizer type 'Precompiled'");
    expect_error(edit([](auto& j) { j["post_processor"] = {{"type", "Weird"}}; }),
                 "unsupported post_processor type 'Weird'");
    expect_error(edit([](auto& j) { j["decoder"] = {{"type", "CTC"}}; }), "unsupported decoder type 'CTC'");
    expect_error(edit([](auto& j) { j["model"]["merges"].push_back("notatoken Ġzzzzzz"); }), "merge");
    expect_error("{ not json", "not valid JSON");
    fs::remove_all(root);
}

// ---------------------------------------------------------------------------------------------
// Pairs, truncation, padding, ids, decode

TEST(TokenizerEncoding, BertPairHasSegmentIdsAndTruncatesLongestFirst) {
    SYN_REQUIRE_SHARED();
    auto tok = fixture("bert-base-uncased");
    auto a = tok->encode("a man rides a horse", EncodeOptions{false});
    auto b = tok->encode("a woman is reading a very long book in the park", EncodeOptions{false});
    auto pair = tok->encode_pair("a man rides a horse", "a woman is reading a very long book in the park");
    std::vector<int32_t> want = {101};
    want.insert(want.end(), a.ids.begin(), a.ids.end());
    want.push_back(102);
    size_t first_len = want.size();
    want.insert(want.end(), b.ids.begin(), b.ids.end());
    want.push_back(102);
    EXPECT_EQ(pair.ids, want);
    for (size_t i = 0; i < pair.type_ids.size(); ++i) EXPECT_EQ(pair.type_ids[i], i < first_len ? 0 : 1) << i;

    EncodeOptions cut;
    // 9 content tokens for a (5) and b (11). HF's Rust LongestFirst (not the token-by-token loop of
    // the slow Python tokenizers): n2 = max(n1, 9 - n1) = 5, n1 + n2 > 9, so a gets 9 / 2 = 4 and
    // b gets 5.
    cut.max_length = 12;
    auto t = tok->encode_pair("a man rides a horse", "a woman is reading a very long book in the park", cut);
    EXPECT_EQ(t.ids.size(), 12u);
    EXPECT_EQ(t.ids.back(), 102);
    EXPECT_EQ(t.ids[5], 102);  // [CLS] + 4 + [SEP]
    EXPECT_EQ(t.truncated, 7);
    cut.max_length = 19;  // 16 content tokens fit exactly
    EXPECT_EQ(tok->encode_pair("a man rides a horse", "a woman is reading a very long book in the park", cut).truncated, 0);
    cut.max_length = 17;  // 14 for content: n2 = max(5, 9) = 9, 5 + 9 = 14 fits -> a whole, b cut to 9
    auto u = tok->encode_pair("a man rides a horse", "a woman is reading a very long book in the park", cut);
    EXPECT_EQ(u.ids[6], 102);
    EXPECT_EQ(u.truncated, 2);
    EncodeOptions tiny;
    tiny.max_length = 2;
    EXPECT_THROW(tok->encode_pair("a", "b", tiny), syn::Error);
}

TEST(TokenizerEncoding, RobertaAndClipPairTemplates) {
    SYN_REQUIRE_SHARED();
    auto roberta = fixture("roberta");
    auto p = roberta->encode_pair("Hello", "world");
    ASSERT_GE(p.ids.size(), 6u);
    EXPECT_EQ(p.ids.front(), 0);
    EXPECT_EQ(p.ids.back(), 2);
    // <s> A </s></s> B </s>
    size_t seps = std::count(p.ids.begin(), p.ids.end(), 2);
    EXPECT_EQ(seps, 3u);
    auto clip = fixture("clip");
    auto c = clip->encode("a photo of a cat");
    EXPECT_EQ(c.ids.front(), 49406);
    EXPECT_EQ(c.ids.back(), 49407);
    EXPECT_EQ(clip->model_max_length(), 77);
}

TEST(TokenizerEncoding, TruncationKeepsTheClosingSpecialToken) {
    SYN_REQUIRE_SHARED();
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "word ";
    for (const char* name : kFamilies) {
        auto tok = fixture(name);
        EncodeOptions o;
        o.max_length = 77;
        auto e = tok->encode(long_text, o);
        EXPECT_EQ(e.ids.size(), 77u) << name;
        EXPECT_EQ(e.ids.back(), tok->encode("").ids.back()) << name;
        EXPECT_GT(e.truncated, 0) << name;
    }
}

TEST(TokenizerEncoding, PadBatchLongestAndFixed) {
    SYN_REQUIRE_SHARED();
    auto tok = fixture("bert-base-uncased");
    std::vector<syn::text::Encoding> batch = {tok->encode("a dog"), tok->encode("a dog runs on the beach")};
    syn::text::pad_batch(batch, {syn::text::PaddingMode::Longest, 0}, tok->pad_id(), tok->pad_token());
    ASSERT_EQ(batch[0].ids.size(), batch[1].ids.size());
    EXPECT_EQ(batch[0].ids.back(), 0);
    EXPECT_EQ(batch[0].tokens.back(), "[PAD]");
    EXPECT_EQ(batch[0].attention_mask, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0}));
    EXPECT_EQ(batch[1].attention_mask, std::vector<uint8_t>(8, 1));
    syn::text::pad_batch(batch, {syn::text::PaddingMode::Fixed, 10}, tok->pad_id());
    EXPECT_EQ(batch[1].ids.size(), 10u);
    EXPECT_EQ(batch[1].type_ids.size(), 10u);
    EXPECT_THROW(syn::text::pad_batch(batch, {syn::text::PaddingMode::Fixed, 4}, 0), syn::Error);
    EXPECT_EQ(fixture("roberta")->pad_id(), 1);
    EXPECT_EQ(fixture("clip")->pad_id(), 49407);
}

TEST(TokenizerEncoding, IdsTokensAndDecode) {
    SYN_REQUIRE_SHARED();
    auto bert = fixture("bert-base-uncased");
    EXPECT_EQ(bert->token_to_id("[CLS]"), 101);
    EXPECT_EQ(bert->id_to_token(1037), "a");
    EXPECT_FALSE(bert->token_to_id("no-such-token-xyz").has_value());
    EXPECT_FALSE(bert->id_to_token(-5).has_value());
    EXPECT_EQ(bert->vocab_size(), 30522);
    EXPECT_EQ(bert->decode(bert->encode("A man, riding a horse.").ids), "a man, riding a horse.");
    EXPECT_EQ(bert->decode(bert->encode("unaffable").ids), "unaffable");

    auto roberta = fixture("roberta");
    const std::string text = "Hello world! Café, naïve résumé 😀.";
    EXPECT_EQ(roberta->decode(roberta->encode(text).ids), text);
    EXPECT_EQ(roberta->decode(roberta->encode(text).ids, false), "<s>" + text + "</s>");

    auto clip = fixture("clip");
    EXPECT_EQ(clip->decode(clip->encode("A Photo of  a CAT!").ids), "a photo of a cat !");
}

TEST(TokenizerEncoding, SpecialTokensInRawTextAreMatched) {
    SYN_REQUIRE_SHARED();
    auto bert = fixture("bert-base-uncased");
    EncodeOptions no_special;
    no_special.add_special_tokens = false;
    EXPECT_EQ(bert->encode("a [MASK] b", no_special).ids, (std::vector<int32_t>{1037, 103, 1038}));
    // normalized=false: the lower-cased spelling is plain text.
    EXPECT_NE(bert->encode("[mask]", no_special).ids, (std::vector<int32_t>{103}));
    // RoBERTa's <mask> has lstrip: the space before it belongs to the token.
    auto roberta = fixture("roberta");
    auto ids = roberta->encode("Hello <mask>!", no_special).ids;
    EXPECT_EQ(ids, (std::vector<int32_t>{*roberta->token_to_id("Hello"), 50261, *roberta->token_to_id("!")}));
    auto clip = fixture("clip");
    EXPECT_EQ(clip->encode("<|startoftext|>x", no_special).ids.front(), 49406);
}

}  // namespace
