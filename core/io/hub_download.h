#pragma once
// Downloads model repositories from the Hugging Face hub into the cache layout that Python's
// huggingface_hub uses, so both share one cache:
//   <cache>/models--org--name/blobs/<etag>                   the bytes (etag = git sha1, or sha256 for LFS)
//   <cache>/models--org--name/snapshots/<commit>/<file>      symlink -> ../../blobs/<etag>
//   <cache>/models--org--name/refs/<revision>                the commit the revision pointed to
// Protocol as in huggingface_hub (file_download.py, hf_api.py):
//   GET  {endpoint}/api/models/{repo}/revision/{rev}  -> {"sha": commit, "siblings": [{"rfilename"}]}
//   HEAD {endpoint}/{repo}/resolve/{rev}/{file}       -> X-Repo-Commit, ETag or X-Linked-Etag (LFS),
//        Content-Length or X-Linked-Size; relative redirects (renamed repos) are followed, an absolute
//        one (LFS on a CDN) is where the bytes are fetched from.
// Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN or the token file of
// `huggingface-cli login` (Authorization: Bearer),
// HF_HUB_OFFLINE (no request at all), HF_HUB_CACHE / HF_HOME (via hf_hub_cache_dir()).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/io/http_client.h"

namespace syn::hub {

// The access token: HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the file that
// `huggingface-cli login` writes (hf_token_file()); "" = anonymous.
std::string hf_token();
// $HF_TOKEN_PATH, else $HF_HOME/token, else ${XDG_CACHE_HOME:-~/.cache}/huggingface/token.
std::string hf_token_file();

struct HubOptions {
    std::string endpoint;   // without trailing '/'
    std::string cache_dir;  // the "hub" folder
    std::string token;      // "" = anonymous
    bool offline = false;
    net::TransferOptions transfer;
    // (stage, bytes done, bytes total); stage names the file ("org/name/model.safetensors").
    std::function<void(const std::string& stage, long long done, long long total)> progress;

    // Endpoint, token, offline flag and cache folder from the environment, as huggingface_hub reads them.
    static HubOptions from_environment();
};

struct RepoListing {
    std::string repo, revision, commit;
    std::vector<std::string> files;  // every file of the repo, paths relative to its root
};

// The file list at `revision`. Throws syn::Error with a hub-specific message (401/403: HF_TOKEN and
// gated models; 404: names the repo and the revision).
RepoListing list_repo_files(const std::string& repo, const std::string& revision, const HubOptions& options);

// The files a text encoder needs, from a repo listing: config.json, the tokenizer files present,
// and the weights: model.safetensors, else model.safetensors.index.json (shards are added once the
// index is read), else pytorch_model.bin (or its index). Root-level files only, except for
// sentence-transformers repos (modules.json): then also modules.json, config_sentence_transformers.json,
// sentence_bert_config.json and, in each module folder (1_Pooling/, 2_Dense/, 0_Transformer/, ...),
// its config files and weights (model.safetensors, else pytorch_model.bin); a Transformer saved in a
// module folder stands in for root weights. Throws syn::Error naming the repo when there are no
// weights it can use.
std::vector<std::string> select_model_files(const std::string& repo, const std::vector<std::string>& files);

// Shard file names listed by a `*.index.json` ("weight_map" values, unique, sorted).
std::vector<std::string> shards_from_index(const std::string& index_path);

// Downloads one file (or finds it in the cache) and returns its snapshot path. In offline mode only
// the cache is used (throws when absent).
std::string download_file(const std::string& repo, const std::string& filename, const std::string& revision,
                          const HubOptions& options);

struct SnapshotResult {
    std::string repo, revision, commit;
    std::string folder;               // snapshots/<commit>: pass it to the model loaders
    std::vector<std::string> files;   // relative names
    int downloaded = 0, cached = 0;
};

// Lists the repo, selects the files (select_model_files + shards) and downloads each into the cache;
// writes refs/<revision>. In offline mode (or when the hub cannot be reached at all and the cache has
// a complete snapshot) returns the cached snapshot without a request. When nothing usable is cached
// and the hub cannot be reached, the error says what is missing and how to provide it by hand.
SnapshotResult download_model(const std::string& repo, const std::string& revision, const HubOptions& options);

// A complete snapshot (config.json and all weight files present) in the cache, without any request.
std::optional<SnapshotResult> cached_model(const std::string& repo, const std::string& revision,
                                           const std::string& cache_dir);

// Text for a user without network: the cache folder, the files needed and the exact folder layout
// to create by hand (or how to copy a cache from another machine).
std::string missing_model_help(const std::string& repo, const std::string& revision, const HubOptions& options);

}  // namespace syn::hub
