#include "core/io/raw_tensor.h"

#include "core/io/errors.h"

namespace syn {

size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::F64: case DType::I64: return 8;
        case DType::F32: case DType::I32: return 4;
        case DType::F16: case DType::BF16: case DType::I16: return 2;
        case DType::I8: case DType::U8: case DType::BOOL: return 1;
    }
    return 0;
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::F64: return "F64";
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::BF16: return "BF16";
        case DType::I64: return "I64";
        case DType::I32: return "I32";
        case DType::I16: return "I16";
        case DType::I8: return "I8";
        case DType::U8: return "U8";
        case DType::BOOL: return "BOOL";
    }
    return "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
    static const std::pair<const char*, DType> kNames[] = {
        {"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
        {"I64", DType::I64}, {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},
        {"U8", DType::U8},   {"BOOL", DType::BOOL}};
    for (const auto& [n, d] : kNames) {
        if (name == n) { *out = d; return true; }
    }
    return false;
}

int64_t RawTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

RawTensor make_owned_tensor(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
    auto storage = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    RawTensor t;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.data = storage->data();
    t.nbytes = storage->size();
    t.owner = storage;
    if (static_cast<size_t>(t.numel()) * dtype_size(dtype) != t.nbytes)
        throw Error("make_owned_tensor: shape x dtype does not match the byte count");
    return t;
}

}  // namespace syn
