#pragma once
// Finds model folders: a local path, or a hub id resolved in the Hugging Face cache layout that
// Python tools share: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, holding
//   models--<org>--<name>/refs/<revision>          (text file with the commit hash)
//   models--<org>--<name>/snapshots/<commit>/...   (the files)
#include <optional>
#include <string>
#include <vector>

namespace syn {

// The hub cache folder ("<...>/hub") from the environment, as huggingface_hub computes it.
std::string hf_hub_cache_dir();

// "openai/clip-vit-base-patch32" -> "models--openai--clip-vit-base-patch32".
std::string hf_cache_repo_folder_name(const std::string& repo_id);

// True for strings that look like hub ids ("org/name" or "name"), not like paths.
bool looks_like_hub_id(const std::string& text);

struct ResolvedModel {
    std::string id;        // what the user asked for
    std::string folder;    // the folder with config.json and weights
    std::string revision;  // commit hash for cache hits, "" for local folders
    bool from_cache = false;
};

// A local folder (must exist) or a hub id found in the cache at `revision` (a branch/tag name in
// refs/, or a commit hash). Returns nullopt when a hub id is not in the cache; throws syn::Error
// for a path that does not exist or is not a folder.
std::optional<ResolvedModel> resolve_model(const std::string& id_or_path, const std::string& revision = "main",
                                           const std::string& cache_dir = "");

// Every model snapshot in the cache (one per repo, the revision "main" points to, else the newest).
std::vector<ResolvedModel> list_cached_models(const std::string& cache_dir = "");

}  // namespace syn
