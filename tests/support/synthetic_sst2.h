#pragma once
// A synthetic SST-2 task for the GLUE tests: sentences of neutral words with one sentiment word,
// label 1 for the "good" words; the TSV text of `n` lines (with its header) from a fixed generator.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace syn::test {

inline std::string synthetic_sst2(std::size_t n, uint64_t seed) {
    const std::vector<std::string> neutral = {"the", "movie", "was", "a", "story", "about", "people", "and", "it", "film"};
    const std::vector<std::string> good = {"good", "great", "excellent", "wonderful"};
    const std::vector<std::string> bad = {"bad", "awful", "terrible", "boring"};
    std::mt19937_64 rng(seed);
    std::string out = "sentence\tlabel\n";
    for (std::size_t i = 0; i < n; ++i) {
        const int label = int(rng() % 2);
        std::vector<std::string> words;
        for (int w = 0; w < 5; ++w) words.push_back(neutral[rng() % neutral.size()]);
        const auto& pool = label ? good : bad;
        words.insert(words.begin() + rng() % (words.size() + 1), pool[rng() % pool.size()]);
        for (std::size_t w = 0; w < words.size(); ++w) out += (w ? " " : "") + words[w];
        out += "\t" + std::to_string(label) + "\n";
    }
    return out;
}

}  // namespace syn::test
