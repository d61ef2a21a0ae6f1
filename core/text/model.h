#pragma once
// The tokenization models of tokenizer.json: WordPiece and BPE (byte-level or not). A model turns
// one pre-tokenized piece into vocabulary ids.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/text/vocab.h"

namespace syn::text {

class Model {
public:
    virtual ~Model() = default;
    // Appends the ids of `word` (valid UTF-8, or raw bytes for a byte-level BPE) to `ids`.
    virtual void tokenize(std::string_view word, std::vector<int32_t>& ids) const = 0;
    const Vocab& vocab() const { return vocab_; }
    Vocab& vocab() { return vocab_; }

protected:
    Vocab vocab_;
};

class WordPieceModel : public Model {
public:
    WordPieceModel(std::string unk_token, std::string prefix, int max_input_chars_per_word);
    // Resolves the unknown token's id; call once the vocabulary is filled. Throws when absent.
    void finalize(const std::string& origin);
    void tokenize(std::string_view word, std::vector<int32_t>& ids) const override;
    const std::string& prefix() const { return prefix_; }

private:
    std::string unk_token_;
    std::string prefix_;
    int max_chars_;
    int32_t unk_id_ = -1;
};

// Byte-pair encoding with merge ranks, applied the way HF's `Word::merge_all` does (a priority
// queue of (rank, position), so a long word costs O(n log n), never O(n^2)). Results of words
// shorter than kMaxCachedBytes are kept in a sharded, mutex-guarded cache.
class BpeModel : public Model {
public:
    struct Options {
        std::string unk_token;  // empty: none
        std::string continuing_subword_prefix;
        std::string end_of_word_suffix;
        bool fuse_unk = false;
        bool ignore_merges = false;
        bool byte_level = false;  // words arrive as raw bytes and are mapped by GPT-2's byte table
    };
    explicit BpeModel(Options options);
    ~BpeModel() override;
    // Adds one merge "left right" in rank order. Throws syn::Error naming `origin` when a part or
    // the merged token is missing from the vocabulary.
    void add_merge(std::string_view left, std::string_view right, const std::string& origin);
    // Call after the vocabulary and merges are in.
    void finalize(const std::string& origin);
    void tokenize(std::string_view word, std::vector<int32_t>& ids) const override;
    const Options& options() const { return options_; }
    size_t merge_count() const { return merge_count_; }

    static constexpr size_t kMaxCachedBytes = 256;

private:
    struct MergeSlot {
        uint64_t key = ~0ull;
        int32_t rank = 0;
        int32_t new_id = 0;
    };
    const MergeSlot* find_merge(int32_t left, int32_t right) const;
    void insert_merge(uint64_t key, int32_t rank, int32_t new_id);
    void initial_symbols(std::string_view word, std::vector<int32_t>& symbols) const;
    void merge_word(std::vector<int32_t>& symbols) const;

    Options options_;
    std::vector<MergeSlot> merges_;  // open addressing on (left << 32 | right)
    size_t merge_count_ = 0;
    int32_t unk_id_ = -1;
    // Byte-level: ids of the mapped byte as [first][last][byte] (prefix / suffix applied).
    std::array<std::array<std::array<int32_t, 256>, 2>, 2> byte_ids_{};

    struct Shard;
    static constexpr size_t kShards = 64;
    std::unique_ptr<Shard[]> cache_;
};

// GPT-2's reversible byte -> printable code point table (bytes_to_unicode()).
const std::array<char32_t, 256>& byte_to_unicode();
// The UTF-8 spelling of each byte's code point.
const std::array<std::string, 256>& byte_to_utf8();
// Reverse: appends the bytes behind a byte-level string; characters outside the table are kept.
void byte_level_decode(std::string_view mapped, std::string& out);

}  // namespace syn::text
