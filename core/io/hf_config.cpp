#include "core/io/hf_config.h"

#include <filesystem>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn {

HfConfig HfConfig::load(const std::string& folder_or_file) {
    std::string path = folder_or_file;
    if (std::filesystem::is_directory(path)) path = (std::filesystem::path(path) / "config.json").string();
    if (!std::filesystem::exists(path)) throw file_error(path, "config.json not found");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number too large
        throw file_error(path, std::string("invalid JSON: ") + message_excerpt(e.what()));
    }
    if (!json.is_object()) throw file_error(path, "expected a JSON object at the top level");
    return HfConfig(std::move(json), path);
}

std::string HfConfig::model_type() const { return get_string("model_type", ""); }

std::vector<std::string> HfConfig::architectures() const {
    std::vector<std::string> out;
    const nlohmann::json* a = find("architectures");
    if (!a || a->is_null()) return out;
    if (!a->is_array()) type_error("architectures", "array of strings");
    for (const auto& v : *a) {
        if (!v.is_string()) type_error("architectures", "array of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

const nlohmann::json* HfConfig::find(const std::string& key) const {
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
}

void HfConfig::type_error(const std::string& key, const char* expected) const {
    const nlohmann::json* v = find(key);
    throw file_error(source_, "key '" + key + "' has type " + (v ? v->type_name() : "missing") + ", expected " +
                                  expected);
}

int64_t HfConfig::get_int(const std::string& key) const {
    const nlohmann::json* v = find(key);
    if (!v) throw file_error(source_, "key '" + key + "' missing");
    if (!v->is_number_integer()) type_error(key, "integer");
    return v->get<int64_t>();
}

double HfConfig::get_double(const std::string& key) const {
    const nlohmann::json* v = find(key);
    if (!v) throw file_error(source_, "key '" + key + "' missing");
    if (!v->is_number()) type_error(key, "number");
    return v->get<double>();
}

std::string HfConfig::get_string(const std::string& key) const {
    const nlohmann::json* v = find(key);
    if (!v) throw file_error(source_, "key '" + key + "' missing");
    if (!v->is_string()) type_error(key, "string");
    return v->get<std::string>();
}

bool HfConfig::get_bool(const std::string& key) const {
    const nlohmann::json* v = find(key);
    if (!v) throw file_error(source_, "key '" + key + "' missing");
    if (!v->is_boolean()) type_error(key, "boolean");
    return v->get<bool>();
}

int64_t HfConfig::get_int(const std::string& key, int64_t fallback) const {
    const nlohmann::json* v = find(key);
    return (!v || v->is_null()) ? fallback : get_int(key);
}

int64_t HfConfig::get_size(const std::string& key, int64_t fallback, int64_t minimum) const {
    const int64_t v = get_int(key, fallback);
    if (v < minimum || v > kMaxSize)
        throw file_error(source_, "key '" + key + "' = " + std::to_string(v) + " must be an integer from " +
                                      std::to_string(minimum) + " to " + std::to_string(kMaxSize));
    return v;
}

double HfConfig::get_double(const std::string& key, double fallback) const {
    const nlohmann::json* v = find(key);
    return (!v || v->is_null()) ? fallback : get_double(key);
}

std::string HfConfig::get_string(const std::string& key, const std::string& fallback) const {
    const nlohmann::json* v = find(key);
    return (!v || v->is_null()) ? fallback : get_string(key);
}

bool HfConfig::get_bool(const std::string& key, bool fallback) const {
    const nlohmann::json* v = find(key);
    return (!v || v->is_null()) ? fallback : get_bool(key);
}

HfConfig HfConfig::sub(const std::string& key) const {
    const nlohmann::json* v = find(key);
    if (!v || v->is_null()) return HfConfig(nlohmann::json::object(), source_ + ":" + key);
    if (!v->is_object()) type_error(key, "object");
    return HfConfig(*v, source_ + ":" + key);
}

}  // namespace syn
