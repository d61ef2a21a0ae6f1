#include "core/io/sentence_transformers.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"
#include "core/io/torch_checkpoint.h"

namespace fs = std::filesystem;

namespace syn::st {
namespace {

// The names sentence-transformers' Transformer.load_config tries, in its order.
const char* const kSbertConfigNames[] = {"sentence_bert_config.json",       "sentence_roberta_config.json",
                                         "sentence_distilbert_config.json", "sentence_camembert_config.json",
                                         "sentence_albert_config.json",     "sentence_xlm-roberta_config.json",
                                         "sentence_xlnet_config.json"};

nlohmann::json read_json(const std::string& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw file_error(path, "file not found");
    try {
        return nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw file_error(path, std::string("invalid JSON: ") + e.what());
    }
}

HfConfig read_object(const std::string& path) {
    nlohmann::json j = read_json(path);
    if (!j.is_object()) throw file_error(path, "expected a JSON object at the top level");
    return HfConfig(std::move(j), path);
}

// "sentence_transformers.models.Pooling" or "sentence_transformers.models.Pooling.Pooling" -> "Pooling".
std::string st_class_name(const std::string& type) {
    const std::string prefix = "sentence_transformers.models.";
    if (type.compare(0, prefix.size(), prefix) != 0) return "";
    std::string rest = type.substr(prefix.size());
    const size_t dot = rest.find('.');
    if (dot == std::string::npos) return rest;
    if (rest.substr(dot + 1) == rest.substr(0, dot)) return rest.substr(0, dot);
    return "";
}

std::string module_folder(const std::string& folder, const std::string& path, const std::string& modules_file,
                          size_t index) {
    const fs::path p(path);
    if (p.is_absolute() || path.find("..") != std::string::npos)
        throw file_error(modules_file, "module " + std::to_string(index) + ": key 'path' = '" + path +
                                           "' leaves the model folder (refused)");
    std::string out = path.empty() ? folder : (fs::path(folder) / p).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

PoolingConfig read_pooling(const std::string& path) {
    const HfConfig c = read_object(path);
    PoolingConfig p;
    for (const auto& [key, value] : c.json().items()) {
        if (key.rfind("pooling_mode", 0) != 0) continue;
        static const char* const known[] = {"pooling_mode",
                                            "pooling_mode_cls_token",
                                            "pooling_mode_mean_tokens",
                                            "pooling_mode_max_tokens",
                                            "pooling_mode_mean_sqrt_len_tokens",
                                            "pooling_mode_weightedmean_tokens",
                                            "pooling_mode_lasttoken"};
        bool ok = false;
        for (const char* k : known) ok = ok || key == k;
        if (!ok)
            throw file_error(path, "key '" + key +
                                       "' is a pooling mode this workbench does not know (known: "
                                       "pooling_mode_cls_token, pooling_mode_max_tokens, pooling_mode_mean_tokens, "
                                       "pooling_mode_mean_sqrt_len_tokens, pooling_mode_weightedmean_tokens, "
                                       "pooling_mode_lasttoken)");
    }
    p.cls_token = c.get_bool("pooling_mode_cls_token", false);
    p.mean_tokens = c.get_bool("pooling_mode_mean_tokens", true);
    p.max_tokens = c.get_bool("pooling_mode_max_tokens", false);
    p.mean_sqrt_len_tokens = c.get_bool("pooling_mode_mean_sqrt_len_tokens", false);
    p.weightedmean_tokens = c.get_bool("pooling_mode_weightedmean_tokens", false);
    p.lasttoken = c.get_bool("pooling_mode_lasttoken", false);
    p.include_prompt = c.get_bool("include_prompt", true);
    p.word_embedding_dimension = c.get_int("word_embedding_dimension", 0);
    if (p.word_embedding_dimension < 0)
        throw file_error(path, "key 'word_embedding_dimension' must be positive, got " +
                                   std::to_string(p.word_embedding_dimension));
    const std::string mode = c.get_string("pooling_mode", "");
    if (c.has("pooling_mode") && !c.json().at("pooling_mode").is_null()) {
        // Pooling(pooling_mode=...) overrides every boolean, as sentence-transformers does.
        std::string m = mode;
        for (char& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        p.cls_token = m == "cls";
        p.max_tokens = m == "max";
        p.mean_tokens = m == "mean";
        p.mean_sqrt_len_tokens = m == "mean_sqrt_len_tokens";
        p.weightedmean_tokens = m == "weightedmean";
        p.lasttoken = m == "lasttoken";
        if (p.modes() == 0)
            throw file_error(path, "key 'pooling_mode' = '" + mode +
                                       "' is not a pooling mode (cls, lasttoken, max, mean, mean_sqrt_len_tokens, "
                                       "weightedmean)");
    }
    if (p.modes() == 0)
        throw file_error(path, "no pooling mode is on (every pooling_mode_* key is false): the model would give no "
                               "sentence embedding");
    return p;
}

std::string activation_from_type(const std::string& type, const std::string& path) {
    std::string cls;
    for (const char* prefix : {"torch.nn.modules.activation.", "torch.nn.modules.linear.", "torch.nn."}) {
        const std::string p = prefix;
        if (type.compare(0, p.size(), p) == 0 && type.find('.', p.size()) == std::string::npos) {
            cls = type.substr(p.size());
            break;
        }
    }
    static const std::pair<const char*, const char*> table[] = {{"Identity", "identity"}, {"Tanh", "tanh"},
                                                                {"ReLU", "relu"},         {"GELU", "gelu"},
                                                                {"Sigmoid", "sigmoid"},   {"SiLU", "silu"}};
    for (const auto& [name, canonical] : table)
        if (cls == name) return canonical;
    throw file_error(path, "key 'activation_function' = '" + type +
                               "' is not an activation this workbench computes (torch.nn.modules.activation.Tanh, "
                               "ReLU, GELU, Sigmoid, SiLU, or torch.nn.modules.linear.Identity)");
}

bool is_floating(DType d) { return d == DType::F32 || d == DType::F16 || d == DType::BF16 || d == DType::F64; }

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

DenseConfig read_dense(const std::string& folder, const std::string& config_path, std::vector<std::string>& files) {
    const HfConfig c = read_object(config_path);
    DenseConfig d;
    d.in_features = c.get_int("in_features");
    d.out_features = c.get_int("out_features");
    d.bias = c.get_bool("bias", true);
    d.activation_type = c.get_string("activation_function");
    if (d.in_features <= 0 || d.in_features > (1 << 20))
        throw file_error(config_path, "key 'in_features' out of range: " + std::to_string(d.in_features));
    if (d.out_features <= 0 || d.out_features > (1 << 20))
        throw file_error(config_path, "key 'out_features' out of range: " + std::to_string(d.out_features));
    d.activation = activation_from_type(d.activation_type, config_path);

    std::error_code ec;
    const fs::path st = fs::path(folder) / "model.safetensors";
    const fs::path bin = fs::path(folder) / "pytorch_model.bin";
    if (fs::is_regular_file(st, ec)) {
        d.weights_file = st.string();
        d.weights = read_safetensors(d.weights_file).tensors;
    } else if (fs::is_regular_file(bin, ec)) {
        d.weights_file = bin.string();
        d.weights = read_torch_checkpoint(d.weights_file);
    } else {
        throw file_error(folder, "Dense module (" + config_path +
                                     ") has no weights: neither model.safetensors nor pytorch_model.bin");
    }
    files.push_back(d.weights_file);
    auto expect = [&](const std::string& key, std::vector<int64_t> shape) {
        auto it = d.weights.find(key);
        if (it == d.weights.end())
            throw file_error(d.weights_file, "key '" + key + "' missing (a Dense layer needs linear.weight" +
                                                 std::string(d.bias ? " and linear.bias" : "") + ")");
        if (!is_floating(it->second.dtype))
            throw file_error(d.weights_file, "key '" + key + "' has dtype " + dtype_name(it->second.dtype) +
                                                 ", expected a floating point type");
        if (it->second.shape != shape)
            throw file_error(d.weights_file, "key '" + key + "' has shape " + shape_string(it->second.shape) +
                                                 ", expected " + shape_string(shape) + " (in_features " +
                                                 std::to_string(d.in_features) + ", out_features " +
                                                 std::to_string(d.out_features) + " in " + config_path + ")");
    };
    expect("linear.weight", {d.out_features, d.in_features});
    if (d.bias) expect("linear.bias", {d.out_features});
    for (const auto& [key, t] : d.weights) {
        (void)t;
        if (key != "linear.weight" && !(d.bias && key == "linear.bias"))
            throw file_error(d.weights_file, "unexpected key '" + key + "'" +
                                                 (key == "linear.bias" ? " (config.json says bias: false)" : "") +
                                                 " (a Dense layer holds linear.weight and linear.bias only)");
    }
    return d;
}

void read_transformer_settings(SentenceTransformerConfig& c) {
    std::error_code ec;
    for (const char* name : kSbertConfigNames) {
        const fs::path p = fs::path(c.transformer_folder) / name;
        if (!fs::is_regular_file(p, ec)) continue;
        c.sbert_config_file = p.string();
        break;
    }
    if (c.sbert_config_file.empty()) return;
    c.files.push_back(c.sbert_config_file);
    const HfConfig s = read_object(c.sbert_config_file);
    if (s.has("max_seq_length") && !s.json().at("max_seq_length").is_null()) {
        const int64_t n = s.get_int("max_seq_length");
        if (n <= 0 || n > (1 << 24))
            throw file_error(c.sbert_config_file, "key 'max_seq_length' out of range: " + std::to_string(n));
        c.max_seq_length = n;
    }
    c.do_lower_case = s.get_bool("do_lower_case", false);
}

void read_st_config(SentenceTransformerConfig& c) {
    std::error_code ec;
    const fs::path p = fs::path(c.folder) / "config_sentence_transformers.json";
    if (!fs::is_regular_file(p, ec)) return;
    c.st_config_file = p.string();
    c.files.push_back(c.st_config_file);
    const HfConfig s = read_object(c.st_config_file);
    const HfConfig prompts = s.sub("prompts");
    for (const auto& [name, value] : prompts.json().items()) {
        if (!value.is_string())
            throw file_error(c.st_config_file, "key 'prompts." + name + "' has type " + value.type_name() +
                                                   ", expected string");
        c.prompts[name] = value.get<std::string>();
    }
    c.default_prompt_name = s.get_string("default_prompt_name", "");
    if (!c.default_prompt_name.empty() && !c.prompts.count(c.default_prompt_name))
        throw file_error(c.st_config_file, "key 'default_prompt_name' = '" + c.default_prompt_name +
                                               "' is not one of the prompts");
    c.similarity_fn_name = s.get_string("similarity_fn_name", "");
    const HfConfig version = s.sub("__version__");
    c.st_version = version.get_string("sentence_transformers", "");
}

}  // namespace

const char* module_type_name(ModuleType type) {
    switch (type) {
        case ModuleType::transformer: return "Transformer";
        case ModuleType::pooling: return "Pooling";
        case ModuleType::dense: return "Dense";
        case ModuleType::normalize: return "Normalize";
    }
    return "?";
}

int PoolingConfig::modes() const {
    return int(cls_token) + int(max_tokens) + int(mean_tokens) + int(mean_sqrt_len_tokens) +
           int(weightedmean_tokens) + int(lasttoken);
}

std::string PoolingConfig::describe() const {
    std::string s;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!s.empty()) s += "+";
        s += name;
    };
    add(cls_token, "cls");
    add(max_tokens, "max");
    add(mean_tokens, "mean");
    add(mean_sqrt_len_tokens, "mean_sqrt_len_tokens");
    add(weightedmean_tokens, "weightedmean");
    add(lasttoken, "lasttoken");
    return s;
}

const PoolingConfig& SentenceTransformerConfig::pooling() const {
    for (const auto& m : modules)
        if (m.type == ModuleType::pooling) return m.pooling;
    throw file_error(modules_file, "no Pooling module");
}

std::string SentenceTransformerConfig::default_prompt() const {
    if (default_prompt_name.empty()) return "";
    auto it = prompts.find(default_prompt_name);
    return it == prompts.end() ? "" : it->second;
}

std::string SentenceTransformerConfig::describe() const {
    std::string s = "st:";
    for (const auto& m : modules) {
        switch (m.type) {
            case ModuleType::transformer: break;
            case ModuleType::pooling: s += m.pooling.describe(); break;
            case ModuleType::dense: s += "+dense"; break;
            case ModuleType::normalize: s += "+normalize"; break;
        }
    }
    return s;
}

bool is_sentence_transformers_folder(const std::string& folder) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(folder) / "modules.json", ec);
}

SentenceTransformerConfig read_sentence_transformers(const std::string& folder) {
    SentenceTransformerConfig c;
    c.folder = folder;
    c.modules_file = (fs::path(folder) / "modules.json").string();
    const nlohmann::json modules = read_json(c.modules_file);
    c.files.push_back(c.modules_file);
    if (!modules.is_array() || modules.empty())
        throw file_error(c.modules_file, "expected a non-empty JSON array of modules ({\"path\", \"type\"})");

    for (size_t i = 0; i < modules.size(); ++i) {
        const nlohmann::json& m = modules[i];
        const std::string where = "module " + std::to_string(i);
        if (!m.is_object()) throw file_error(c.modules_file, where + ": expected an object with 'path' and 'type'");
        for (const char* key : {"type", "path"}) {
            if (!m.contains(key)) throw file_error(c.modules_file, where + ": key '" + key + "' missing");
            if (!m.at(key).is_string())
                throw file_error(c.modules_file, where + ": key '" + key + "' has type " + m.at(key).type_name() +
                                                     ", expected string");
        }
        ModuleEntry e;
        e.type_name = m.at("type").get<std::string>();
        e.path = m.at("path").get<std::string>();
        e.folder = module_folder(folder, e.path, c.modules_file, i);
        const std::string cls = st_class_name(e.type_name);
        if (cls == "Transformer") e.type = ModuleType::transformer;
        else if (cls == "Pooling") e.type = ModuleType::pooling;
        else if (cls == "Dense") e.type = ModuleType::dense;
        else if (cls == "Normalize") e.type = ModuleType::normalize;
        else
            throw file_error(c.modules_file, where + ": module type '" + e.type_name +
                                                 "' is not supported (supported: sentence_transformers.models."
                                                 "Transformer, Pooling, Dense, Normalize); refusing rather than "
                                                 "embedding without it");

        // The order sentence-transformers' standard modules need: the Transformer gives token
        // embeddings, Pooling turns them into the sentence embedding that Dense / Normalize transform.
        const bool first = i == 0;
        const bool after_transformer = i == 1;
        if (first != (e.type == ModuleType::transformer))
            throw file_error(c.modules_file, where + " (" + e.type_name + "): " +
                                                 (first ? "the first module must be sentence_transformers.models."
                                                          "Transformer"
                                                        : "only the first module may be a Transformer"));
        if (after_transformer != (e.type == ModuleType::pooling))
            throw file_error(c.modules_file, where + " (" + e.type_name + "): " +
                                                 (after_transformer ? "a Pooling module must follow the Transformer"
                                                                    : "only one Pooling module, right after the "
                                                                      "Transformer, is supported"));

        std::error_code ec;
        if (e.type == ModuleType::pooling) {
            e.config_file = (fs::path(e.folder) / "config.json").string();
            e.pooling = read_pooling(e.config_file);
            c.files.push_back(e.config_file);
        } else if (e.type == ModuleType::dense) {
            e.config_file = (fs::path(e.folder) / "config.json").string();
            c.files.push_back(e.config_file);
            e.dense = read_dense(e.folder, e.config_file, c.files);
        } else if (e.type == ModuleType::transformer) {
            if (!fs::is_directory(e.folder, ec))
                throw file_error(c.modules_file, where + ": the Transformer's folder '" + e.path + "' does not exist");
            c.transformer_folder = e.folder;
        }
        c.modules.push_back(std::move(e));
    }
    if (c.modules.size() < 2)
        throw file_error(c.modules_file, "a Transformer alone gives token embeddings, no sentence embedding: a "
                                         "Pooling module must follow it");

    // Widths along the chain, where the files say them.
    int64_t width = 0;  // 0 = unknown (the transformer's hidden size, checked when the model is loaded)
    for (const auto& m : c.modules) {
        if (m.type == ModuleType::pooling && m.pooling.word_embedding_dimension > 0)
            width = m.pooling.word_embedding_dimension * m.pooling.modes();
        if (m.type == ModuleType::dense) {
            if (width > 0 && width != m.dense.in_features)
                throw file_error(m.config_file, "key 'in_features' = " + std::to_string(m.dense.in_features) +
                                                    " but the module before gives vectors of width " +
                                                    std::to_string(width));
            width = m.dense.out_features;
        }
    }

    read_transformer_settings(c);
    read_st_config(c);
    return c;
}

std::string sentence_transformers_fingerprint(const SentenceTransformerConfig& config) {
    std::string manifest;
    for (const auto& f : config.files)
        manifest += fs::path(f).lexically_relative(config.folder).string() + " " + sha256_file(f) + "\n";
    return sha256_hex(manifest);
}

SentenceTransformerSummary summarize_sentence_transformers(const SentenceTransformerConfig& config) {
    SentenceTransformerSummary s;
    try {
        s.model_type = HfConfig::load(config.transformer_folder).model_type();
    } catch (const Error&) {
        s.model_type = "";
    }
    s.pooling = config.describe();
    std::string d;
    auto add = [&](const std::string& part) { d += (d.empty() ? "" : "; ") + part; };
    if (config.transformer_folder != config.folder)
        add("transformer in " + fs::path(config.transformer_folder).lexically_relative(config.folder).string() + "/");
    add(config.max_seq_length ? "max_seq_length " + std::to_string(*config.max_seq_length) : "max_seq_length: model's");
    if (config.do_lower_case) add("lower-case");
    for (const auto& m : config.modules)
        if (m.type == ModuleType::dense)
            add("dense " + std::to_string(m.dense.in_features) + "->" + std::to_string(m.dense.out_features) + " " +
                m.dense.activation);
    if (!config.pooling().include_prompt) add("prompt tokens excluded from pooling");
    add("similarity " + (config.similarity_fn_name.empty() ? std::string("cosine (default)") : config.similarity_fn_name));
    if (!config.prompts.empty()) {
        std::string names;
        for (const auto& [name, text] : config.prompts) names += (names.empty() ? "" : ", ") + name;
        add("prompts " + names);
    }
    if (!config.default_prompt_name.empty()) add("default prompt '" + config.default_prompt_name + "'");
    s.details = d;
    return s;
}

}  // namespace syn::st
