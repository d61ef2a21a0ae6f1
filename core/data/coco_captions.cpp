#include "core/data/coco_captions.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn::data {

const char* to_string(CaptionIdKind kind) {
    switch (kind) {
        case CaptionIdKind::kCocoCaptionId: return "MS-COCO caption id";
        case CaptionIdKind::kKarpathySentId: return "Karpathy sentid";
    }
    return "?";
}

const Caption* CaptionIndex::find(std::int64_t caption_id) const {
    auto it = captions.find(caption_id);
    return it == captions.end() ? nullptr : &it->second;
}

namespace {

using nlohmann::json;

// Typed access to a JSON object's members with messages that name the file and the key path.
class Shape {
public:
    explicit Shape(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& key, const std::string& message) const {
        throw file_error(source_, "key '" + key + "': " + message);
    }

    const json& member(const json& object, const std::string& path, const char* name) const {
        const std::string key = path.empty() ? name : path + "." + name;
        if (!object.is_object()) fail(path.empty() ? "<root>" : path, std::string("expected an object, got ") + object.type_name());
        auto it = object.find(name);
        if (it == object.end()) fail(key, "missing");
        return *it;
    }
    const json& array(const json& object, const std::string& path, const char* name) const {
        const json& value = member(object, path, name);
        if (!value.is_array()) fail(join(path, name), std::string("expected an array, got ") + value.type_name());
        return value;
    }
    std::int64_t integer(const json& object, const std::string& path, const char* name) const {
        const json& value = member(object, path, name);
        if (!value.is_number_integer())
            fail(join(path, name), std::string("expected an integer, got ") + value.type_name());
        return value.get<std::int64_t>();
    }
    std::string string(const json& object, const std::string& path, const char* name) const {
        const json& value = member(object, path, name);
        if (!value.is_string()) fail(join(path, name), std::string("expected a string, got ") + value.type_name());
        return value.get<std::string>();
    }

    static std::string join(const std::string& path, const char* name) {
        return path.empty() ? std::string(name) : path + "." + name;
    }
    static std::string item(const char* array, std::size_t i) {
        return std::string(array) + "[" + std::to_string(i) + "]";
    }
    static std::string item(const std::string& array, std::size_t i) { return array + "[" + std::to_string(i) + "]"; }

private:
    const std::string& source_;
};

CaptionIndex parse_official(const json& root, const std::string& source, const CocoCaptionsOptions& options) {
    Shape shape(source);
    if (!options.karpathy_split.empty())
        throw file_error(source, "a split filter ('" + options.karpathy_split +
                                     "') applies only to Karpathy dataset_coco.json; this file is in the official "
                                     "captions format");
    CaptionIndex index;
    index.source = source;
    index.id_kind = CaptionIdKind::kCocoCaptionId;

    std::unordered_set<std::int64_t> image_ids;
    const json& images = shape.array(root, "", "images");
    for (std::size_t i = 0; i < images.size(); ++i) {
        const std::int64_t id = shape.integer(images[i], Shape::item("images", i), "id");
        if (!image_ids.insert(id).second) shape.fail(Shape::item("images", i) + ".id", "duplicated image id " + std::to_string(id));
    }
    index.image_count = image_ids.size();

    const json& annotations = shape.array(root, "", "annotations");
    index.captions.reserve(annotations.size());
    for (std::size_t i = 0; i < annotations.size(); ++i) {
        const std::string path = Shape::item("annotations", i);
        const std::int64_t id = shape.integer(annotations[i], path, "id");
        Caption caption;
        caption.image_id = shape.integer(annotations[i], path, "image_id");
        caption.text = shape.string(annotations[i], path, "caption");
        if (!image_ids.count(caption.image_id))
            shape.fail(path + ".image_id", "image id " + std::to_string(caption.image_id) + " is not listed in 'images'");
        if (!index.captions.emplace(id, std::move(caption)).second)
            shape.fail(path + ".id", "duplicated caption id " + std::to_string(id));
    }
    return index;
}

CaptionIndex parse_karpathy(const json& root, const std::string& source, const CocoCaptionsOptions& options) {
    Shape shape(source);
    CaptionIndex index;
    index.source = source;
    index.id_kind = CaptionIdKind::kKarpathySentId;
    const json& images = shape.array(root, "", "images");
    for (std::size_t i = 0; i < images.size(); ++i) {
        const std::string path = Shape::item("images", i);
        const std::int64_t image_id = shape.integer(images[i], path, "cocoid");
        if (!options.karpathy_split.empty() && shape.string(images[i], path, "split") != options.karpathy_split)
            continue;
        ++index.image_count;
        const json& sentences = shape.array(images[i], path, "sentences");
        for (std::size_t s = 0; s < sentences.size(); ++s) {
            const std::string spath = Shape::item(path + ".sentences", s);
            const std::int64_t id = shape.integer(sentences[s], spath, "sentid");
            Caption caption{shape.string(sentences[s], spath, "raw"), image_id};
            if (!index.captions.emplace(id, std::move(caption)).second)
                shape.fail(spath + ".sentid", "duplicated sentid " + std::to_string(id));
        }
    }
    return index;
}

}  // namespace

CaptionIndex parse_coco_captions(std::string_view json_text, const std::string& source,
                                 const CocoCaptionsOptions& options) {
    json root;
    try {
        root = json::parse(json_text.begin(), json_text.end());
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number too large
        throw file_error(source, std::string("not valid JSON: ") + message_excerpt(e.what()));
    }
    if (!root.is_object()) throw file_error(source, std::string("key '<root>': expected an object, got ") + root.type_name());
    // The official format has "annotations"; Karpathy's has "images" whose entries hold "sentences".
    if (root.contains("annotations")) return parse_official(root, source, options);
    const auto images = root.find("images");
    if (images != root.end() && images->is_array() && !images->empty() && images->front().is_object() &&
        images->front().contains("sentences"))
        return parse_karpathy(root, source, options);
    if (images != root.end() && images->is_array() && images->empty() && root.contains("dataset"))
        return parse_karpathy(root, source, options);
    throw file_error(source,
                     "key 'annotations': missing (not an MS-COCO captions file: expected 'images' + 'annotations', "
                     "or Karpathy's 'images[].sentences')");
}

CaptionIndex load_coco_captions(const std::string& path, const CocoCaptionsOptions& options) {
    // read_file: "<path>: cannot open: ...", or "<path>: is a directory, not a file".
    return parse_coco_captions(read_file(path), path, options);
}

}  // namespace syn::data
