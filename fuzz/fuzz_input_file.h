#pragma once
// For fuzz targets whose parser takes a path: one in-memory file per process (memfd), rewritten
// with each input and read through /proc/self/fd exactly as a user's file is.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace syn::fuzz {

// Writes `data` as the whole content of the process's input file and returns its path.
inline const std::string& write_input_file(const uint8_t* data, size_t size) {
    static const int fd = [] {
        const int f = memfd_create("fuzz_input", 0);
        if (f < 0) std::abort();
        return f;
    }();
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (ftruncate(fd, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
        const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) std::abort();
        done += static_cast<size_t>(n);
    }
    return path;
}

}  // namespace syn::fuzz
