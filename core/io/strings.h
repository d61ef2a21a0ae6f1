#pragma once
// Small string helpers shared by the readers, the reports and the CLI.
#include <string>
#include <vector>

namespace syn {

// items[0] + sep + items[1] + ...; "" for no items.
inline std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
    return out;
}

// A model id or folder as one file name: '/', '\' and ':' become '_'
// ("openai/clip-vit-base-patch32" -> "openai_clip-vit-base-patch32"). GLUE's runs/<model>/ and the
// Slurm plan's runs/<model>-seed<N>/ folders (and scripts/table3.sh's `tr '/:' '__'`) use it.
inline std::string path_safe_name(const std::string& id) {
    std::string s = id;
    for (char& c : s)
        if (c == '/' || c == '\\' || c == ':') c = '_';
    return s;
}

}  // namespace syn
