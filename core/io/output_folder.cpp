#include "core/io/output_folder.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"

namespace fs = std::filesystem;

namespace syn {

namespace {

std::string partial_prefix(const fs::path& out) { return "." + out.filename().string() + ".partial-"; }

// "out/" and "out" name the same folder; the staging folder is a sibling of its last component.
fs::path normalised(const std::string& out) {
    fs::path p = fs::path(out).lexically_normal();
    if (!p.empty() && p.filename().empty()) p = p.parent_path();
    if (p.empty() || p == "." || p == "..") p = fs::absolute(p).lexically_normal();
    return p;
}

// Partial folders of processes that no longer run (killed before they could clean up).
void remove_stale_partials(const fs::path& out) {
    std::error_code ec;
    const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    const std::string prefix = partial_prefix(out);
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string rest = name.substr(prefix.size());  // "<pid>" or "<pid>.old"
        const std::string digits = rest.substr(0, rest.find('.'));
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
    }
}

// Creates the parent folders of `out` and checks that files can be created in the last one.
void require_writable_parent(const fs::path& out) {
    std::error_code ec;
    const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    fs::create_directories(parent, ec);
    if (ec) throw file_error(parent.string(), "cannot create this folder: " + ec.message());
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        throw file_error(parent.string(), std::string("cannot write into this folder: ") + std::strerror(errno));
}

}  // namespace

void check_output_folder(const std::string& out_arg) {
    const fs::path out = normalised(out_arg);
    std::error_code ec;
    const fs::file_status st = fs::status(out, ec);
    if (fs::exists(st)) {
        if (!fs::is_directory(st)) throw file_error(out.string(), "exists and is not a folder (--out names a folder)");
        bool empty = true, ours = fs::exists(out / kOutputMarker) || fs::exists(out / "results.json");
        std::string example;
        for (const auto& entry : fs::directory_iterator(out, ec)) {
            empty = false;
            example = entry.path().filename().string();
            break;
        }
        if (!empty && !ours)
            throw file_error(out.string(), "exists and is not a synesthesia output folder (it holds '" + example +
                                               "' and no " + kOutputMarker + "): its contents would be replaced; "
                                               "choose a new folder or empty this one");
    }
    require_writable_parent(out);
}

void check_output_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw file_error(path, "is a folder; expected an output file name");
    require_writable_parent(fs::path(path));
}

StagedOutputFolder::StagedOutputFolder(const std::string& out) {
    check_output_folder(out);
    const fs::path p = normalised(out);
    out_ = p.string();
    remove_stale_partials(p);
    staging_ = (p.parent_path() / (partial_prefix(p) + std::to_string(::getpid()))).string();
    std::error_code ec;
    fs::remove_all(staging_, ec);  // one of this process's earlier, failed attempts
    if (!fs::create_directory(staging_, ec))
        throw file_error(staging_, "cannot create the staging folder for " + out_ + ": " + ec.message());
}

StagedOutputFolder::~StagedOutputFolder() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(staging_, ec);
}

std::string StagedOutputFolder::final_path_of(const std::string& file) const {
    const fs::path rel = fs::path(file).lexically_relative(staging_);
    if (rel.empty() || *rel.begin() == "..") return file;
    return (fs::path(out_) / rel).string();
}

void StagedOutputFolder::commit() {
    write_file_atomically((fs::path(staging_) / kOutputMarker).string(),
                          "This folder holds the outputs of one synesthesia run; a new run into it replaces them.\n");
    std::error_code ec;
    if (!fs::exists(out_, ec)) {
        if (::rename(staging_.c_str(), out_.c_str()) != 0)
            throw file_error(out_, std::string("cannot move the outputs into place: ") + std::strerror(errno));
    } else {
        // One atomic exchange: readers see the old outputs or the new ones, never a mix.
        if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, out_.c_str(), RENAME_EXCHANGE) != 0) {
            // Filesystems without RENAME_EXCHANGE: old aside, new in, old removed (a short window
            // with no folder, never a mixed one).
            const std::string old = staging_ + ".old";
            if (::rename(out_.c_str(), old.c_str()) != 0 || ::rename(staging_.c_str(), out_.c_str()) != 0)
                throw file_error(out_, std::string("cannot move the outputs into place: ") + std::strerror(errno));
            fs::remove_all(old, ec);
        } else {
            fs::remove_all(staging_, ec);  // now holds the previous run's outputs
        }
    }
    committed_ = true;
    fsync_parent_directory(out_);
}

}  // namespace syn
