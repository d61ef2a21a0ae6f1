#pragma once
// The one tokenizer interface of the workbench. Every family (WordPiece, byte-level BPE, CLIP BPE,
// SentencePiece) implements `Tokenizer`; `load_tokenizer()` picks the family from a model folder.
// Implementations are immutable after construction except for internal caches guarded for
// concurrent use: encode() may be called from several threads at once.
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
};

// Pads a batch of encodings in place (pad id, mask 0, type id 0), to the longest or a fixed length.
void pad_batch(std::vector<Encoding>& batch, const PaddingOptions& options, int32_t pad_id);

// Loads the tokenizer of a model folder: tokenizer.json when present, else the legacy files
// (vocab.txt; vocab.json + merges.txt; bpe_simple_vocab_16e6.txt.gz; spiece.model), with
// tokenizer_config.json / config.json consulted for casing and special tokens.
// Throws syn::Error naming the file and the unsupported component.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& folder);

}  // namespace syn::text
