// Loading HF tokenizer.json and the legacy vocabulary files into a PipelineTokenizer.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/text/pipeline_tokenizer.h"
#include "core/text/tokenizer.h"
#include "core/io/quote.h"

namespace syn::text {
namespace {

using nlohmann::json;

// The CLIP split pattern of HF's CLIPTokenizerFast (and of openai/CLIP without its two special
// tokens, which the added-token matcher handles before this runs).
const char* const kClipSplitPattern = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

json parse_json_file(const std::string& path) {
    std::string text = read_file(path);
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw file_error(path, "not valid JSON");
    return j;
}

bool file_exists(const std::string& path) {
    std::ifstream in(path);
    return static_cast<bool>(in);
}

std::string parent_dir(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Typed field access with messages that name the file and the key.
struct Reader {
    std::string origin;
    const json& object(const json& j, const char* key, const std::string& where) const {
        if (!j.is_object() || !j.contains(key)) throw Error(origin + ": " + where + " has no '" + key + "'");
        return j.at(key);
    }
    std::string string_or(const json& j, const char* key, const std::string& fallback) const {
        if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
        if (!j.at(key).is_string()) throw Error(origin + ": '" + key + "' must be a string");
        return j.at(key).get<std::string>();
    }
    bool bool_or(const json& j, const char* key, bool fallback) const {
        if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
        if (!j.at(key).is_boolean()) throw Error(origin + ": '" + key + "' must be true or false");
        return j.at(key).get<bool>();
    }
    int64_t int_or(const json& j, const char* key, int64_t fallback) const {
        if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
        if (!j.at(key).is_number_integer()) throw Error(origin + ": '" + key + "' must be an integer");
        return j.at(key).get<int64_t>();
    }
    std::string type_of(const json& j, const std::string& where) const {
        if (!j.is_object() || !j.contains("type") || !j.at("type").is_string())
            throw Error(origin + ": " + where + " has no \"type\"");
        return j.at("type").get<std::string>();
    }
    [[noreturn]] void unsupported(const std::string& what, const std::string& type) const {
        throw Error(origin + ": unsupported " + what + " type '" + type + "'");
    }
};

// "pattern": {"Regex": "..."} or {"String": "..."}; a literal becomes an escaped regex.
std::shared_ptr<SplitRegex> pattern_regex(const Reader& r, const json& j, const std::string& where) {
    const json& p = r.object(j, "pattern", where);
    if (p.contains("Regex") && p.at("Regex").is_string())
        return std::make_shared<SplitRegex>(p.at("Regex").get<std::string>(), r.origin + " " + where);
    if (p.contains("String") && p.at("String").is_string()) {
        std::string literal = p.at("String").get<std::string>(), escaped;
        for (char c : literal) {
            if (static_cast<unsigned char>(c) < 0x80 && !std::isalnum(static_cast<unsigned char>(c))) escaped += '\\';
            escaped += c;
        }
        return std::make_shared<SplitRegex>(escaped, r.origin + " " + where);
    }
    throw Error(r.origin + ": " + where + " pattern must be {\"Regex\": ...} or {\"String\": ...}");
}

void parse_normalizer(const Reader& r, const json& j, Normalizer& out) {
    if (j.is_null()) return;
    const std::string type = r.type_of(j, "normalizer");
    NormalizerStep s;
    using K = NormalizerStep::Kind;
    if (type == "Sequence") {
        for (const json& sub : r.object(j, "normalizers", "normalizer Sequence")) parse_normalizer(r, sub, out);
        return;
    } else if (type == "BertNormalizer") {
        s.kind = K::Bert;
        s.clean_text = r.bool_or(j, "clean_text", true);
        s.handle_chinese_chars = r.bool_or(j, "handle_chinese_chars", true);
        s.lowercase = r.bool_or(j, "lowercase", true);
        s.strip_accents = r.bool_or(j, "strip_accents", s.lowercase);
    } else if (type == "NFC") s.kind = K::NFC;
    else if (type == "NFD") s.kind = K::NFD;
    else if (type == "NFKC") s.kind = K::NFKC;
    else if (type == "NFKD") s.kind = K::NFKD;
    else if (type == "Lowercase") s.kind = K::Lowercase;
    else if (type == "StripAccents") s.kind = K::StripAccents;
    else if (type == "Replace") {
        s.kind = K::Replace;
        const json& p = r.object(j, "pattern", "normalizer Replace");
        if (p.contains("String") && p.at("String").is_string()) s.pattern = p.at("String").get<std::string>();
        else s.regex = pattern_regex(r, j, "normalizer Replace");
        s.content = r.string_or(j, "content", "");
    } else if (type == "Strip") {
        s.kind = K::Strip;
        s.strip_left = r.bool_or(j, "strip_left", true);
        s.strip_right = r.bool_or(j, "strip_right", true);
    } else if (type == "Prepend") {
        s.kind = K::Prepend;
        s.content = r.string_or(j, "prepend", "");
    } else {
        r.unsupported("normalizer", type);
    }
    out.add(std::move(s));
}

PreTokenizerStep::Behavior parse_behavior(const Reader& r, const std::string& name) {
    using B = PreTokenizerStep::Behavior;
    if (name == "Removed") return B::Removed;
    if (name == "Isolated") return B::Isolated;
    if (name == "MergedWithPrevious") return B::MergedWithPrevious;
    if (name == "MergedWithNext") return B::MergedWithNext;
    if (name == "Contiguous") return B::Contiguous;
    throw Error(r.origin + ": unsupported Split behavior '" + name + "'");
}

PreTokenizerStep byte_level_step(bool add_prefix_space, bool use_regex, const std::string& origin) {
    PreTokenizerStep s;
    s.kind = PreTokenizerStep::Kind::ByteLevel;
    s.add_prefix_space = add_prefix_space;
    s.behavior = PreTokenizerStep::Behavior::Isolated;
    if (use_regex) s.regex = std::make_shared<SplitRegex>(kGpt2SplitPattern, origin + " ByteLevel pre_tokenizer");
    return s;
}

PreTokenizerStep clip_split_step(const std::string& origin) {
    PreTokenizerStep s;
    s.kind = PreTokenizerStep::Kind::Split;
    s.regex = std::make_shared<SplitRegex>(kClipSplitPattern, origin + " CLIP split pattern");
    s.behavior = PreTokenizerStep::Behavior::Removed;
    s.invert = true;
    return s;
}

void parse_pre_tokenizer(const Reader& r, const json& j, PreTokenizer& out, bool& byte_level_seen) {
    if (j.is_null()) return;
    const std::string type = r.type_of(j, "pre_tokenizer");
    // The model maps bytes itself, so nothing may split the byte-mapped text after ByteLevel.
    if (byte_level_seen) throw Error(r.origin + ": unsupported pre_tokenizer order: '" + type + "' after ByteLevel");
    PreTokenizerStep s;
    if (type == "Sequence") {
        for (const json& sub : r.object(j, "pretokenizers", "pre_tokenizer Sequence"))
            parse_pre_tokenizer(r, sub, out, byte_level_seen);
        return;
    } else if (type == "BertPreTokenizer") {
        s.kind = PreTokenizerStep::Kind::Bert;
    } else if (type == "ByteLevel") {
        s = byte_level_step(r.bool_or(j, "add_prefix_space", true), r.bool_or(j, "use_regex", true), r.origin);
        byte_level_seen = true;
    } else if (type == "Split") {
        s.kind = PreTokenizerStep::Kind::Split;
        s.regex = pattern_regex(r, j, "pre_tokenizer Split");
        s.behavior = parse_behavior(r, r.string_or(j, "behavior", "Isolated"));
        s.invert = r.bool_or(j, "invert", false);
    } else if (type == "Whitespace") {
        // \w+|[^\w\s]+ with Oniguruma's Unicode \w (letters, marks, decimal digits, connectors).
        s.kind = PreTokenizerStep::Kind::Split;
        s.regex = std::make_shared<SplitRegex>("[\\p{L}\\p{M}\\p{Nd}\\p{Pc}]+|[^\\p{L}\\p{M}\\p{Nd}\\p{Pc}\\s]+",
                                               r.origin + " Whitespace pre_tokenizer");
        s.behavior = PreTokenizerStep::Behavior::Removed;
        s.invert = true;
    } else if (type == "WhitespaceSplit") {
        s.kind = PreTokenizerStep::Kind::WhitespaceSplit;
    } else {
        r.unsupported("pre_tokenizer", type);
    }
    out.add(std::move(s));
}

std::unique_ptr<Model> parse_model(const Reader& r, const json& j, bool byte_level, std::string& family) {
    const std::string type = r.type_of(j, "model");
    const json& vocab = r.object(j, "vocab", "model");
    if (!vocab.is_object()) throw Error(r.origin + ": model.vocab must be an object of token -> id");
    auto fill = [&](Vocab& v) {
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            if (!it.value().is_number_integer()) throw Error(r.origin + ": model.vocab[" + quote_excerpt(it.key()) + "] is not an id");
            v.add(it.key(), it.value().get<int32_t>());
        }
    };
    if (type == "WordPiece") {
        auto m = std::make_unique<WordPieceModel>(r.string_or(j, "unk_token", "[UNK]"),
                                                  r.string_or(j, "continuing_subword_prefix", "##"),
                                                  static_cast<int>(r.int_or(j, "max_input_chars_per_word", 100)));
        fill(m->vocab());
        m->finalize(r.origin);
        family = "wordpiece";
        return m;
    }
    if (type == "BPE") {
        if (j.contains("dropout") && !j.at("dropout").is_null() && j.at("dropout").get<double>() > 0.0)
            throw Error(r.origin + ": unsupported BPE option 'dropout' (random, not reproducible)");
        if (r.bool_or(j, "byte_fallback", false)) throw Error(r.origin + ": unsupported BPE option 'byte_fallback'");
        BpeModel::Options o;
        o.unk_token = r.string_or(j, "unk_token", "");
        o.continuing_subword_prefix = r.string_or(j, "continuing_subword_prefix", "");
        o.end_of_word_suffix = r.string_or(j, "end_of_word_suffix", "");
        o.fuse_unk = r.bool_or(j, "fuse_unk", false);
        o.ignore_merges = r.bool_or(j, "ignore_merges", false);
        o.byte_level = byte_level;
        auto m = std::make_unique<BpeModel>(o);
        fill(m->vocab());
        for (const json& merge : r.object(j, "merges", "model")) {
            if (merge.is_string()) {  // "left right"
                const std::string& s = merge.get_ref<const std::string&>();
                size_t space = s.find(' ');
                if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
                    throw Error(r.origin + ": model.merges entry " + quote_excerpt(s) + " is not two tokens");
                m->add_merge(std::string_view(s).substr(0, space), std::string_view(s).substr(space + 1), r.origin);
            } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
                m->add_merge(merge[0].get_ref<const std::string&>(), merge[1].get_ref<const std::string&>(), r.origin);
            } else {
                throw Error(r.origin + ": model.merges entry " + merge.dump() + " is not a pair of tokens");
            }
        }
        m->finalize(r.origin);
        family = o.end_of_word_suffix.empty() ? "bytelevel-bpe" : "clip-bpe";
        if (!byte_level) family = "bpe";
        return m;
    }
    r.unsupported("model", type);
}

std::pair<std::string, int32_t> token_and_id(const Reader& r, const json& j, const char* key) {
    const json& v = r.object(j, key, "post_processor");
    if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number_integer())
        throw Error(r.origin + ": post_processor." + key + " must be [token, id]");
    return {v[0].get<std::string>(), v[1].get<int32_t>()};
}

std::vector<TemplateItem> parse_template(const Reader& r, const json& items, const json& specials) {
    std::vector<TemplateItem> out;
    if (!items.is_array()) throw Error(r.origin + ": TemplateProcessing template must be a list");
    for (const json& item : items) {
        TemplateItem t;
        if (item.contains("Sequence")) {
            const json& s = item.at("Sequence");
            std::string id = r.string_or(s, "id", "A");
            t.sequence = id == "B" ? 1 : 0;
            t.type_id = static_cast<int32_t>(r.int_or(s, "type_id", 0));
        } else if (item.contains("SpecialToken")) {
            const json& s = item.at("SpecialToken");
            std::string id = r.string_or(s, "id", "");
            t.type_id = static_cast<int32_t>(r.int_or(s, "type_id", 0));
            if (!specials.is_object() || !specials.contains(id))
                throw Error(r.origin + ": TemplateProcessing special token " + quote_excerpt(id) + " is not in special_tokens");
            const json& sp = specials.at(id);
            for (const json& x : r.object(sp, "ids", "special token " + id)) t.ids.push_back(x.get<int32_t>());
            for (const json& x : r.object(sp, "tokens", "special token " + id)) t.tokens.push_back(x.get<std::string>());
        } else {
            throw Error(r.origin + ": TemplateProcessing item " + item.dump() + " is neither Sequence nor SpecialToken");
        }
        out.push_back(std::move(t));
    }
    return out;
}

void parse_post_processor(const Reader& r, const json& j, PostTemplate& out) {
    if (j.is_null()) return;
    const std::string type = r.type_of(j, "post_processor");
    if (type == "Sequence") {
        for (const json& sub : r.object(j, "processors", "post_processor Sequence")) parse_post_processor(r, sub, out);
    } else if (type == "ByteLevel") {
        // Only adjusts offsets, which we do not produce.
    } else if (type == "BertProcessing") {
        auto [sep_token, sep] = token_and_id(r, j, "sep");
        auto [cls_token, cls] = token_and_id(r, j, "cls");
        out = PostTemplate::bert(cls, cls_token, sep, sep_token);
    } else if (type == "RobertaProcessing") {
        auto [sep_token, sep] = token_and_id(r, j, "sep");
        auto [cls_token, cls] = token_and_id(r, j, "cls");
        out = PostTemplate::roberta(cls, cls_token, sep, sep_token);
    } else if (type == "TemplateProcessing") {
        const json specials = j.contains("special_tokens") ? j.at("special_tokens") : json::object();
        out.single = parse_template(r, r.object(j, "single", "TemplateProcessing"), specials);
        out.pair = parse_template(r, r.object(j, "pair", "TemplateProcessing"), specials);
    } else {
        r.unsupported("post_processor", type);
    }
}

void parse_decoder(const Reader& r, const json& j, std::vector<DecoderStep>& out) {
    if (j.is_null()) return;
    const std::string type = r.type_of(j, "decoder");
    DecoderStep s;
    if (type == "Sequence") {
        for (const json& sub : r.object(j, "decoders", "decoder Sequence")) parse_decoder(r, sub, out);
        return;
    } else if (type == "WordPiece") {
        s.kind = DecoderStep::Kind::WordPiece;
        s.affix = r.string_or(j, "prefix", "##");
        s.cleanup = r.bool_or(j, "cleanup", true);
    } else if (type == "ByteLevel") {
        s.kind = DecoderStep::Kind::ByteLevel;
    } else if (type == "BPEDecoder") {
        s.kind = DecoderStep::Kind::BpeSuffix;
        s.affix = r.string_or(j, "suffix", "</w>");
    } else {
        r.unsupported("decoder", type);
    }
    out.push_back(std::move(s));
}

// A BPE with a word-end suffix decoded by ByteLevel alone would leave "</w>" in the text: turn the
// suffix into spaces first, as openai/CLIP's decode does.
void add_suffix_decoding(PipelineParts& p, const std::string& suffix) {
    if (suffix.empty()) return;
    for (const DecoderStep& s : p.decoder)
        if (s.kind == DecoderStep::Kind::BpeSuffix) return;
    DecoderStep s;
    s.kind = DecoderStep::Kind::BpeSuffix;
    s.affix = suffix;
    p.decoder.insert(p.decoder.begin(), s);
}

// tokenizer_config.json beside the tokenizer files: model_max_length and the pad token.
void apply_tokenizer_config(const std::string& folder, PipelineParts& p) {
    const std::string path = folder + "/tokenizer_config.json";
    if (!file_exists(path)) return;
    json cfg = parse_json_file(path);
    if (!cfg.is_object()) throw file_error(path, "top level is not an object");
    if (cfg.contains("model_max_length") && cfg.at("model_max_length").is_number()) {
        double v = cfg.at("model_max_length").get<double>();
        // HF writes 1e30 for "no limit".
        if (v > 0 && v < 1e9) p.model_max_length = static_cast<int>(v);
    }
    if (cfg.contains("pad_token")) {
        const json& t = cfg.at("pad_token");
        std::string pad = t.is_string() ? t.get<std::string>()
                          : (t.is_object() && t.contains("content") && t.at("content").is_string())
                              ? t.at("content").get<std::string>()
                              : std::string();
        if (!pad.empty()) {
            for (const AddedToken& a : p.added_tokens)
                if (a.content == pad) {
                    p.pad_id = a.id;
                    p.pad_token = pad;
                    return;
                }
            int32_t id = p.model->vocab().find(pad);
            if (id >= 0) {
                p.pad_id = id;
                p.pad_token = pad;
            }
        }
    }
}

AddedToken special_token(const std::string& content, int32_t id, bool lstrip = false) {
    AddedToken t;
    t.content = content;
    t.id = id;
    t.lstrip = lstrip;
    t.special = true;
    t.normalized = false;
    return t;
}

void add_special_if_known(PipelineParts& p, const std::string& content, bool lstrip = false) {
    int32_t id = p.model->vocab().find(content);
    if (id >= 0) p.added_tokens.push_back(special_token(content, id, lstrip));
}

void set_pad(PipelineParts& p, const std::string& token) {
    int32_t id = p.model->vocab().find(token);
    if (id >= 0) {
        p.pad_id = id;
        p.pad_token = token;
    }
}

// Byte-level BPE pipelines from vocab + merges: GPT-2, RoBERTa or CLIP by their special tokens.
std::unique_ptr<Tokenizer> build_bpe(const std::string& origin, std::unique_ptr<BpeModel> model,
                                     bool add_prefix_space) {
    PipelineParts p;
    p.origin = origin;
    const bool clip = !model->options().end_of_word_suffix.empty();
    p.model = std::move(model);
    p.decoder.push_back(DecoderStep{DecoderStep::Kind::ByteLevel, "", false});
    if (clip) {
        p.family = "clip-bpe";
        NormalizerStep nfc;
        nfc.kind = NormalizerStep::Kind::NFC;
        NormalizerStep collapse;
        collapse.kind = NormalizerStep::Kind::Replace;
        collapse.regex = std::make_shared<SplitRegex>("\\s+", origin + " CLIP whitespace normalizer");
        collapse.content = " ";
        NormalizerStep lower;
        lower.kind = NormalizerStep::Kind::Lowercase;
        p.normalizer.add(nfc);
        p.normalizer.add(collapse);
        p.normalizer.add(lower);
        p.pre_tokenizer.add(clip_split_step(origin));
        p.pre_tokenizer.add(byte_level_step(false, true, origin));
        add_special_if_known(p, "<|startoftext|>");
        add_special_if_known(p, "<|endoftext|>");
        auto bos = p.model->vocab().find("<|startoftext|>"), eos = p.model->vocab().find("<|endoftext|>");
        if (bos < 0 || eos < 0) throw Error(origin + ": CLIP vocabulary lacks <|startoftext|> / <|endoftext|>");
        p.post = PostTemplate::roberta(bos, "<|startoftext|>", eos, "<|endoftext|>");
        set_pad(p, "<|endoftext|>");
        p.model_max_length = 77;
        add_suffix_decoding(p, "</w>");
    } else if (p.model->vocab().find("<s>") >= 0 && p.model->vocab().find("</s>") >= 0) {
        p.family = "bytelevel-bpe";
        p.pre_tokenizer.add(byte_level_step(add_prefix_space, true, origin));
        for (const char* t : {"<s>", "<pad>", "</s>", "<unk>"}) add_special_if_known(p, t);
        add_special_if_known(p, "<mask>", /*lstrip=*/true);
        p.post = PostTemplate::roberta(p.model->vocab().find("<s>"), "<s>", p.model->vocab().find("</s>"), "</s>");
        set_pad(p, "<pad>");
        p.model_max_length = 512;
    } else {
        p.family = "bytelevel-bpe";  // GPT-2: no special tokens around the text
        p.pre_tokenizer.add(byte_level_step(add_prefix_space, true, origin));
        add_special_if_known(p, "<|endoftext|>");
        set_pad(p, "<|endoftext|>");
        p.model_max_length = 1024;
    }
    return std::make_unique<PipelineTokenizer>(std::move(p));
}

std::unique_ptr<BpeModel> make_bpe_model(bool clip) {
    BpeModel::Options o;
    o.byte_level = true;
    if (clip) {
        o.end_of_word_suffix = "</w>";
        o.unk_token = "<|endoftext|>";
    }
    return std::make_unique<BpeModel>(o);
}

std::string gunzip_file(const std::string& path) {
    require_not_directory(path);
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw file_error(path, "cannot open");
    std::string out;
    char buf[1 << 16];
    while (true) {
        int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int err = 0;
            std::string msg = gzerror(f, &err);
            gzclose(f);
            throw file_error(path, "gzip read failed: " + msg);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        // The real file (openai/CLIP's bpe_simple_vocab_16e6) is 1.6 MB inflated.
        if (out.size() > (size_t{64} << 20)) {
            gzclose(f);
            throw file_error(path, "decompresses to more than 64 MiB: not a CLIP BPE vocabulary");
        }
    }
    gzclose(f);
    return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        pos = nl + 1;
    }
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

void add_merge_line(BpeModel& m, std::string_view line, const std::string& path, size_t line_no) {
    size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
        throw file_error(path, "line " + std::to_string(line_no) + ": a merge must be two tokens separated by one space");
    m.add_merge(line.substr(0, space), line.substr(space + 1), path + " line " + std::to_string(line_no));
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path) {
    json j = parse_json_file(path);
    if (!j.is_object()) throw file_error(path, "top level is not an object");
    Reader r{path};
    PipelineParts p;
    p.origin = path;
    parse_normalizer(r, j.value("normalizer", json()), p.normalizer);
    bool byte_level = false;
    parse_pre_tokenizer(r, j.value("pre_tokenizer", json()), p.pre_tokenizer, byte_level);
    p.model = parse_model(r, r.object(j, "model", "tokenizer.json"), byte_level, p.family);
    if (p.family == "bpe") throw Error(path + ": unsupported BPE model without a ByteLevel pre_tokenizer");
    parse_post_processor(r, j.value("post_processor", json()), p.post);
    parse_decoder(r, j.value("decoder", json()), p.decoder);
    if (auto* bpe = dynamic_cast<BpeModel*>(p.model.get())) add_suffix_decoding(p, bpe->options().end_of_word_suffix);

    if (j.contains("added_tokens") && !j.at("added_tokens").is_null()) {
        for (const json& t : j.at("added_tokens")) {
            AddedToken a;
            a.content = r.string_or(t, "content", "");
            a.id = static_cast<int32_t>(r.int_or(t, "id", -1));
            if (a.content.empty() || a.id < 0) throw Error(path + ": added token " + t.dump() + " lacks content or id");
            a.single_word = r.bool_or(t, "single_word", false);
            a.lstrip = r.bool_or(t, "lstrip", false);
            a.rstrip = r.bool_or(t, "rstrip", false);
            a.normalized = r.bool_or(t, "normalized", !r.bool_or(t, "special", false));
            a.special = r.bool_or(t, "special", false);
            p.added_tokens.push_back(std::move(a));
        }
    }
    // Padding: tokenizer.json's own settings first, then tokenizer_config.json.
    const json padding = j.value("padding", json());
    apply_tokenizer_config(parent_dir(path), p);
    if (padding.is_object()) {
        p.pad_id = static_cast<int32_t>(r.int_or(padding, "pad_id", p.pad_id));
        p.pad_token = r.string_or(padding, "pad_token", p.pad_token);
    }
    if (p.model_max_length == 0) {
        const json trunc = j.value("truncation", json());
        if (trunc.is_object()) p.model_max_length = static_cast<int>(r.int_or(trunc, "max_length", 0));
    }
    return std::make_unique<PipelineTokenizer>(std::move(p));
}

std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& path, bool lowercase) {
    std::string text = read_file(path);
    auto model = std::make_unique<WordPieceModel>("[UNK]", "##", 100);
    int32_t id = 0;
    for (std::string_view line : split_lines(text)) model->vocab().add(line, id++);
    if (id == 0) throw file_error(path, "empty vocabulary");
    model->finalize(path);
    PipelineParts p;
    p.origin = path;
    p.family = "wordpiece";
    NormalizerStep bert;
    bert.kind = NormalizerStep::Kind::Bert;
    bert.lowercase = lowercase;
    bert.strip_accents = lowercase;
    p.normalizer.add(bert);
    p.pre_tokenizer.add(PreTokenizerStep{});
    p.model = std::move(model);
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) add_special_if_known(p, t);
    int32_t cls = p.model->vocab().find("[CLS]"), sep = p.model->vocab().find("[SEP]");
    if (cls < 0 || sep < 0) throw file_error(path, "vocabulary lacks [CLS] / [SEP]");
    p.post = PostTemplate::bert(cls, "[CLS]", sep, "[SEP]");
    p.decoder.push_back(DecoderStep{DecoderStep::Kind::WordPiece, "##", true});
    set_pad(p, "[PAD]");
    p.model_max_length = 512;
    return std::make_unique<PipelineTokenizer>(std::move(p));
}

std::unique_ptr<Tokenizer> load_bpe_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                                 bool add_prefix_space) {
    json vocab = parse_json_file(vocab_path);
    if (!vocab.is_object()) throw file_error(vocab_path, "must be an object of token -> id");
    const bool clip = vocab.contains("<|startoftext|>");
    auto model = make_bpe_model(clip);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        if (!it.value().is_number_integer()) throw file_error(vocab_path, quote_excerpt(it.key()) + " has no integer id");
        model->vocab().add(it.key(), it.value().get<int32_t>());
    }
    std::string merges = read_file(merges_path);
    size_t line_no = 0;
    for (std::string_view line : split_lines(merges)) {
        ++line_no;
        if (line.empty() || (line_no == 1 && line.substr(0, 8) == "#version")) continue;
        add_merge_line(*model, line, merges_path, line_no);
    }
    model->finalize(vocab_path);
    return build_bpe(vocab_path, std::move(model), add_prefix_space);
}

std::unique_ptr<Tokenizer> load_clip_bpe_gz(const std::string& path) {
    const std::string text = gunzip_file(path);
    std::vector<std::string_view> lines = split_lines(text);
    // openai/CLIP SimpleTokenizer: merges = lines[1 : 49152 - 256 - 2 + 1].
    constexpr size_t kMerges = 49152 - 256 - 2;
    if (lines.size() < kMerges + 1) throw file_error(path, "has " + std::to_string(lines.size()) + " lines, expected at least " + std::to_string(kMerges + 1));
    auto model = make_bpe_model(true);
    Vocab& v = model->vocab();
    int32_t id = 0;
    // vocab = byte characters (in bytes_to_unicode()'s order), the same + "</w>", merged pairs, specials.
    std::vector<std::string> chars;
    for (char32_t cp = 0; cp < 512; ++cp)
        for (int b = 0; b < 256; ++b)
            if (byte_to_unicode()[b] == cp) chars.push_back(byte_to_utf8()[b]);
    // bytes_to_unicode() lists the printable bytes first, then the remapped ones (U+0100...).
    for (const std::string& c : chars) v.add(c, id++);
    for (const std::string& c : chars) v.add(c + "</w>", id++);
    for (size_t i = 1; i <= kMerges; ++i) {
        std::string_view line = lines[i];
        size_t space = line.find(' ');
        if (space == std::string_view::npos) throw file_error(path, "line " + std::to_string(i + 1) + ": not a merge");
        std::string merged(line.substr(0, space));
        merged.append(line.substr(space + 1));
        v.add(merged, id++);
    }
    v.add("<|startoftext|>", id++);
    v.add("<|endoftext|>", id++);
    for (size_t i = 1; i <= kMerges; ++i) add_merge_line(*model, lines[i], path, i + 1);
    model->finalize(path);
    return build_bpe(path, std::move(model), false);
}

}  // namespace syn::text
