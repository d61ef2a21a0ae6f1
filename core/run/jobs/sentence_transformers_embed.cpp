#include "core/run/jobs/sentence_transformers_embed.h"

#include <algorithm>

#include "core/io/errors.h"
#include "core/io/sentence_transformers.h"
#include "core/io/sha256.h"
#include "core/text/tokenizer.h"
#include "core/text/unicode_utils.h"
#include "models/pooling.h"
#include "models/sentence_pipeline.h"
#include "models/text_encoder.h"

namespace syn::run {
namespace {

// Python's str.isspace(): Unicode White_Space plus the information separators U+001C..U+001F.
bool python_space(char32_t cp) { return (cp >= 0x1C && cp <= 0x1F) || text::unicode::is_whitespace(cp); }

models::SentencePipelineOptions pipeline_options(const st::SentenceTransformerConfig& c, int64_t hidden) {
    models::SentencePipelineOptions o;
    o.hidden_size = hidden;
    const st::PoolingConfig& p = c.pooling();
    o.pooling.cls = p.cls_token;
    o.pooling.max = p.max_tokens;
    o.pooling.mean = p.mean_tokens;
    o.pooling.mean_sqrt_len = p.mean_sqrt_len_tokens;
    o.pooling.weightedmean = p.weightedmean_tokens;
    o.pooling.lasttoken = p.lasttoken;
    o.pooling.include_prompt = p.include_prompt;
    for (const auto& m : c.modules) {
        models::SentencePipelineOptions::Step s;
        if (m.type == st::ModuleType::normalize) {
            s.kind = models::SentencePipelineOptions::Step::Kind::normalize;
        } else if (m.type == st::ModuleType::dense) {
            s.kind = models::SentencePipelineOptions::Step::Kind::dense;
            s.dense.in_features = m.dense.in_features;
            s.dense.out_features = m.dense.out_features;
            s.dense.bias = m.dense.bias;
            s.dense.activation = models::parse_dense_activation(m.dense.activation);
        } else {
            continue;
        }
        o.steps.push_back(s);
    }
    return o;
}

}  // namespace

std::string python_strip(const std::string& text) {
    std::string clean;
    const std::string& t = text::unicode::sanitize_utf8(text, clean) ? text : clean;
    size_t pos = 0, begin = t.size(), end = 0;
    while (pos < t.size()) {
        const size_t at = pos;
        const char32_t cp = text::unicode::next_codepoint(t, pos);
        if (python_space(cp)) continue;
        begin = std::min(begin, at);
        end = pos;
    }
    return begin >= end ? std::string() : t.substr(begin, end - begin);
}

SentenceTransformersEmbedding::~SentenceTransformersEmbedding() = default;

std::unique_ptr<SentenceTransformersEmbedding> sentence_transformers_embedding(const std::string& folder,
                                                                               const std::string& explicit_pooling) {
    if (!st::is_sentence_transformers_folder(folder)) return nullptr;
    std::unique_ptr<SentenceTransformersEmbedding> e(new SentenceTransformersEmbedding());
    e->config_ = std::make_unique<st::SentenceTransformerConfig>(st::read_sentence_transformers(folder));
    const st::SentenceTransformerConfig& c = *e->config_;
    e->encoder_folder_ = c.transformer_folder;
    e->prompt_ = c.default_prompt();
    std::string settings = c.max_seq_length ? "max_seq_length " + std::to_string(*c.max_seq_length) : "";
    if (c.do_lower_case) settings += std::string(settings.empty() ? "" : ", ") + "do_lower_case";
    if (!e->prompt_.empty())
        settings += std::string(settings.empty() ? "" : ", ") + "default prompt '" + c.default_prompt_name + "'";
    if (explicit_pooling.empty()) {
        e->uses_pipeline_ = true;
        e->pooling_ = c.describe();
        e->reason_ = "the sentence-transformers pipeline of " + c.modules_file + " (no pooling asked for)";
        if (!settings.empty()) e->reason_ += "; " + settings;
    } else {
        e->uses_pipeline_ = false;
        e->pooling_ = models::parse_pooling_choice(explicit_pooling).describe();
        e->reason_ = "asked for: replaces the sentence-transformers pipeline " + c.describe() + " of " +
                     c.modules_file + " (its Pooling, Dense and Normalize modules)";
        if (!settings.empty()) e->reason_ += "; the Transformer module's settings still apply: " + settings;
    }
    return e;
}

void SentenceTransformersEmbedding::bind(const models::TextEncoder& encoder, const text::Tokenizer& tokenizer) {
    const st::SentenceTransformerConfig& c = *config_;
    // Token limit: max_seq_length, else min(positions, tokenizer's model_max_length), as
    // sentence-transformers' Transformer module infers it; never beyond what the positions allow.
    int64_t limit = encoder.max_tokens();
    if (c.max_seq_length) {
        limit = limit > 0 ? std::min(limit, *c.max_seq_length) : *c.max_seq_length;
    } else if (tokenizer.model_max_length() > 0) {
        limit = limit > 0 ? std::min<int64_t>(limit, tokenizer.model_max_length()) : tokenizer.model_max_length();
    }
    max_length_ = static_cast<int>(std::min<int64_t>(limit, 1 << 24));

    if (!uses_pipeline_) return;
    const int64_t hidden = encoder.hidden_size();
    const st::PoolingConfig& p = c.pooling();
    int64_t width = hidden * p.modes();
    for (const auto& m : c.modules) {
        if (m.type != st::ModuleType::dense) continue;
        if (m.dense.in_features != width)
            throw file_error(m.config_file, "key 'in_features' = " + std::to_string(m.dense.in_features) +
                                                " but the module before gives vectors of width " + std::to_string(width) +
                                                " (pooling " + p.describe() + " over the transformer's hidden size " +
                                                std::to_string(hidden) + ")");
        width = m.dense.out_features;
    }
    pipeline_ = std::make_unique<models::SentencePipeline>(pipeline_options(c, hidden));
    size_t k = 0;
    for (const auto& m : c.modules)
        if (m.type == st::ModuleType::dense) pipeline_->load_dense_weights(k++, m.dense.weights, m.dense.weights_file);

    prompt_length_ = 0;
    if (!p.include_prompt && !prompt_.empty()) {
        // sentence-transformers' _get_prompt_length: the prompt tokenized alone (stripped, lower-cased,
        // truncated), without the closing special token when there is one.
        text::EncodeOptions eo;
        eo.max_length = max_length_;
        eo.return_tokens = false;
        std::string prompt = python_strip(prompt_);
        if (c.do_lower_case) prompt = text::unicode::lowercase(prompt);
        const text::Encoding with = tokenizer.encode(prompt, eo);
        eo.add_special_tokens = false;
        eo.max_length = 0;
        const text::Encoding without = tokenizer.encode(prompt, eo);
        prompt_length_ = static_cast<int64_t>(with.ids.size());
        if (!with.ids.empty() && (without.ids.empty() || with.ids.back() != without.ids.back())) --prompt_length_;
    }
}

std::string SentenceTransformersEmbedding::prepare_text(const std::string& text) const {
    std::string t = python_strip(prompt_.empty() ? text : prompt_ + text);
    if (config_->do_lower_case) t = text::unicode::lowercase(t);
    return t;
}

std::string SentenceTransformersEmbedding::fingerprint(const std::string& encoder_fingerprint) const {
    return sha256_hex("model " + encoder_fingerprint + "\nsentence-transformers " +
                      st::sentence_transformers_fingerprint(*config_) + "\n");
}

}  // namespace syn::run
