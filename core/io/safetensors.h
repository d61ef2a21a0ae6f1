#pragma once
// Safetensors: reader (memory-mapped, zero-copy: RawTensor.data points into the mapping) and
// writer (atomic). Format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section; offsets are relative to the data section.
#include <map>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn {

struct SafetensorsFile {
    std::string path;
    std::vector<std::string> names;            // in header order
    TensorMap tensors;                         // all tensors, data inside the mapping
    std::map<std::string, std::string> metadata;  // "__metadata__" (string -> string)
};

// Validates everything (header length, JSON, dtypes, shapes, offsets in range, not overlapping,
// shape x dtype = byte length) and throws syn::Error("<path>: <problem>") on the first fault.
SafetensorsFile read_safetensors(const std::string& path);

// The same checks on a buffer already in memory (used by the fuzz target and by read_safetensors).
// `owner` keeps `data` alive for the returned tensors.
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& source_name,
                                  std::shared_ptr<const void> owner);

// A sharded checkpoint: reads model.safetensors.index.json ("weight_map": name -> shard file) and
// every shard it names; a name missing from its shard, or a shard that cannot be read, is an error.
TensorMap read_safetensors_index(const std::string& index_json_path);

// Writes tensors (in `names` order when given, else map order) atomically.
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {},
                       const std::vector<std::string>& names = {});

}  // namespace syn
