#include "models/checkpoint_shapes.h"

#include <set>

#include "core/io/errors.h"
#include "core/io/hf_config.h"

namespace syn::models {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

std::string declared(const ConfigSize& s) {
    return "key '" + s.key + "' " + (s.given ? "= " : "is absent, default ") + std::to_string(s.value);
}

}  // namespace

ConfigSize config_size(const HfConfig& config, const std::string& key, int64_t value) {
    return ConfigSize{key, value, config.has(key), config.source()};
}

ConfigSize derived_size(const std::string& expression, int64_t value, const std::vector<ConfigSize>& parts) {
    ConfigSize out{expression, value, true, parts.empty() ? std::string() : parts.front().source};
    for (const auto& p : parts) out.given = out.given && p.given;
    return out;
}

CheckpointShapes::CheckpointShapes(const TensorMap& tensors, std::string checkpoint, std::string prefix)
    : tensors_(tensors), checkpoint_(std::move(checkpoint)), prefix_(std::move(prefix)) {}

void CheckpointShapes::expect(const std::string& name, const std::vector<ConfigSize>& dims) const {
    const std::string key = prefix_ + name;
    if (!tensors_.count(key)) {
        std::string what = "no tensor '" + key + "'";
        if (!dims.empty()) what += ", which the config " + dims.front().source + " implies";
        throw file_error(checkpoint_, what + ": the checkpoint does not hold this model (wrong family or config?)");
    }
    expect_if_present(name, dims);
}

void CheckpointShapes::expect_if_present(const std::string& name, const std::vector<ConfigSize>& dims) const {
    const auto it = tensors_.find(prefix_ + name);
    if (it == tensors_.end()) return;
    const std::vector<int64_t>& shape = it->second.shape;
    std::vector<int64_t> wanted;
    for (const auto& d : dims) wanted.push_back(d.value);
    if (shape == wanted) return;
    const std::string found = checkpoint_ + ": " + it->first + " is " + shape_text(shape);
    if (shape.size() != dims.size())
        throw file_error(dims.empty() ? checkpoint_ : dims.front().source,
                         "the config implies " + it->first + " " + shape_text(wanted) + ", but " + found);
    for (size_t i = 0; i < dims.size(); ++i)
        if (shape[i] != dims[i].value)
            throw file_error(dims[i].source, declared(dims[i]) + " does not match the checkpoint: " + found +
                                                 " (dimension " + std::to_string(i) + " should be " + dims[i].key + ")");
}

void CheckpointShapes::expect_count(const std::string& list, const ConfigSize& count) const {
    const std::string head = prefix_ + list;
    std::set<int64_t> seen;
    for (auto it = tensors_.lower_bound(head); it != tensors_.end() && it->first.compare(0, head.size(), head) == 0; ++it) {
        const std::string rest = it->first.substr(head.size());
        const size_t dot = rest.find('.');
        if (dot == 0 || dot == std::string::npos || dot > 9) continue;
        bool digits = true;
        for (size_t i = 0; i < dot; ++i) digits = digits && rest[i] >= '0' && rest[i] <= '9';
        if (digits) seen.insert(std::stoll(rest.substr(0, dot)));
    }
    const int64_t found = static_cast<int64_t>(seen.size());
    const bool contiguous = seen.empty() || (*seen.begin() == 0 && *seen.rbegin() == found - 1);
    if (found == count.value && contiguous) return;
    std::string what = checkpoint_ + " holds " + std::to_string(found) + " entries " + head + "N";
    if (!contiguous) what += " numbered " + std::to_string(*seen.begin()) + ".." + std::to_string(*seen.rbegin());
    throw file_error(count.source, declared(count) + " does not match the checkpoint: " + what);
}

}  // namespace syn::models
