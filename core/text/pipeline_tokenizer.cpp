#include "core/text/pipeline_tokenizer.h"

#include <algorithm>

#include "core/io/errors.h"
#include "core/text/unicode_utils.h"
#include "core/io/quote.h"

namespace syn::text {
namespace {

// Per-thread scratch buffers, so that encoding a caption allocates (almost) nothing.
struct EncodeScratch {
    std::string sanitized;
    std::string normalized;
    std::vector<TextSpan> normalized_spans;
    PreTokenizeScratch pre;
};

EncodeScratch& encode_scratch() {
    thread_local EncodeScratch s;
    return s;
}

// HF's WordPiece decoder cleanup (clean_up_tokenization).
std::string cleanup_tokenization(std::string s) {
    static const std::pair<const char*, const char*> kRules[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},         {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) {
        std::string out;
        std::string_view f(from);
        size_t pos = 0;
        while (true) {
            size_t hit = s.find(f, pos);
            if (hit == std::string::npos) break;
            out.append(s, pos, hit - pos);
            out += to;
            pos = hit + f.size();
        }
        out.append(s, pos, std::string::npos);
        s.swap(out);
    }
    return s;
}

}  // namespace

PipelineTokenizer::PipelineTokenizer(PipelineParts parts) : parts_(std::move(parts)) {
    if (!parts_.model) throw Error(parts_.origin + ": tokenizer has no model");
    for (const AddedToken& t : parts_.added_tokens) {
        if (t.id < 0 || t.id > Vocab::kMaxId)
            throw Error(parts_.origin + ": added token " + quote_excerpt(t.content) + " has id " + std::to_string(t.id) +
                        ", outside 0.." + std::to_string(Vocab::kMaxId));
        added_by_id_[t.id] = &t;
        if (static_cast<size_t>(t.id) >= added_dense_.size()) added_dense_.resize(static_cast<size_t>(t.id) + 1, nullptr);
        added_dense_[static_cast<size_t>(t.id)] = &t;
        added_vocab_.add(t.content, t.id);
        (t.normalized ? normalized_matcher_ : raw_matcher_).add(&t);
    }
}

void PipelineTokenizer::encode_ids(const std::string& input, std::vector<int32_t>& ids) const {
    EncodeScratch& s = encode_scratch();
    // HF only ever sees valid UTF-8 (a Python str); invalid bytes become U+FFFD, as
    // bytes.decode("utf-8", "replace") would make them.
    std::string_view text = input;
    if (!unicode::sanitize_utf8(input, s.sanitized)) text = s.sanitized;

    // Spans can nest (normalised text is a new buffer), so keep local copies of the span lists.
    std::vector<TextSpan> spans;
    if (raw_matcher_.empty()) spans.push_back(TextSpan{0, text.size(), -1});
    else raw_matcher_.split(text, spans);

    std::string normalized;
    for (const TextSpan& span : spans) {
        if (span.id >= 0) {
            ids.push_back(span.id);
            continue;
        }
        std::string_view piece = text.substr(span.begin, span.end - span.begin);
        if (piece.empty()) continue;
        std::string_view norm = piece;
        if (!parts_.normalizer.empty()) {
            parts_.normalizer.normalize(piece, normalized);
            norm = normalized;
        }
        s.normalized_spans.clear();
        if (normalized_matcher_.empty()) s.normalized_spans.push_back(TextSpan{0, norm.size(), -1});
        else normalized_matcher_.split(norm, s.normalized_spans);
        std::vector<TextSpan> inner = s.normalized_spans;
        for (const TextSpan& sub : inner) {
            if (sub.id >= 0) {
                ids.push_back(sub.id);
                continue;
            }
            s.pre.arena.clear();
            parts_.pre_tokenizer.split(norm.substr(sub.begin, sub.end - sub.begin), s.pre);
            for (std::string_view word : s.pre.pieces) parts_.model->tokenize(word, ids);
        }
    }
}

Encoding PipelineTokenizer::encode(const std::string& text, const EncodeOptions& options) const {
    std::vector<int32_t> ids;
    ids.reserve(32);
    encode_ids(text, ids);
    return assemble(std::move(ids), nullptr, options);
}

Encoding PipelineTokenizer::encode_pair(const std::string& first, const std::string& second,
                                        const EncodeOptions& options) const {
    std::vector<int32_t> a, b;
    encode_ids(first, a);
    encode_ids(second, b);
    return assemble(std::move(a), &b, options);
}

Encoding PipelineTokenizer::assemble(std::vector<int32_t> a, const std::vector<int32_t>* b_in,
                                     const EncodeOptions& options) const {
    const bool is_pair = b_in != nullptr;
    std::vector<int32_t> b = is_pair ? *b_in : std::vector<int32_t>{};
    const bool specials = options.add_special_tokens && !parts_.post.empty();
    Encoding enc;

    // Truncation first (HF's LongestFirst), leaving room for the special tokens.
    if (options.max_length > 0) {
        const int added = specials ? parts_.post.added(is_pair) : 0;
        if (options.max_length < added)
            throw Error(parts_.origin + ": max_length " + std::to_string(options.max_length) +
                        " is smaller than the " + std::to_string(added) + " special tokens");
        const size_t budget = static_cast<size_t>(options.max_length - added);
        const size_t before = a.size() + b.size();
        if (!is_pair) {
            if (a.size() > budget) a.resize(budget);
        } else if (a.size() + b.size() > budget) {
            size_t n1 = a.size(), n2 = b.size();
            const bool swap = n1 > n2;
            if (swap) std::swap(n1, n2);
            n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
            if (n1 + n2 > budget) {
                n1 = budget / 2;
                n2 = n1 + budget % 2;
            }
            if (swap) std::swap(n1, n2);
            a.resize(std::min(a.size(), n1));
            b.resize(std::min(b.size(), n2));
        }
        enc.truncated = static_cast<int>(before - a.size() - b.size());
    }

    if (!specials) {
        enc.ids = std::move(a);
        enc.type_ids.assign(enc.ids.size(), 0);
        if (is_pair) {
            enc.ids.insert(enc.ids.end(), b.begin(), b.end());
            enc.type_ids.resize(enc.ids.size(), 1);
        }
    } else {
        enc.ids.reserve(a.size() + b.size() + 4);
        for (const TemplateItem& item : is_pair ? parts_.post.pair : parts_.post.single) {
            const std::vector<int32_t>& part = item.sequence < 0 ? item.ids : (item.sequence == 0 ? a : b);
            enc.ids.insert(enc.ids.end(), part.begin(), part.end());
            enc.type_ids.resize(enc.ids.size(), item.type_id);
        }
    }
    enc.attention_mask.assign(enc.ids.size(), 1);
    if (options.return_tokens) {
        enc.tokens.reserve(enc.ids.size());
        for (int32_t id : enc.ids) enc.tokens.emplace_back(token_view(id));
    }
    return enc;
}

std::string_view PipelineTokenizer::token_view(int32_t id) const {
    if (id >= 0 && static_cast<size_t>(id) < added_dense_.size() && added_dense_[static_cast<size_t>(id)])
        return added_dense_[static_cast<size_t>(id)]->content;
    return parts_.model->vocab().token(id);
}

std::optional<int32_t> PipelineTokenizer::token_to_id(const std::string& token) const {
    if (auto id = added_vocab_.get(token)) return id;
    return parts_.model->vocab().get(token);
}

std::optional<std::string> PipelineTokenizer::id_to_token(int32_t id) const {
    if (added_by_id_.count(id) == 0 && !parts_.model->vocab().has_id(id)) return std::nullopt;
    return std::string(token_view(id));
}

int32_t PipelineTokenizer::vocab_size() const {
    // As HF's get_vocab_size(with_added_tokens=True): the model vocabulary plus added tokens
    // that are not in it.
    int32_t n = static_cast<int32_t>(parts_.model->vocab().size());
    for (const AddedToken& t : parts_.added_tokens)
        if (parts_.model->vocab().find(t.content) < 0) ++n;
    return n;
}

std::string PipelineTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens;
    for (int32_t id : ids) {
        auto it = added_by_id_.find(id);
        if (it != added_by_id_.end() && it->second->special && skip_special_tokens) continue;
        if (it == added_by_id_.end() && !parts_.model->vocab().has_id(id)) continue;  // unknown id
        tokens.emplace_back(token_view(id));
    }
    for (const DecoderStep& step : parts_.decoder) {
        switch (step.kind) {
            case DecoderStep::Kind::WordPiece:
                for (size_t i = 0; i < tokens.size(); ++i) {
                    std::string& t = tokens[i];
                    if (i != 0) {
                        if (t.compare(0, step.affix.size(), step.affix) == 0) t.erase(0, step.affix.size());
                        else t.insert(0, " ");
                    }
                    if (step.cleanup) t = cleanup_tokenization(t);
                }
                break;
            case DecoderStep::Kind::BpeSuffix:
                for (size_t i = 0; i < tokens.size(); ++i) {
                    std::string& t = tokens[i];
                    const char* with = i + 1 == tokens.size() ? "" : " ";
                    for (size_t p; !step.affix.empty() && (p = t.find(step.affix)) != std::string::npos;)
                        t.replace(p, step.affix.size(), with);
                }
                break;
            case DecoderStep::Kind::ByteLevel: {
                std::string joined, bytes, clean;
                for (const std::string& t : tokens) joined += t;
                byte_level_decode(joined, bytes);
                if (!unicode::sanitize_utf8(bytes, clean)) bytes.swap(clean);
                tokens.assign(1, bytes);
                break;
            }
        }
    }
    std::string out;
    for (const std::string& t : tokens) out += t;
    return out;
}

}  // namespace syn::text
