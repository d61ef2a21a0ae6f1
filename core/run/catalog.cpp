#include "core/run/catalog.h"

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/run/model_description.h"

namespace syn::run {

extern const char* const kBuiltinCatalogJson;

std::vector<CatalogEntry> load_catalog(const std::string& json_text) {
    const std::string source = json_text.empty() ? "model_catalog.json (built in)" : "model catalog";
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json_text.empty() ? std::string(kBuiltinCatalogJson) : json_text);
    } catch (const nlohmann::json::exception& e) {
        throw file_error(source, std::string("invalid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array())
        throw file_error(source, "expected an object with a 'models' array");
    std::vector<CatalogEntry> out;
    size_t index = 0;
    for (const auto& m : doc["models"]) {
        const std::string where = "models[" + std::to_string(index++) + "]";
        try {
            CatalogEntry e;
            e.id = m.at("id").get<std::string>();
            e.family = m.at("family").get<std::string>();
            e.style = m.value("style", "other");
            e.params = m.value("params", 0LL);
            const nlohmann::json pooling = m.value("pooling", nlohmann::json::object());
            for (const auto& [k, v] : pooling.items()) e.pooling[k] = v.get<std::string>();
            e.paper_label = m.value("paper_label", "");
            e.note = m.value("note", "");
            out.push_back(std::move(e));
        } catch (const nlohmann::json::exception& ex) {
            throw file_error(source, where + ": " + ex.what());
        }
    }
    return out;
}

std::optional<CatalogEntry> find_catalog_entry(const std::string& id) {
    static const std::vector<CatalogEntry> catalog = load_catalog();
    for (const auto& e : catalog)
        if (e.id == id) return e;
    return std::nullopt;
}

std::optional<CatalogEntry> catalog_entry_or_folder(const std::string& id, const std::string& folder) {
    if (auto entry = find_catalog_entry(id)) return entry;
    if (folder.empty()) return std::nullopt;
    const ModelDescription d = describe_model(folder);
    d.throw_if_error();
    CatalogEntry e;
    e.id = id;
    e.family = d.family;
    e.style = d.style;
    e.params = d.params;
    return e;
}

}  // namespace syn::run
