#pragma once
// The one tokenizer interface of the workbench. Every family (WordPiece, byte-level BPE, CLIP BPE,
// SentencePiece) implements `Tokenizer`; `load_tokenizer()` picks the family from a model folder.
// Implementations are immutable after construction except for internal caches guarded for
// concurrent use: encode() may be called from several threads at once.
//
// Ids equal Hugging Face's (`tokenizers` / transformers) for the same tokenizer files; the parity
// suite (tests/text/test_tokenizer_parity.cpp) checks every case of ../shared/fixtures/tokenizers.
// Input text is UTF-8. Invalid UTF-8 (stray bytes, truncated sequences, overlongs, surrogates
// written as CESU-8 such as ED A0 80) is not rejected: each maximal ill-formed subsequence is
// replaced with U+FFFD before tokenizing, which is what Python's
// `bytes.decode("utf-8", errors="replace")` gives before HF sees the text. BERT's normalizer then
// drops U+FFFD; the BPE tokenizers encode it as its three bytes.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syn::text {

struct EncodeOptions {
    bool add_special_tokens = true;
    // 0 = no truncation. Truncation keeps the closing special token(s), as Hugging Face does
    // (the content is cut, then the template is applied).
    int max_length = 0;
    // Fill Encoding::tokens (costs one short string per token; ids only when false).
    bool return_tokens = true;
};

struct Encoding {
    std::vector<int32_t> ids;
    std::vector<int32_t> type_ids;        // token type ids (segment ids), same length as ids
    std::vector<uint8_t> attention_mask;  // 1 for real tokens, 0 for padding
    std::vector<std::string> tokens;      // the token strings, as the vocabulary spells them
    // Number of content tokens cut away by truncation (0 when nothing was cut).
    int truncated = 0;
};

enum class PaddingMode { None, Longest, Fixed };

struct PaddingOptions {
    PaddingMode mode = PaddingMode::None;
    int length = 0;  // for Fixed
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // One text, or a pair (second non-null) with token type ids 0 / 1 where the family uses them.
    virtual Encoding encode(const std::string& text, const EncodeOptions& options = {}) const = 0;
    virtual Encoding encode_pair(const std::string& first, const std::string& second,
                                 const EncodeOptions& options = {}) const = 0;

    virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
    virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
    virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const = 0;
    virtual int32_t vocab_size() const = 0;
    virtual int32_t pad_id() const = 0;
    // "wordpiece", "bytelevel-bpe", "clip-bpe", "sentencepiece".
    virtual std::string family() const = 0;
    // The context the model was trained with (tokenizer_config.json `model_max_length`, e.g. 77
    // for CLIP, 512 for BERT); 0 when unknown. Use it as EncodeOptions::max_length.
    virtual int model_max_length() const { return 0; }
    // The padding token's spelling ("[PAD]", "<pad>", ...); empty when unknown.
    virtual std::string pad_token() const { return {}; }
};

// Pads a batch of encodings in place (pad id, mask 0, type id 0, token `pad_token` where tokens are
// filled), on the right, to the longest or a fixed length. Fixed never cuts: an encoding longer than
// `length` throws syn::Error (truncate with EncodeOptions::max_length first).
void pad_batch(std::vector<Encoding>& batch, const PaddingOptions& options, int32_t pad_id,
               const std::string& pad_token = {});

// Loads the tokenizer of a model folder: tokenizer.json when present, else the legacy files
// (vocab.txt; vocab.json + merges.txt; bpe_simple_vocab_16e6.txt.gz; spiece.model), with
// tokenizer_config.json / config.json consulted for casing and special tokens.
// Throws syn::Error naming the file and the unsupported component.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& folder);

// The loaders behind load_tokenizer(), for a file given directly.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& tokenizer_json_path);
// vocab.txt (BERT WordPiece). `lowercase` as tokenizer_config.json's do_lower_case.
std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& vocab_txt_path, bool lowercase);
// vocab.json + merges.txt: RoBERTa when the vocabulary has <s> and </s>, CLIP when it has
// <|startoftext|>, GPT-2 (no special tokens added) otherwise.
std::unique_ptr<Tokenizer> load_bpe_vocab_merges(const std::string& vocab_json_path,
                                                 const std::string& merges_txt_path,
                                                 bool add_prefix_space = false);
// OpenAI CLIP's bpe_simple_vocab_16e6.txt.gz (read with zlib), as CLIPTokenizerFast builds it.
std::unique_ptr<Tokenizer> load_clip_bpe_gz(const std::string& bpe_gz_path);

}  // namespace syn::text
