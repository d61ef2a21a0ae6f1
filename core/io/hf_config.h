#pragma once
// A Hugging Face config.json: typed look-ups whose errors name the file and the key.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace syn {

class HfConfig {
public:
    HfConfig() = default;
    HfConfig(nlohmann::json json, std::string source) : json_(std::move(json)), source_(std::move(source)) {}

    // Reads <folder>/config.json (or the file itself when given a .json path).
    static HfConfig load(const std::string& folder_or_file);

    // model_type ("bert", "roberta", "clip", "t5", "siglip", ...); "" when absent.
    std::string model_type() const;
    std::vector<std::string> architectures() const;

    bool has(const std::string& key) const { return json_.contains(key); }
    // Required values: syn::Error "<file>: key 'x' missing" / "... has type string, expected integer".
    int64_t get_int(const std::string& key) const;
    double get_double(const std::string& key) const;
    std::string get_string(const std::string& key) const;
    bool get_bool(const std::string& key) const;
    // Optional values with a default (a present value of the wrong type is still an error).
    int64_t get_int(const std::string& key, int64_t fallback) const;
    double get_double(const std::string& key, double fallback) const;
    std::string get_string(const std::string& key, const std::string& fallback) const;
    bool get_bool(const std::string& key, bool fallback) const;
    // A size (layers, widths, vocabulary, positions): an integer in [minimum, kMaxSize], else
    // syn::Error "<file>: key 'x' = -5 must be an integer from 1 to 2147483647". Bounded so that no
    // product of two sizes overflows and a hostile value fails here, not in an allocation.
    static constexpr int64_t kMaxSize = 2147483647;
    int64_t get_size(const std::string& key, int64_t fallback, int64_t minimum = 1) const;

    // A nested sub-config ("text_config", "vision_config"), with the source named "file:text_config".
    // Missing -> an empty config (HF fills defaults), wrong type -> error.
    HfConfig sub(const std::string& key) const;

    const nlohmann::json& json() const { return json_; }
    const std::string& source() const { return source_; }

private:
    const nlohmann::json* find(const std::string& key) const;
    [[noreturn]] void type_error(const std::string& key, const char* expected) const;

    nlohmann::json json_ = nlohmann::json::object();
    std::string source_;
};

}  // namespace syn
