#pragma once
// The one place that decides whether a path the user gave can be read as a file. Every reader of
// a user file (text lines, CSV/CxC, COCO captions, GLUE TSV, config.json, safetensors, torch
// checkpoints, taming YAML, images) calls it before opening, so that a folder given where a file
// is expected is an error naming it ("<path>: is a directory, not a file") rather than an empty
// file (std::ifstream opens a directory without complaint and reads nothing).
#include <fstream>
#include <string>
#include <string_view>

namespace syn {

// Throws syn::Error "<path>: is a directory, not a file" for a directory. A missing path is left
// to the caller's own "cannot open" message; other non-regular files (FIFOs, /dev/stdin) pass.
void require_not_directory(const std::string& path);

// require_not_directory(), then opens `path` for binary reading; throws syn::Error
// "<path>: cannot open: <reason>" when it cannot be opened.
std::ifstream open_input_file(const std::string& path);

// True for an archive entry name that could escape an extraction folder (zip slip): empty,
// absolute ("/x", "\\x", "C:x"), or with a ".." component (either separator). The one check of
// the dataset fetcher's extraction and of the torch checkpoint reader.
bool unsafe_archive_entry_name(std::string_view name);

// fsyncs the folder that holds `path`, so that a rename into it survives a power cut. Errors are
// ignored (some file systems refuse fsync on a directory); returns false when it failed.
bool fsync_parent_directory(const std::string& path);

// This program's own path (/proc/self/exe), "" when it cannot be read: what the launcher starts
// again, what a cluster plan's scripts run, where the SentencePiece shim is looked for.
std::string own_executable_path();

}  // namespace syn
