#include "core/io/checkpoint.h"

#include <filesystem>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/torch_checkpoint.h"

namespace fs = std::filesystem;

namespace syn {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

LoadedCheckpoint load_file(const std::string& path) {
    LoadedCheckpoint out;
    out.path = path;
    if (ends_with(path, ".safetensors")) {
        out.format = "safetensors";
        out.tensors = read_safetensors(path).tensors;
    } else if (ends_with(path, ".index.json")) {
        out.format = "safetensors-sharded";
        out.tensors = read_safetensors_index(path);
    } else if (ends_with(path, ".ckpt") || ends_with(path, ".bin") || ends_with(path, ".pt") ||
               ends_with(path, ".pth")) {
        auto checkpoint = load_torch_checkpoint(path);
        out.format = checkpoint.legacy ? "torch-legacy" : "torch-zip";
        out.tensors = std::move(checkpoint.tensors);
    } else {
        throw file_error(path, "unknown checkpoint format (expected .safetensors, .index.json, .ckpt, .bin, .pt, .pth)");
    }
    return out;
}

}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& file_or_folder) {
    std::error_code ec;
    if (!fs::exists(file_or_folder, ec)) throw file_error(file_or_folder, "no such file or folder");
    if (!fs::is_directory(file_or_folder, ec)) return load_file(file_or_folder);

    // Hugging Face's order of preference: safetensors (single, then sharded), then torch pickles.
    static const char* kCandidates[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                        "pytorch_model.bin.index.json", "last.ckpt"};
    const fs::path folder(file_or_folder);
    for (const char* name : kCandidates) {
        fs::path p = folder / name;
        if (!fs::exists(p, ec)) continue;
        if (std::string(name) == "pytorch_model.bin.index.json")
            throw file_error(p.string(), "sharded pytorch_model.bin checkpoints are not supported; convert to safetensors");
        return load_file(p.string());
    }
    throw file_error(file_or_folder,
                     "no weights found (looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin, "
                     "last.ckpt)");
}

}  // namespace syn
