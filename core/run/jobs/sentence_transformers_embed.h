#pragma once
// The embedding job's hook for sentence-transformers folders (a modules.json beside config.json):
// what sentence-transformers' encode() does around the transformer, so that `embed` and `sts` give
// the vectors SentenceTransformer(folder).encode(texts) gives:
//  - texts: the default prompt (config_sentence_transformers.json default_prompt_name) prepended,
//    surrounding whitespace stripped (Python str.strip), lower-cased when do_lower_case;
//  - tokens: truncated to max_seq_length (special tokens included), else to the smaller of the
//    model's positions and the tokenizer's model_max_length;
//  - the pipeline of modules.json (Pooling -> Dense / Normalize) as the default pooling. An explicit
//    pooling (--pooling, model:pooling) replaces Pooling, Dense and Normalize; the Transformer
//    module's settings (folder, max_seq_length, do_lower_case, prompt) still apply, and the reason
//    says so.
// The model fingerprint takes in every sentence-transformers file read (modules.json, module
// configs, Dense weights, sentence_bert_config.json, config_sentence_transformers.json), so the
// embedding cache key changes with them.
#include <cstdint>
#include <memory>
#include <string>

namespace syn::text {
class Tokenizer;
}
namespace syn::st {
struct SentenceTransformerConfig;
}
namespace syn::models {
class TextEncoder;
class SentencePipeline;
}

namespace syn::run {

class SentenceTransformersEmbedding {
public:
    ~SentenceTransformersEmbedding();

    // The Transformer module's folder: config.json, tokenizer and weights are read from there.
    const std::string& encoder_folder() const { return encoder_folder_; }
    // The pooling recorded in manifests and cache keys: the pipeline's "st:mean+normalize", or the
    // explicit pooling's describe().
    const std::string& pooling() const { return pooling_; }
    // Why this pooling: "modules.json of <folder>: ..." or "asked for (...overrides...)".
    const std::string& reason() const { return reason_; }
    // False when an explicit pooling replaced the pipeline.
    bool uses_pipeline() const { return uses_pipeline_; }
    // The pipeline (after bind(); null when !uses_pipeline()).
    const models::SentencePipeline* pipeline() const { return pipeline_.get(); }
    const st::SentenceTransformerConfig& config() const { return *config_; }

    // After the encoder and tokenizer are loaded: checks the widths against the encoder's hidden
    // size, fills the Dense layers, fixes the token limit and measures the prompt (include_prompt
    // false). Throws syn::Error naming the file.
    void bind(const models::TextEncoder& encoder, const text::Tokenizer& tokenizer);

    // The text handed to the tokenizer (prompt, strip, lower-case), as sentence-transformers does.
    std::string prepare_text(const std::string& text) const;
    // Token limit for EncodeOptions::max_length (after bind()).
    int max_length() const { return max_length_; }
    // Positions excluded from pooling at the start of every text (include_prompt false; else 0).
    int64_t prompt_length() const { return prompt_length_; }
    // The fingerprint of the transformer folder combined with the sentence-transformers files.
    std::string fingerprint(const std::string& encoder_fingerprint) const;

private:
    friend std::unique_ptr<SentenceTransformersEmbedding> sentence_transformers_embedding(
        const std::string&, const std::string&);
    SentenceTransformersEmbedding() = default;

    std::unique_ptr<st::SentenceTransformerConfig> config_;
    std::unique_ptr<models::SentencePipeline> pipeline_;
    std::string encoder_folder_, pooling_, reason_, prompt_;
    bool uses_pipeline_ = false;
    int max_length_ = 0;
    int64_t prompt_length_ = 0;
};

// Null when `folder` has no modules.json; else reads and validates it (syn::Error naming the file
// and key otherwise). `explicit_pooling` is the pooling the user named ("" = none: the pipeline).
std::unique_ptr<SentenceTransformersEmbedding> sentence_transformers_embedding(const std::string& folder,
                                                                               const std::string& explicit_pooling);

// Python's str.strip() (Unicode whitespace at both ends) and, when `lower`, str.lower().
std::string python_strip(const std::string& text);

}  // namespace syn::run
