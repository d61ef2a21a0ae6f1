#include "core/io/torch/strict_loader.h"

#include <torch/torch.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "core/io/errors.h"
#include "core/io/torch/tensor_bridge.h"

namespace syn {
namespace {

std::string shape_string(at::IntArrayRef shape) {
    std::ostringstream ss;
    ss << '[';
    for (size_t i = 0; i < shape.size(); ++i) ss << (i ? ", " : "") << shape[i];
    ss << ']';
    return ss.str();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

void append_names(std::ostringstream& ss, const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    constexpr size_t kMaxListed = 40;
    ss << "\n  " << title << " (" << names.size() << "):";
    for (size_t i = 0; i < names.size() && i < kMaxListed; ++i) ss << "\n    " << names[i];
    if (names.size() > kMaxListed) ss << "\n    ... and " << names.size() - kMaxListed << " more";
}

}  // namespace

std::string LoadReport::describe() const {
    std::ostringstream ss;
    ss << loaded.size() << " tensors loaded";
    append_names(ss, "missing from the checkpoint", missing);
    append_names(ss, "mis-shaped", mismatched);
    append_names(ss, "unexpected in the checkpoint", unexpected);
    return ss.str();
}

LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                           const LoadOptions& options) {
    LoadReport report;
    std::unordered_set<std::string> used;
    torch::NoGradGuard no_grad;

    auto fill = [&](const std::string& name, at::Tensor& target) {
        const std::string key = options.prefix + name;
        auto it = tensors.find(key);
        if (it == tensors.end()) {
            if (!contains(options.allow_missing, name)) report.missing.push_back(key);
            return;
        }
        used.insert(key);
        const RawTensor& raw = it->second;
        if (raw.shape != target.sizes().vec()) {
            report.mismatched.push_back(key + ": checkpoint " + shape_string(raw.shape) + " vs module " +
                                        shape_string(target.sizes()));
            return;
        }
        at::Tensor src = to_torch(raw);
        target.copy_(src.to(target.scalar_type()));
        report.loaded.push_back(key);
    };

    for (auto& item : module.named_parameters(/*recurse=*/true)) fill(item.key(), item.value());
    for (auto& item : module.named_buffers(/*recurse=*/true)) fill(item.key(), item.value());

    for (const auto& [key, raw] : tensors) {
        (void)raw;
        if (used.count(key) || key.compare(0, options.prefix.size(), options.prefix) != 0) continue;
        if (contains(options.ignore_unexpected, key.substr(options.prefix.size()))) continue;
        report.unexpected.push_back(key);
    }

    if (!report.ok() || (options.strict_unexpected && !report.unexpected.empty()))
        throw file_error(source, "checkpoint does not fit the model: " + report.describe());
    return report;
}

}  // namespace syn
