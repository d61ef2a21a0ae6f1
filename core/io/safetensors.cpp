#include "core/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"
#include "core/io/mapped_file.h"

// What this reader accepts, and why it is as strict as the official Rust crate
// (huggingface/safetensors, `SafeTensors::read_metadata` / `Metadata::validate`):
//  - 8-byte little-endian header length N, N <= 100,000,000 (the crate's MAX_HEADER_SIZE), and
//    8 + N <= file size;
//  - the N header bytes are one JSON object (trailing spaces allowed: writers pad the header to a
//    multiple of 8 with spaces); "__metadata__", if present, maps strings to strings; every other
//    key is a tensor {"dtype", "shape", "data_offsets"}; a key may appear once;
//  - shape dims are non-negative integers; data_offsets [begin, end] with begin <= end <= data size
//    and end - begin == product(shape) * dtype size, all in overflow-checked 64-bit arithmetic;
//  - sorted by offset, the tensors are contiguous from 0 and the last one ends exactly at the end
//    of the file. The crate rejects any gap or overlap (InvalidOffset) and any unused tail
//    (MetadataIncompleteBuffer); we do the same, so a file we accept loads in transformers too,
//    and a truncated or corrupted download is caught here instead of giving silently wrong weights.
// The tensors' bytes are not copied: RawTensor::data points into the mapping and the mapping is
// their owner. They are only as aligned as the file makes them (HF writers pad the header to 8
// bytes, so tensors of one dtype size are aligned); consumers must not assume more. As with any
// mapping, a file truncated by another process while it is mapped faults on access (SIGBUS):
// checkpoints are replaced by rename (atomic writes), never rewritten in place.

namespace syn {

namespace {

using ojson = nlohmann::ordered_json;

constexpr uint64_t kHeaderLengthBytes = 8;
constexpr uint64_t kMaxHeaderSize = 100'000'000;  // the official crate's MAX_HEADER_SIZE
constexpr const char* kMetadataKey = "__metadata__";

uint64_t read_le_u64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

void put_le_u64(uint64_t v, uint8_t* out) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Names come from the file: escaped and capped (long enough for real state-dict keys).
std::string in_quotes(const std::string& name) { return quote_excerpt(name, 160); }

// A tensor entry of the header, checked on its own (cross-entry layout is checked later).
struct Entry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

// Parses the header JSON, rejecting a top-level key that appears twice (nlohmann would keep one
// silently; the other tensor would then be lost without a word).
ojson parse_header_json(const uint8_t* p, size_t n, const std::string& src) {
    std::unordered_set<std::string> seen;
    std::string duplicate;
    auto on_event = [&](int depth, nlohmann::json::parse_event_t event, ojson& parsed) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string()) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
        }
        return true;
    };
    ojson header;
    try {
        header = ojson::parse(p, p + n, on_event);
    } catch (const nlohmann::json::exception& e) {
        throw file_error(src, std::string("header is not valid JSON: ") + message_excerpt(e.what()));
    }
    if (!header.is_object())
        throw file_error(src, std::string("header is not a JSON object (it is a JSON ") + header.type_name() + ")");
    if (!duplicate.empty()) throw file_error(src, "header names " + in_quotes(duplicate) + " twice");
    return header;
}

std::map<std::string, std::string> parse_metadata(const ojson& value, const std::string& src) {
    if (!value.is_object())
        throw file_error(src, std::string("__metadata__ must be an object of strings, not a JSON ") + value.type_name());
    std::map<std::string, std::string> metadata;
    for (const auto& [key, v] : value.items()) {
        if (!v.is_string())
            throw file_error(src, "__metadata__ value of " + in_quotes(key) + " must be a string, not a JSON " +
                                      v.type_name());
        metadata[key] = v.get<std::string>();
    }
    return metadata;
}

// A JSON number that is a non-negative integer fitting int64 (shape dims and offsets).
uint64_t parse_nonnegative(const ojson& v, const std::string& src, const std::string& what) {
    if (v.is_number_unsigned()) {
        uint64_t x = v.get<uint64_t>();
        if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw file_error(src, what + " is too large (" + std::to_string(x) + ")");
        return x;
    }
    if (v.is_number_integer()) throw file_error(src, what + " is negative (" + v.dump() + ")");
    if (v.is_number_float()) throw file_error(src, what + " is not an integer (" + v.dump() + ")");
    throw file_error(src, what + " is not a number (" + std::string(v.type_name()) + ")");
}

// product(shape) * dtype size, or an error when it overflows 64 bits.
uint64_t expected_nbytes(const Entry& e, const std::string& src) {
    uint64_t n = dtype_size(e.dtype);
    for (int64_t d : e.shape) {
        if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
            throw file_error(src, "tensor " + in_quotes(e.name) + ": shape x dtype size overflows 64 bits");
    }
    return n;
}

const ojson& required_field(const ojson& obj, const char* field, const std::string& name, const std::string& src) {
    auto it = obj.find(field);
    if (it == obj.end()) throw file_error(src, "tensor " + in_quotes(name) + ": missing \"" + field + "\"");
    return *it;
}

Entry parse_entry(const std::string& name, const ojson& value, uint64_t data_size, const std::string& src) {
    const std::string who = "tensor " + in_quotes(name);
    if (!value.is_object()) throw file_error(src, who + ": entry is not a JSON object (it is a JSON " +
                                                      value.type_name() + ")");
    Entry e;
    e.name = name;

    const ojson& dtype = required_field(value, "dtype", name, src);
    if (!dtype.is_string()) throw file_error(src, who + ": \"dtype\" is not a string");
    if (!dtype_from_name(dtype.get<std::string>(), &e.dtype))
        throw file_error(src, who + ": unknown dtype " + in_quotes(dtype.get<std::string>()) +
                                  " (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");

    const ojson& shape = required_field(value, "shape", name, src);
    if (!shape.is_array()) throw file_error(src, who + ": \"shape\" is not an array");
    for (size_t i = 0; i < shape.size(); ++i)
        e.shape.push_back(static_cast<int64_t>(
            parse_nonnegative(shape[i], src, who + ": shape dimension " + std::to_string(i))));

    const ojson& offsets = required_field(value, "data_offsets", name, src);
    if (!offsets.is_array() || offsets.size() != 2)
        throw file_error(src, who + ": \"data_offsets\" is not an array of two integers");
    e.begin = parse_nonnegative(offsets[0], src, who + ": data_offsets begin");
    e.end = parse_nonnegative(offsets[1], src, who + ": data_offsets end");
    if (e.begin > e.end)
        throw file_error(src, who + ": data_offsets begin " + std::to_string(e.begin) + " is after end " +
                                  std::to_string(e.end));
    if (e.end > data_size)
        throw file_error(src, who + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                  "] run past the end of the data section (" + std::to_string(data_size) +
                                  " bytes)");

    uint64_t want = expected_nbytes(e, src);
    if (want != e.end - e.begin)
        throw file_error(src, who + ": shape x dtype size is " + std::to_string(want) +
                                  " bytes but data_offsets span " + std::to_string(e.end - e.begin) + " bytes");
    return e;
}

// The official layout rule: sorted by offset, tensors tile the data section exactly.
void check_layout(std::vector<const Entry*> by_offset, uint64_t data_size, const std::string& src) {
    std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t cursor = 0;
    const Entry* previous = nullptr;
    for (const Entry* e : by_offset) {
        if (e->begin < cursor)
            throw file_error(src, "tensors " + in_quotes(previous->name) + " [" + std::to_string(previous->begin) + ", " +
                                      std::to_string(previous->end) + ") and " + in_quotes(e->name) + " [" +
                                      std::to_string(e->begin) + ", " + std::to_string(e->end) + ") overlap");
        if (e->begin > cursor)
            throw file_error(src, "gap in the data section: bytes [" + std::to_string(cursor) + ", " +
                                      std::to_string(e->begin) + ") before tensor " + in_quotes(e->name) +
                                      " belong to no tensor (offsets must be contiguous)");
        cursor = e->end;
        previous = e;
    }
    if (cursor != data_size)
        throw file_error(src, "data section has " + std::to_string(data_size - cursor) +
                                  " bytes after the last tensor (the file is longer than its header says)");
}

// The order to write tensors in: `names` when given (then it must list every tensor exactly once,
// so nothing is dropped or duplicated silently), else the map's order.
std::vector<const std::string*> write_order(const std::string& path, const TensorMap& tensors,
                                            const std::vector<std::string>& names) {
    std::vector<const std::string*> order;
    if (names.empty()) {
        for (const auto& kv : tensors) order.push_back(&kv.first);
        return order;
    }
    std::set<std::string> listed;
    for (const auto& name : names) {
        auto it = tensors.find(name);
        if (it == tensors.end()) throw file_error(path, "cannot write: tensor " + in_quotes(name) + " is in the name list but not in the tensors");
        if (!listed.insert(name).second) throw file_error(path, "cannot write: tensor " + in_quotes(name) + " is listed twice");
        order.push_back(&it->first);
    }
    for (const auto& kv : tensors)
        if (!listed.count(kv.first))
            throw file_error(path, "cannot write: tensor " + in_quotes(kv.first) + " is missing from the name list");
    return order;
}

void check_writable(const std::string& path, const std::string& name, const RawTensor& t) {
    const std::string who = "cannot write tensor " + in_quotes(name);
    if (name == kMetadataKey) throw file_error(path, who + ": the name is reserved for metadata");
    uint64_t n = dtype_size(t.dtype);
    for (int64_t d : t.shape) {
        if (d < 0) throw file_error(path, who + ": negative shape dimension " + std::to_string(d));
        if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
            throw file_error(path, who + ": shape x dtype size overflows 64 bits");
    }
    if (n != t.nbytes)
        throw file_error(path, who + ": shape x dtype size is " + std::to_string(n) + " bytes but it holds " +
                                   std::to_string(t.nbytes));
    if (t.nbytes > 0 && t.data == nullptr) throw file_error(path, who + ": no data");
}

}  // namespace

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& source_name,
                                  std::shared_ptr<const void> owner) {
    const std::string& src = source_name;
    if (size < kHeaderLengthBytes)
        throw file_error(src, "truncated: " + std::to_string(size) +
                                  " bytes, shorter than the 8-byte header length of a safetensors file");
    const uint64_t header_size = read_le_u64(data);
    if (header_size > size - kHeaderLengthBytes)
        throw file_error(src, "header length " + std::to_string(header_size) + " runs past the end of the file (" +
                                  std::to_string(size) + " bytes; truncated or not a safetensors file)");
    if (header_size > kMaxHeaderSize)
        throw file_error(src, "header length " + std::to_string(header_size) + " exceeds the format's limit of " +
                                  std::to_string(kMaxHeaderSize) + " bytes");

    const uint8_t* data_section = data + kHeaderLengthBytes + header_size;
    const uint64_t data_size = size - kHeaderLengthBytes - header_size;
    const ojson header = parse_header_json(data + kHeaderLengthBytes, header_size, src);

    SafetensorsFile file;
    file.path = source_name;
    std::vector<Entry> entries;
    entries.reserve(header.size());
    for (const auto& [key, value] : header.items()) {
        if (key == kMetadataKey) {
            file.metadata = parse_metadata(value, src);
            continue;
        }
        entries.push_back(parse_entry(key, value, data_size, src));
    }

    std::vector<const Entry*> by_offset;
    by_offset.reserve(entries.size());
    for (const Entry& e : entries) by_offset.push_back(&e);
    check_layout(std::move(by_offset), data_size, src);

    for (Entry& e : entries) {
        RawTensor t;
        t.dtype = e.dtype;
        t.shape = std::move(e.shape);
        t.data = data_section + e.begin;
        t.nbytes = static_cast<size_t>(e.end - e.begin);
        t.owner = owner;
        file.names.push_back(e.name);
        file.tensors.emplace(std::move(e.name), std::move(t));
    }
    return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
    // A lazily faulted mapping: reading only the header (listing a checkpoint's tensors) costs
    // nothing more, and loading every tensor measured as fast as pre-faulting with MAP_POPULATE
    // and as one read() of the file (benchmarks/bench_safetensors_load.cpp).
    auto mapping = map_file(path, /*populate=*/false);
    return parse_safetensors(mapping->data(), mapping->size(), path, mapping);
}

TensorMap read_safetensors_index(const std::string& index_json_path) {
    const std::string& src = index_json_path;
    ojson index;
    try {
        index = ojson::parse(read_file(src));
    } catch (const nlohmann::json::exception& e) {
        throw file_error(src, std::string("not valid JSON: ") + message_excerpt(e.what()));
    }
    if (!index.is_object()) throw file_error(src, "not a JSON object");
    auto wm = index.find("weight_map");
    if (wm == index.end()) throw file_error(src, "missing \"weight_map\"");
    if (!wm->is_object()) throw file_error(src, "\"weight_map\" is not an object");
    if (wm->empty()) throw file_error(src, "\"weight_map\" is empty");

    // Group tensor names by shard, in first-seen order, so that each shard is mapped once.
    std::vector<std::string> shard_order;
    std::unordered_map<std::string, std::vector<std::string>> names_by_shard;
    for (const auto& [name, shard] : wm->items()) {
        if (!shard.is_string())
            throw file_error(src, "weight_map entry " + in_quotes(name) + " is not a file name string");
        const std::string file = shard.get<std::string>();
        const std::filesystem::path rel(file);
        // Shards live beside the index; an absolute or climbing path in a downloaded index would
        // make us read an unrelated file.
        if (file.empty() || rel.is_absolute() || std::find(rel.begin(), rel.end(), "..") != rel.end())
            throw file_error(src, "weight_map entry " + in_quotes(name) + " names shard " + in_quotes(file) +
                                      ", which is not a file name relative to the index's folder");
        auto [it, inserted] = names_by_shard.try_emplace(file);
        if (inserted) shard_order.push_back(file);
        it->second.push_back(name);
    }

    const std::filesystem::path folder = std::filesystem::path(src).parent_path();
    TensorMap tensors;
    for (const std::string& shard : shard_order) {
        const std::vector<std::string>& names = names_by_shard[shard];
        const std::string shard_path = (folder / shard).string();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(shard_path, ec))
            throw file_error(src, "shard " + in_quotes(shard) + " (holding tensor " + in_quotes(names.front()) +
                                      ") not found at " + shard_path);
        SafetensorsFile file;
        try {
            file = read_safetensors(shard_path);
        } catch (const Error& e) {
            throw file_error(src, "cannot read shard " + in_quotes(shard) + ": " + e.what());
        }
        // Only the tensors the index maps to this shard are returned: the index is the authority
        // on which file holds which tensor.
        for (const std::string& name : names) {
            auto it = file.tensors.find(name);
            if (it == file.tensors.end())
                throw file_error(src, "tensor " + in_quotes(name) + " is mapped to shard " + in_quotes(shard) +
                                          " but " + shard_path + " does not contain it");
            tensors.emplace(name, std::move(it->second));
        }
    }
    return tensors;
}

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata,
                       const std::vector<std::string>& names) {
    const std::vector<const std::string*> order = write_order(path, tensors, names);

    // "__metadata__" first, then tensors in order with contiguous offsets, as the HF writer does.
    ojson header = ojson::object();
    if (!metadata.empty()) {
        ojson meta = ojson::object();
        for (const auto& [k, v] : metadata) meta[k] = v;
        header[kMetadataKey] = std::move(meta);
    }
    uint64_t offset = 0;
    for (const std::string* name : order) {
        const RawTensor& t = tensors.at(*name);
        check_writable(path, *name, t);
        header[*name] = ojson{{"dtype", dtype_name(t.dtype)},
                              {"shape", t.shape},
                              {"data_offsets", {offset, offset + t.nbytes}}};
        offset += t.nbytes;
    }

    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::exception& e) {
        throw file_error(path, std::string("cannot write: a tensor or metadata name is not valid UTF-8: ") + e.what());
    }
    // Pad with spaces to a multiple of 8 so the data section (and so every tensor, when sizes
    // allow) is 8-byte aligned in a mapping; readers treat the spaces as JSON whitespace.
    text.append((8 - text.size() % 8) % 8, ' ');

    uint8_t length[8];
    put_le_u64(text.size(), length);
    write_file_atomically(path, [&](int fd) {
        write_all(fd, length, sizeof length, path);
        write_all(fd, text.data(), text.size(), path);
        for (const std::string* name : order) {
            const RawTensor& t = tensors.at(*name);
            if (t.nbytes > 0) write_all(fd, t.data, t.nbytes, path);
        }
    });
}

}  // namespace syn
