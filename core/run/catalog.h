#pragma once
// The model catalog (resources/model_catalog.json, compiled into the binary): the study's
// encoders, SimCSE, T5, SigLIP and the lexical baselines, with family, size and the reference
// code's pooling per experiment.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace syn::run {

struct CatalogEntry {
    std::string id;          // hub id, or "lexical/..." for the built-in baselines
    std::string family;      // bert, roberta, clip, t5, siglip, lexical
    std::string style;       // "bert", "clip", "lexical", "other": the study's grouping
    long long params = 0;    // text tower parameters
    std::map<std::string, std::string> pooling;  // experiment ("sts", "t2i", "glue") -> pooling name
    std::string paper_label; // "BERT-base", ... when the paper reports it
    std::string note;
    bool is_lexical() const { return family == "lexical"; }
};

// The built-in catalog; `json_text` overrides it (tests). Errors name the key.
std::vector<CatalogEntry> load_catalog(const std::string& json_text = "");
std::optional<CatalogEntry> find_catalog_entry(const std::string& id);

// The catalog's entry for `id`, else, for a model folder the catalog does not list (`folder`: the
// folder itself or a cached hub id's), an entry described from the folder by describe_model
// (family, style, params; no pooling, no paper label); nullopt when neither (`folder` empty). A
// folder that cannot be described -> syn::Error naming the file and the key.
std::optional<CatalogEntry> catalog_entry_or_folder(const std::string& id, const std::string& folder);

}  // namespace syn::run
