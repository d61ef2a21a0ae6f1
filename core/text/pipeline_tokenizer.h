#pragma once
// The tokenizer of every family except SentencePiece: HF's pipeline (added tokens -> normalizer ->
// pre-tokenizer -> model -> truncation -> post-processor), assembled from tokenizer.json or from
// legacy files by the loaders. Families differ only in the parts they are built from:
//   wordpiece      BertNormalizer, BertPreTokenizer, WordPiece, [CLS] A [SEP]
//   bytelevel-bpe  ByteLevel pre-tokenizer (GPT-2 pattern), BPE, <s> A </s>
//   clip-bpe       NFC + whitespace collapse + lowercase, CLIP split pattern, ByteLevel, BPE with
//                  the "</w>" word-end suffix, <|startoftext|> A <|endoftext|>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/text/added_tokens.h"
#include "core/text/model.h"
#include "core/text/normalizer.h"
#include "core/text/post_processor.h"
#include "core/text/pre_tokenizer.h"
#include "core/text/tokenizer.h"

namespace syn::text {

struct DecoderStep {
    enum class Kind { WordPiece, ByteLevel, BpeSuffix };
    Kind kind = Kind::ByteLevel;
    std::string affix;    // WordPiece prefix / BPE suffix
    bool cleanup = true;  // WordPiece
};

struct PipelineParts {
    std::string origin;  // the file the tokenizer came from, for messages
    std::string family;
    Normalizer normalizer;
    PreTokenizer pre_tokenizer;
    std::unique_ptr<Model> model;
    std::vector<AddedToken> added_tokens;
    PostTemplate post;
    std::vector<DecoderStep> decoder;
    int32_t pad_id = 0;
    std::string pad_token;
    int model_max_length = 0;
};

class PipelineTokenizer : public Tokenizer {
public:
    explicit PipelineTokenizer(PipelineParts parts);

    Encoding encode(const std::string& text, const EncodeOptions& options = {}) const override;
    Encoding encode_pair(const std::string& first, const std::string& second,
                         const EncodeOptions& options = {}) const override;
    std::optional<int32_t> token_to_id(const std::string& token) const override;
    std::optional<std::string> id_to_token(int32_t id) const override;
    std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override;
    int32_t vocab_size() const override;
    int32_t pad_id() const override { return parts_.pad_id; }
    std::string family() const override { return parts_.family; }
    int model_max_length() const override { return parts_.model_max_length; }
    std::string pad_token() const override { return parts_.pad_token; }

    // The content ids of one text (no special tokens, no truncation): the pipeline's core.
    void encode_ids(const std::string& text, std::vector<int32_t>& ids) const;

private:
    std::string_view token_view(int32_t id) const;
    Encoding assemble(std::vector<int32_t> a, const std::vector<int32_t>* b, const EncodeOptions& options) const;

    PipelineParts parts_;
    AddedTokenMatcher raw_matcher_;
    AddedTokenMatcher normalized_matcher_;
    std::unordered_map<int32_t, const AddedToken*> added_by_id_;
    std::vector<const AddedToken*> added_dense_;  // by id, for the per-token lookup of encode()
    Vocab added_vocab_;
};

}  // namespace syn::text
