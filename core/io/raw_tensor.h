#pragma once
// A tensor as stored in a checkpoint file: dtype, shape and bytes, with no libtorch dependency, so
// the file readers (and their fuzz targets) build and run without torch. torch_bridge.h turns it
// into an at::Tensor.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace syn {

// Every dtype Hugging Face writes into safetensors files (plus the ones torch pickles use).
enum class DType : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

// Bytes per element.
size_t dtype_size(DType dtype);
// Safetensors spelling ("F32", "BF16", ...).
const char* dtype_name(DType dtype);
// Parses the safetensors spelling; returns false for an unknown name.
bool dtype_from_name(const std::string& name, DType* out);

struct RawTensor {
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    // Little-endian, C-contiguous bytes. `owner` keeps them alive (an mmap, a decompressed zip
    // entry, or an owned vector); several tensors may share one owner.
    const uint8_t* data = nullptr;
    size_t nbytes = 0;
    std::shared_ptr<const void> owner;

    int64_t numel() const;
};

// Name -> tensor, in the file's key order when the format has one (std::map sorts; readers that
// care about the order expose it separately).
using TensorMap = std::map<std::string, RawTensor>;

// A RawTensor that owns a copy of `bytes`.
RawTensor make_owned_tensor(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);

}  // namespace syn
