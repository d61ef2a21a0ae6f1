#include "core/io/model_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/io/errors.h"

namespace fs = std::filesystem;

namespace syn {
namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::optional<std::string> read_ref(const fs::path& repo_dir, const std::string& revision) {
    fs::path ref = repo_dir / "refs" / revision;
    std::ifstream in(ref);
    if (!in) return std::nullopt;
    std::string hash;
    std::getline(in, hash);
    hash = trim(hash);
    if (hash.empty()) return std::nullopt;
    return hash;
}

}  // namespace

std::string hf_hub_cache_dir() {
    if (std::string v = env_or_empty("HF_HUB_CACHE"); !v.empty()) return v;
    if (std::string v = env_or_empty("HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
    if (std::string v = env_or_empty("XDG_CACHE_HOME"); !v.empty())
        return (fs::path(v) / "huggingface" / "hub").string();
    std::string home = env_or_empty("HOME");
    return (fs::path(home.empty() ? "/" : home) / ".cache" / "huggingface" / "hub").string();
}

std::string hf_cache_repo_folder_name(const std::string& repo_id) {
    std::string out = "models--";
    for (char c : repo_id) {
        if (c == '/') out += "--";
        else out += c;
    }
    return out;
}

bool looks_like_hub_id(const std::string& text) {
    if (text.empty() || text[0] == '/' || text[0] == '.' || text[0] == '~') return false;
    size_t slashes = 0;
    for (char c : text) {
        if (c == '/') ++slashes;
        else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    }
    return slashes <= 1 && text.find("..") == std::string::npos && text.back() != '/';
}

std::optional<ResolvedModel> resolve_model(const std::string& id_or_path, const std::string& revision,
                                           const std::string& cache_dir) {
    std::error_code ec;
    if (fs::exists(id_or_path, ec)) {
        if (!fs::is_directory(id_or_path, ec)) throw file_error(id_or_path, "is not a model folder");
        ResolvedModel m;
        m.id = id_or_path;
        m.folder = fs::absolute(id_or_path).lexically_normal().string();
        return m;
    }
    if (!looks_like_hub_id(id_or_path))
        throw file_error(id_or_path, "no such folder (and it is not a Hugging Face hub id)");

    fs::path repo_dir = fs::path(cache_dir.empty() ? hf_hub_cache_dir() : cache_dir) /
                        hf_cache_repo_folder_name(id_or_path);
    if (!fs::is_directory(repo_dir, ec)) return std::nullopt;
    std::string commit = read_ref(repo_dir, revision).value_or(revision);
    fs::path snapshot = repo_dir / "snapshots" / commit;
    if (!fs::is_directory(snapshot, ec)) return std::nullopt;
    ResolvedModel m;
    m.id = id_or_path;
    m.folder = snapshot.string();
    m.revision = commit;
    m.from_cache = true;
    return m;
}

std::vector<ResolvedModel> list_cached_models(const std::string& cache_dir) {
    std::vector<ResolvedModel> out;
    fs::path root = cache_dir.empty() ? hf_hub_cache_dir() : cache_dir;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("models--", 0) != 0 || !entry.is_directory()) continue;
        std::string id = name.substr(8);
        if (size_t p = id.find("--"); p != std::string::npos) id.replace(p, 2, "/");
        fs::path snapshots = entry.path() / "snapshots";
        std::optional<std::string> commit = read_ref(entry.path(), "main");
        fs::path chosen;
        if (commit && fs::is_directory(snapshots / *commit, ec)) {
            chosen = snapshots / *commit;
        } else {
            fs::file_time_type newest{};
            for (const auto& snap : fs::directory_iterator(snapshots, ec)) {
                if (!snap.is_directory()) continue;
                auto t = snap.last_write_time(ec);
                if (chosen.empty() || t > newest) { chosen = snap.path(); newest = t; }
            }
        }
        if (chosen.empty()) continue;
        ResolvedModel m;
        m.id = id;
        m.folder = chosen.string();
        m.revision = chosen.filename().string();
        m.from_cache = true;
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace syn
