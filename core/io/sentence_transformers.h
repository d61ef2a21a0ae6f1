#pragma once
// sentence-transformers model folders: a Hugging Face folder plus the files sentence-transformers
// writes next to it, read and validated here (no torch) so that a wrong file fails with the file
// and the key named before anything is computed:
//   modules.json                         [{"idx", "name", "path", "type"}]: the pipeline, in order
//   <transformer>/sentence_bert_config.json   max_seq_length, do_lower_case (Transformer module)
//   config_sentence_transformers.json    prompts, default_prompt_name, similarity_fn_name (optional)
//   <pooling>/config.json                pooling_mode_* booleans, include_prompt (Pooling module)
//   <dense>/config.json + model.safetensors or pytorch_model.bin   Linear + activation (Dense)
//   Normalize                            no files
// The pipeline is Transformer -> Pooling -> (Dense | Normalize)*, the shape every model saved by
// sentence-transformers' standard modules has; any other module type (or order) is refused with the
// type and modules.json named, never skipped.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn::st {

enum class ModuleType { transformer, pooling, dense, normalize };
const char* module_type_name(ModuleType type);  // "Transformer", "Pooling", "Dense", "Normalize"

// 1_Pooling/config.json. Defaults are sentence-transformers' Pooling.__init__ defaults (mean on when
// its key is absent); "pooling_mode": "<mode>" (also accepted there) sets exactly one mode.
struct PoolingConfig {
    bool cls_token = false;
    bool max_tokens = false;
    bool mean_tokens = true;
    bool mean_sqrt_len_tokens = false;
    bool weightedmean_tokens = false;
    bool lasttoken = false;
    bool include_prompt = true;
    int64_t word_embedding_dimension = 0;  // 0 when the file does not say
    int modes() const;                     // how many modes are on (their outputs are concatenated)
    // The modes in sentence-transformers' concatenation order (cls, max, mean, mean_sqrt_len_tokens,
    // weightedmean, lasttoken), joined by '+': "mean", "cls+mean".
    std::string describe() const;
};

// 2_Dense/config.json + its weights.
struct DenseConfig {
    int64_t in_features = 0;
    int64_t out_features = 0;
    bool bias = true;
    std::string activation;       // "identity", "tanh", "relu", "gelu", "sigmoid", "silu"
    std::string activation_type;  // as written: "torch.nn.modules.activation.Tanh"
    std::string weights_file;     // model.safetensors, else pytorch_model.bin
    TensorMap weights;            // exactly "linear.weight" [out, in] (+ "linear.bias" [out]), floating point
};

struct ModuleEntry {
    ModuleType type = ModuleType::transformer;
    std::string type_name;    // as written in modules.json
    std::string path;         // as written ("" = the model folder itself)
    std::string folder;       // <model folder>/<path>
    std::string config_file;  // Pooling / Dense: the config.json read ("" otherwise)
    PoolingConfig pooling;    // type == pooling
    DenseConfig dense;        // type == dense
};

struct SentenceTransformerConfig {
    std::string folder;        // the model folder (with modules.json)
    std::string modules_file;  // <folder>/modules.json
    std::vector<ModuleEntry> modules;  // modules.json order: Transformer, Pooling, then Dense / Normalize

    // Transformer module
    std::string transformer_folder;  // where config.json, the tokenizer and the weights are
    std::string sbert_config_file;   // "" when absent (then no max_seq_length, no lower-casing)
    std::optional<int64_t> max_seq_length;  // tokens, special tokens included
    bool do_lower_case = false;

    // config_sentence_transformers.json (all optional)
    std::string st_config_file;
    std::map<std::string, std::string> prompts;
    std::string default_prompt_name;  // "" = none: no prompt is prepended by default
    std::string similarity_fn_name;   // "" = not given (sentence-transformers then uses cosine)
    std::string st_version;           // "__version__": {"sentence_transformers": ...}

    std::vector<std::string> files;  // every file read, for fingerprints (besides the transformer's own)

    const PoolingConfig& pooling() const;
    // The default prompt's text ("" when none), as sentence-transformers prepends it in encode().
    std::string default_prompt() const;
    // "st:" + pooling modes + "+dense" per Dense + "+normalize" per Normalize, in module order:
    // "st:mean+normalize", "st:cls+dense+normalize". Recorded as the pooling in manifests and cache keys.
    std::string describe() const;
};

// True when <folder>/modules.json exists.
bool is_sentence_transformers_folder(const std::string& folder);

// Reads and validates everything above. Throws syn::Error naming the file and the key (or the
// module type) for: a file that is not JSON or has the wrong shape, a key of the wrong type or out
// of range, an unknown or unsupported module type, modules in an order sentence-transformers'
// standard modules cannot form, a path leaving the folder, no pooling mode on, an unknown
// activation, Dense weights missing, unexpected, mis-shaped or not floating point.
SentenceTransformerConfig read_sentence_transformers(const std::string& folder);

// SHA-256 over the names and contents of `config.files` (module configs, Dense weights, ...): folded
// into the model fingerprint so that the embedding cache key changes with any of them.
std::string sentence_transformers_fingerprint(const SentenceTransformerConfig& config);

// For model lists: the transformer's model_type ("bert"; "" when its config.json cannot say) and a
// one-line summary ("st:mean+normalize; max_seq_length 256; lower-case; similarity cosine; prompts query, passage").
struct SentenceTransformerSummary {
    std::string model_type;
    std::string pooling;  // describe()
    std::string details;
};
SentenceTransformerSummary summarize_sentence_transformers(const SentenceTransformerConfig& config);

}  // namespace syn::st
