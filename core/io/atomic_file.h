#pragma once
// Results and caches are written atomically: to a temporary file in the same folder, flushed,
// then renamed over the target, so a reader never sees a half-written file and an interrupted
// job leaves either the old file or the new one.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace syn {

// Calls `write(fd)` on a temporary file beside `path`, fsyncs it and renames it to `path`.
// On any failure (including an exception from `write`) the temporary file is removed and
// syn::Error is thrown naming `path`.
void write_file_atomically(const std::string& path, const std::function<void(int fd)>& write);

// Convenience: the whole content at once.
void write_file_atomically(const std::string& path, std::string_view content);

// Writes all of `size` bytes to `fd` (retrying short writes); throws syn::Error naming `path`.
void write_all(int fd, const void* data, size_t size, const std::string& path);

// Reads a whole file; throws syn::Error naming `path` when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace syn
