#include "core/io/hub_download.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"
#include "core/io/model_store.h"

namespace fs = std::filesystem;

namespace syn::hub {
namespace {

const char* const kDefaultEndpoint = "https://huggingface.co";

// Tokenizer and preprocessing files the loaders read, when the repo has them.
const char* const kSideFiles[] = {"config.json",          "tokenizer.json",          "tokenizer_config.json",
                                  "vocab.txt",            "vocab.json",              "merges.txt",
                                  "spiece.model",         "special_tokens_map.json", "added_tokens.json",
                                  "preprocessor_config.json"};

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

bool env_true(const char* name) {
    std::string v = env_or_empty(name);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

bool is_commit_hash(const std::string& s) {
    return s.size() == 40 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// huggingface_hub: etag.lstrip("W/").strip('"')
std::string normalize_etag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    while (!etag.empty() && etag.front() == '"') etag.erase(etag.begin());
    while (!etag.empty() && etag.back() == '"') etag.pop_back();
    return etag;
}

fs::path repo_folder(const HubOptions& o, const std::string& repo) {
    return fs::path(o.cache_dir.empty() ? hf_hub_cache_dir() : o.cache_dir) / hf_cache_repo_folder_name(repo);
}

std::optional<std::string> read_ref(const fs::path& repo_dir, const std::string& revision) {
    std::ifstream in(repo_dir / "refs" / revision);
    if (!in) return std::nullopt;
    std::string hash;
    std::getline(in, hash);
    while (!hash.empty() && std::isspace(static_cast<unsigned char>(hash.back()))) hash.pop_back();
    if (hash.empty()) return std::nullopt;
    return hash;
}

// The commit a revision names in the cache: refs/<rev>, else the revision itself (a commit hash,
// or a snapshot folder named by hand), as resolve_model does.
std::string cached_commit(const fs::path& repo_dir, const std::string& revision) {
    return read_ref(repo_dir, revision).value_or(revision);
}

net::Headers auth_headers(const HubOptions& o) {
    net::Headers h;
    if (!o.token.empty()) h.push_back("Authorization: Bearer " + o.token);
    return h;
}

std::string repo_url(const HubOptions& o, const std::string& repo) { return o.endpoint + "/" + repo; }

std::string resolve_url(const HubOptions& o, const std::string& repo, const std::string& revision,
                        const std::string& filename) {
    return repo_url(o, repo) + "/resolve/" + net::url_quote(revision, "") + "/" + net::url_quote(filename, "/");
}

// The message for an error status, in the hub's terms.
net::HttpStatusError status_error(long status, const std::string& error_code, const std::string& url, const HubOptions& o,
                   const std::string& repo, const std::string& revision, const std::string& filename) {
    std::string where = repo + (filename.empty() ? "" : "/" + filename) + " (revision " + revision + ")";
    if (status == 401 || status == 403) {
        std::string msg = where + ": " + net::describe_status(status) + " from " + url + ". ";
        if (o.token.empty())
            msg += "The repo is gated or private (or its id is misspelled): accept its terms on " + repo_url(o, repo) +
                   " and set HF_TOKEN to an access token from https://huggingface.co/settings/tokens.";
        else
            msg += "HF_TOKEN is set but was refused: check that the token is valid and that its account has "
                   "accepted the terms of the gated model on " + repo_url(o, repo) + ".";
        return net::HttpStatusError(msg, status, url, error_code);
    }
    if (status == 404) {
        std::string what;
        if (error_code == "RepoNotFound") what = "repository " + repo + " not found";
        else if (error_code == "RevisionNotFound") what = "revision " + revision + " not found in " + repo;
        else if (error_code == "EntryNotFound") what = "file " + filename + " not found in " + repo + " at revision " + revision;
        else what = "not found: " + where;
        return net::HttpStatusError(what + " on " + o.endpoint + " (" + url + ")", status, url, error_code);
    }
    return net::HttpStatusError(where + ": " + net::describe_status(status) + " from " + url, status, url, error_code);
}

// Runs `fn` again after transient network failures and 5xx/429 answers (which `fn` reports by
// returning the response), with exponential backoff; returns the final response.
template <typename Fn>
net::HttpResponse with_retries(const net::TransferOptions& t, const std::string& url, Fn fn) {
    for (int attempt = 1;; ++attempt) {
        const bool last = attempt >= std::max(1, t.max_attempts);
        try {
            net::HttpResponse r = fn();
            if (!(r.status == 429 || r.status >= 500) || last) return r;
        } catch (const net::NetworkError& e) {
            if (!e.transient() || last) throw;
        }
        net::wait_before_retry(t, attempt, url);  // the one backoff policy (http_client)
    }
}

struct FileMetadata {
    std::string commit, etag, location;
    long long size = -1;
    bool redirected_elsewhere = false;  // the bytes live on another URL (LFS / CDN)
};

FileMetadata fetch_metadata(const std::string& repo, const std::string& filename, const std::string& revision,
                            const HubOptions& o) {
    net::Headers headers = auth_headers(o);
    headers.push_back("Accept-Encoding: identity");
    std::string url = resolve_url(o, repo, revision, filename);
    net::HttpResponse r;
    for (int hop = 0;; ++hop) {
        r = with_retries(o.transfer, url, [&] { return net::http_request("HEAD", url, headers, false, o.transfer); });
        std::string location = r.header("location");
        // A relative redirect is the hub's own (a renamed repo): follow it. An absolute one points to the
        // storage of an LFS file: that is where the bytes come from.
        if (r.status >= 300 && r.status < 400 && !location.empty() && location[0] == '/' && hop < 10) {
            size_t scheme = url.find("://");
            size_t host_end = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
            url = url.substr(0, host_end) + location;
            continue;
        }
        break;
    }
    if (r.status >= 400) throw status_error(r.status, r.header("x-error-code"), url, o, repo, revision, filename);
    FileMetadata m;
    m.commit = r.header("x-repo-commit");
    std::string etag = r.header("x-linked-etag");
    m.etag = normalize_etag(etag.empty() ? r.header("etag") : etag);
    std::string size = r.header("x-linked-size");
    if (size.empty()) size = r.header("content-length");
    if (!size.empty()) m.size = std::strtoll(size.c_str(), nullptr, 10);
    m.location = url;
    if (r.status >= 300 && r.status < 400 && !r.header("location").empty()) {
        m.location = r.header("location");
        m.redirected_elsewhere = true;
        if (r.header("x-linked-size").empty()) m.size = -1;  // Content-Length of a redirect says nothing
    }
    if (m.commit.empty() || m.etag.empty())
        throw Error(url + ": the server sent no " + std::string(m.commit.empty() ? "X-Repo-Commit" : "ETag") +
                    " header; is HF_ENDPOINT (" + o.endpoint + ") a Hugging Face hub?");
    if (m.etag.find('/') != std::string::npos || m.etag.find("..") != std::string::npos)
        throw Error(url + ": refusing ETag " + quote_excerpt(m.etag) + " (not a plain hash)");
    return m;
}

void write_ref(const fs::path& repo_dir, const std::string& revision, const std::string& commit) {
    if (revision == commit) return;
    fs::path ref = repo_dir / "refs" / revision;
    if (read_ref(repo_dir, revision) == commit) return;
    std::error_code ec;
    fs::create_directories(ref.parent_path(), ec);
    write_file_atomically(ref.string(), commit);
}

// snapshots/<commit>/<file> -> ../../blobs/<etag> (a copy where symlinks are not possible).
void link_snapshot_file(const fs::path& blob, const fs::path& pointer) {
    std::error_code ec;
    fs::create_directories(pointer.parent_path(), ec);
    if (ec) throw file_error(pointer.parent_path().string(), "cannot create folder: " + ec.message());
    fs::path tmp = pointer;
    tmp += ".tmp-link";
    fs::remove(tmp, ec);
    fs::create_symlink(blob.lexically_relative(pointer.parent_path()), tmp, ec);
    if (ec) {
        ec.clear();
        fs::copy_file(blob, tmp, fs::copy_options::overwrite_existing, ec);
        if (ec) throw file_error(pointer.string(), "cannot link or copy the blob: " + ec.message());
    }
    fs::rename(tmp, pointer, ec);
    if (ec) throw file_error(pointer.string(), "cannot place the file: " + ec.message());
}

struct FileOutcome {
    std::string path;
    bool downloaded = false;
};

FileOutcome fetch_file(const std::string& repo, const std::string& filename, const std::string& revision,
                       const HubOptions& o) {
    const fs::path repo_dir = repo_folder(o, repo);
    if (o.offline) {
        fs::path p = repo_dir / "snapshots" / cached_commit(repo_dir, revision) / filename;
        std::error_code ec;
        if (fs::exists(p, ec)) return {p.string(), false};
        throw Error("HF_HUB_OFFLINE is set and " + repo + "/" + filename + " (revision " + revision +
                    ") is not in the cache: expected " + p.string());
    }
    FileMetadata m = fetch_metadata(repo, filename, revision, o);
    write_ref(repo_dir, revision, m.commit);
    const fs::path blob = repo_dir / "blobs" / m.etag;
    const fs::path pointer = repo_dir / "snapshots" / m.commit / filename;
    std::error_code ec;
    if (fs::exists(pointer, ec)) return {pointer.string(), false};
    if (fs::exists(blob, ec) && (m.size < 0 || static_cast<long long>(fs::file_size(blob, ec)) == m.size)) {
        link_snapshot_file(blob, pointer);
        return {pointer.string(), false};
    }
    net::VerifiedDownload job;
    job.url = m.location;
    // Like huggingface_hub: the token goes to the hub only, never to the storage it redirects to.
    if (!m.redirected_elsewhere) job.headers = auth_headers(o);
    job.final_path = blob.string();
    job.expected_size = m.size;
    if (net::is_sha256_hex(m.etag)) job.expected_sha256 = m.etag;  // LFS: the etag is the content's sha256
    job.what = repo + "/" + filename;
    net::TransferOptions t = o.transfer;
    if (o.progress) {
        const std::string stage = job.what;
        const auto progress = o.progress;
        t.on_progress = [stage, progress](long long done, long long total) { progress(stage, done, total); };
    }
    try {
        net::download_verified(job, t);
    } catch (const net::HttpStatusError& e) {
        throw status_error(e.status(), e.error_code(), e.url(), o, repo, revision, filename);
    }
    link_snapshot_file(blob, pointer);
    return {pointer.string(), true};
}

bool has(const std::vector<std::string>& files, const std::string& name) {
    return std::find(files.begin(), files.end(), name) != files.end();
}

// Which weight file set a snapshot folder holds completely, or "" when none.
bool weights_complete(const fs::path& snap) {
    std::error_code ec;
    auto exists = [&](const std::string& f) { return fs::exists(snap / f, ec); };
    if (exists("model.safetensors") || exists("pytorch_model.bin")) return true;
    for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
        if (!exists(index)) continue;
        try {
            auto shards = shards_from_index((snap / index).string());
            if (!shards.empty() && std::all_of(shards.begin(), shards.end(), exists)) return true;
        } catch (const Error&) {
        }
    }
    return false;
}

}  // namespace

std::string hf_token_file() {
    if (std::string v = env_or_empty("HF_TOKEN_PATH"); !v.empty()) return v;
    if (std::string v = env_or_empty("HF_HOME"); !v.empty()) return (fs::path(v) / "token").string();
    std::string cache = env_or_empty("XDG_CACHE_HOME");
    if (cache.empty()) {
        const std::string home = env_or_empty("HOME");
        cache = (fs::path(home.empty() ? "/tmp" : home) / ".cache").string();
    }
    return (fs::path(cache) / "huggingface" / "token").string();
}

std::string hf_token() {
    if (std::string v = env_or_empty("HF_TOKEN"); !v.empty()) return v;
    if (std::string v = env_or_empty("HUGGING_FACE_HUB_TOKEN"); !v.empty()) return v;  // the older name
    // The file `huggingface-cli login` writes: the token on its first line. Unreadable = anonymous,
    // as the hub client does (a private repo then says 401 and names HF_TOKEN).
    // At most the first 4 KiB: a token is ~40 characters, and a huge file must not be read whole.
    std::ifstream in(hf_token_file(), std::ios::binary);
    std::string token(4096, '\0');
    in.read(token.data(), static_cast<std::streamsize>(token.size()));
    token.resize(static_cast<std::size_t>(in.gcount()));
    token = token.substr(0, token.find('\n'));
    const auto first = token.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
    // A token is one printable word; anything else (a binary file, a multi-word line) is not sent.
    for (unsigned char c : token)
        if (c <= ' ' || c >= 0x7f) return {};
    return token;
}

HubOptions HubOptions::from_environment() {
    HubOptions o;
    o.endpoint = env_or_empty("HF_ENDPOINT");
    if (o.endpoint.empty()) o.endpoint = kDefaultEndpoint;
    while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
    o.token = hf_token();
    o.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
    o.cache_dir = hf_hub_cache_dir();
    return o;
}

RepoListing list_repo_files(const std::string& repo, const std::string& revision, const HubOptions& o) {
    const std::string url = o.endpoint + "/api/models/" + repo + "/revision/" + net::url_quote(revision, "");
    net::HttpResponse r = with_retries(o.transfer, url, [&] {
        return net::http_request("GET", url, auth_headers(o), /*follow_redirects=*/true, o.transfer);
    });
    if (r.status != 200) throw status_error(r.status, r.header("x-error-code"), url, o, repo, revision, "");
    RepoListing out;
    out.repo = repo;
    out.revision = revision;
    try {
        auto json = nlohmann::json::parse(r.body);
        out.commit = json.at("sha").get<std::string>();
        for (const auto& s : json.at("siblings")) out.files.push_back(s.at("rfilename").get<std::string>());
    } catch (const nlohmann::json::exception& e) {
        throw Error(url + ": unexpected answer (expected JSON with \"sha\" and \"siblings\"): " + message_excerpt(e.what()));
    }
    if (!is_commit_hash(out.commit)) throw Error(url + ": \"sha\" is not a commit hash: '" + out.commit + "'");
    return out;
}

namespace {

// sentence-transformers repos (modules.json): the files its modules read, where the listing has them.
const char* const kSentenceTransformersFiles[] = {
    "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "sentence_roberta_config.json",
    "sentence_distilbert_config.json", "sentence_camembert_config.json", "sentence_albert_config.json",
    "sentence_xlm-roberta_config.json", "sentence_xlnet_config.json"};

// "1_Pooling", "2_Dense", "0_Transformer": the folders sentence-transformers saves modules into.
bool is_module_folder(const std::string& name) {
    const size_t us = name.find('_');
    if (us == 0 || us == std::string::npos || us + 1 == name.size()) return false;
    for (size_t i = 0; i < us; ++i)
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
    for (size_t i = us + 1; i < name.size(); ++i)
        if (!std::isalnum(static_cast<unsigned char>(name[i])) && name[i] != '_' && name[i] != '-') return false;
    return true;
}

// Appends modules.json & co. and, per module folder (1_Pooling/, 2_Dense/, 0_Transformer/, ...), its
// config files and its weights (model.safetensors, else pytorch_model.bin). Returns true when some
// module folder holds a whole transformer (config.json + weights), the layout whose root has none.
bool add_sentence_transformers_files(const std::vector<std::string>& files, std::vector<std::string>& out) {
    for (const char* f : kSentenceTransformersFiles)
        if (has(files, f)) out.push_back(f);
    std::set<std::string> folders;
    for (const auto& f : files) {
        const size_t slash = f.find('/');
        if (slash != std::string::npos && f.find('/', slash + 1) == std::string::npos &&
            is_module_folder(f.substr(0, slash)))
            folders.insert(f.substr(0, slash));
    }
    bool transformer_inside = false;
    for (const auto& d : folders) {
        const std::string prefix = d + "/";
        for (const char* f : kSideFiles)
            if (has(files, prefix + f)) out.push_back(prefix + f);
        for (const char* f : kSentenceTransformersFiles)
            if (has(files, prefix + f)) out.push_back(prefix + f);
        bool weights = false;
        for (const char* w : {"model.safetensors", "pytorch_model.bin"}) {
            if (has(files, prefix + w)) {
                out.push_back(prefix + w);
                weights = true;
                break;
            }
        }
        transformer_inside = transformer_inside || (weights && has(files, prefix + "config.json") &&
                                                    !has(files, "model.safetensors") && !has(files, "pytorch_model.bin"));
    }
    return transformer_inside;
}

}  // namespace

std::vector<std::string> select_model_files(const std::string& repo, const std::vector<std::string>& files) {
    std::vector<std::string> out;
    for (const char* f : kSideFiles)
        if (has(files, f)) out.push_back(f);
    const bool transformer_inside = has(files, "modules.json") && add_sentence_transformers_files(files, out);
    for (const char* w : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                          "pytorch_model.bin.index.json"}) {
        if (has(files, w)) {
            out.push_back(w);
            return out;
        }
    }
    if (transformer_inside) return out;  // sentence-transformers with its Transformer in e.g. 0_Transformer/
    throw Error(repo + ": the repo has no weights this workbench reads (model.safetensors, "
                       "model.safetensors.index.json or pytorch_model.bin)");
}

std::vector<std::string> shards_from_index(const std::string& index_path) {
    std::set<std::string> shards;
    try {
        auto json = nlohmann::json::parse(read_file(index_path));
        for (const auto& [key, value] : json.at("weight_map").items()) {
            std::string shard = value.get<std::string>();
            if (shard.empty() || shard[0] == '/' || shard.find("..") != std::string::npos)
                throw file_error(index_path, "weight_map[" + quote_excerpt(key) + "]: refusing shard path " + quote_excerpt(shard));
            shards.insert(shard);
        }
    } catch (const nlohmann::json::exception& e) {
        throw file_error(index_path, std::string("not a weight index (weight_map): ") + message_excerpt(e.what()));
    }
    return {shards.begin(), shards.end()};
}

std::string download_file(const std::string& repo, const std::string& filename, const std::string& revision,
                          const HubOptions& options) {
    return fetch_file(repo, filename, revision, options).path;
}

std::optional<SnapshotResult> cached_model(const std::string& repo, const std::string& revision,
                                           const std::string& cache_dir) {
    HubOptions o;
    o.cache_dir = cache_dir;
    const fs::path repo_dir = repo_folder(o, repo);
    const std::string commit = cached_commit(repo_dir, revision);
    const fs::path snap = repo_dir / "snapshots" / commit;
    std::error_code ec;
    if (!fs::is_directory(snap, ec) || !fs::exists(snap / "config.json", ec) || !weights_complete(snap))
        return std::nullopt;
    SnapshotResult s;
    s.repo = repo;
    s.revision = revision;
    s.commit = commit;
    s.folder = snap.string();
    for (const auto& e : fs::directory_iterator(snap, ec)) {
        s.files.push_back(e.path().filename().string());
        ++s.cached;
    }
    std::sort(s.files.begin(), s.files.end());
    return s;
}

std::string missing_model_help(const std::string& repo, const std::string& revision, const HubOptions& o) {
    const fs::path repo_dir = repo_folder(o, repo);
    std::string s;
    s += repo + " (revision " + revision + ") is not in the Hugging Face cache " +
         (o.cache_dir.empty() ? hf_hub_cache_dir() : o.cache_dir) + ".\n";
    s += "Needed files: config.json; the tokenizer files the repo has (tokenizer.json, tokenizer_config.json,\n"
         "  vocab.txt or vocab.json + merges.txt or spiece.model, special_tokens_map.json, preprocessor_config.json);\n"
         "  the weights: model.safetensors (or model.safetensors.index.json and every shard it lists),\n"
         "  or pytorch_model.bin when the repo has no safetensors.\n";
    s += "They are listed at " + repo_url(o, repo) + "/tree/" + revision + " and each one downloads from\n  " +
         repo_url(o, repo) + "/resolve/" + net::url_quote(revision, "") + "/<file>\n";
    s += "To provide them by hand, either\n";
    s += "  - run `synesthesia fetch " + repo + "` (or `huggingface-cli download " + repo +
         "`) on a machine with internet\n    and copy its " + hf_cache_repo_folder_name(repo) +
         " folder into the cache folder above (set HF_HOME or HF_HUB_CACHE to choose it), or\n";
    s += "  - put the files into " + (repo_dir / "snapshots" / "manual").string() + "/\n    and write the word "
         "'manual' into " + (repo_dir / "refs" / revision).string() + "\n";
    s += "  - or pass the folder that holds the files directly wherever a model is expected (--model <folder>).";
    return s;
}

SnapshotResult download_model(const std::string& repo, const std::string& revision, const HubOptions& o) {
    if (o.offline) {
        if (auto cached = cached_model(repo, revision, o.cache_dir)) return *cached;
        throw Error("HF_HUB_OFFLINE is set (no network use) and " + missing_model_help(repo, revision, o));
    }
    RepoListing listing;
    try {
        listing = list_repo_files(repo, revision, o);
    } catch (const net::NetworkError& e) {
        // The hub cannot be reached: a complete cached snapshot is as good as huggingface_hub's fallback.
        if (auto cached = cached_model(repo, revision, o.cache_dir)) return *cached;
        throw net::NetworkError(std::string(e.what()) + "\n" + missing_model_help(repo, revision, o), e.transient());
    }
    SnapshotResult s;
    s.repo = repo;
    s.revision = revision;
    s.commit = listing.commit;
    s.files = select_model_files(repo, listing.files);
    // Fetch every file at the listed commit, so that a push during the download cannot mix versions.
    for (size_t i = 0; i < s.files.size(); ++i) {
        FileOutcome f = fetch_file(repo, s.files[i], listing.commit, o);
        (f.downloaded ? s.downloaded : s.cached)++;
        if (s.files[i].size() > 11 && s.files[i].compare(s.files[i].size() - 11, 11, ".index.json") == 0) {
            for (const auto& shard : shards_from_index(f.path)) {
                if (!has(listing.files, shard))
                    throw Error(repo + "/" + s.files[i] + " lists shard " + shard + ", which the repo does not have");
                if (!has(s.files, shard)) s.files.push_back(shard);
            }
        }
    }
    const fs::path repo_dir = repo_folder(o, repo);
    write_ref(repo_dir, revision, listing.commit);
    s.folder = (repo_dir / "snapshots" / listing.commit).string();
    return s;
}

}  // namespace syn::hub
