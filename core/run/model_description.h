#pragma once
// What a model folder is, in one place: family, the study's style, text-tower size and the config's
// shape, read cheaply (config.json through the models' own config readers, the checkpoint's header
// only: no weights are loaded). Used by the model list (GUI), the catalog for folders it does not
// list, `synesthesia models`, the STS job and the score job. No torch or Qt types here.
#include <cstdint>
#include <string>

namespace syn::run {

struct ModelDescription {
    std::string folder;             // as given
    std::string config_file;        // the config.json read (the transformer's, for sentence-transformers)
    std::string model_type;         // config.json model_type ("" when absent)
    std::string family;             // as the models layer names it: bert, roberta, clip, t5, siglip ("" when unknown)
    std::string style;              // the study's grouping: bert, clip, lexical, other
    long long params = 0;           // text-tower parameters from the checkpoint header; 0 = unknown
    std::string weights_file;       // the checkpoint counted ("" when the folder holds no weights)
    int64_t hidden_size = 0;        // 0 when the family has none / unknown
    int64_t layers = 0;
    int64_t max_positions = 0;      // 0 for relative positions (T5) or unknown
    bool sentence_transformers = false;  // modules.json present
    std::string st_pooling;         // sentence-transformers pipeline ("st:mean+normalize"), else ""
    std::string st_details;         // its one-line summary, else ""
    std::string error;              // why the folder is unusable, naming the file and key ("" = fine)

    bool ok() const { return error.empty(); }
    // Throws syn::Error(error) when not ok().
    void throw_if_error() const;
};

// Describes `folder` (a Hugging Face model folder, or a sentence-transformers folder). Never throws
// for a fault of the folder: `error` says what is wrong ("<folder>: does not exist", "<folder>: not
// a model folder: no config.json ...", "<config.json>: key 'hidden_size' ...", a corrupt checkpoint's
// reader message naming the file). A folder without weights is described (weights_file "", params 0).
ModelDescription describe_model(const std::string& folder);

// bert, roberta -> "bert"; clip, clip_text, siglip, siglip_text -> "clip"; lexical -> "lexical";
// anything else -> "other".
std::string style_of_family(const std::string& family);

// A style's group label in tables (Table 3): "BERT-style", "CLIP-style", "Lexical", "Other"; an
// unknown style is returned as it is.
std::string group_of_style(const std::string& style);

// The parameters a checkpoint tensor name contributes to the text tower: false for the vision tower,
// the CLIP/SigLIP logit scale and bias, T5's decoder and LM head, BERT's pre-training heads.
bool is_text_tower_tensor(const std::string& name);

}  // namespace syn::run
