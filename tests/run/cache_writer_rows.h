#pragma once
// The rows tests/run/cache_writer_main.cpp stores: derived from the text alone, so a reader can
// check every cached row without being told what was written.
#include <cstdint>
#include <string>
#include <vector>

namespace syn::test {

inline const char* const kCacheWriterModel = "concurrent-writers-model";

inline std::vector<float> cache_writer_row(const std::string& text, int64_t dim) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a, then splitmix64
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    std::vector<float> row(static_cast<size_t>(dim));
    for (auto& v : row) {
        h += 0x9e3779b97f4a7c15ull;
        uint64_t z = h;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        v = static_cast<float>(z >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f;
    }
    return row;
}

inline std::string cache_writer_text(const std::string& tag, int shard, int row) {
    return tag + "-" + std::to_string(shard) + "-" + std::to_string(row);
}

}  // namespace syn::test
