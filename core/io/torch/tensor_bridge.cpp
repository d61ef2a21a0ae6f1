#include "core/io/torch/tensor_bridge.h"

#include <cstring>

#include "core/io/errors.h"

namespace syn {

at::ScalarType to_scalar_type(DType dtype) {
    switch (dtype) {
        case DType::F64: return at::kDouble;
        case DType::F32: return at::kFloat;
        case DType::F16: return at::kHalf;
        case DType::BF16: return at::kBFloat16;
        case DType::I64: return at::kLong;
        case DType::I32: return at::kInt;
        case DType::I16: return at::kShort;
        case DType::I8: return at::kChar;
        case DType::U8: return at::kByte;
        case DType::BOOL: return at::kBool;
    }
    throw Error("to_scalar_type: unknown dtype");
}

DType from_scalar_type(at::ScalarType type) {
    switch (type) {
        case at::kDouble: return DType::F64;
        case at::kFloat: return DType::F32;
        case at::kHalf: return DType::F16;
        case at::kBFloat16: return DType::BF16;
        case at::kLong: return DType::I64;
        case at::kInt: return DType::I32;
        case at::kShort: return DType::I16;
        case at::kChar: return DType::I8;
        case at::kByte: return DType::U8;
        case at::kBool: return DType::BOOL;
        default: break;
    }
    throw Error(std::string("no safetensors dtype for torch type ") + c10::toString(type));
}

at::Tensor to_torch(const RawTensor& raw) {
    at::Tensor out = at::empty(raw.shape, at::TensorOptions().dtype(to_scalar_type(raw.dtype)));
    if (static_cast<size_t>(out.nbytes()) != raw.nbytes) throw Error("to_torch: byte count does not match shape and dtype");
    if (raw.nbytes) std::memcpy(out.data_ptr(), raw.data, raw.nbytes);
    return out;
}

RawTensor from_torch(const at::Tensor& tensor) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    std::vector<uint8_t> bytes(t.nbytes());
    if (!bytes.empty()) std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    return make_owned_tensor(from_scalar_type(t.scalar_type()), t.sizes().vec(), std::move(bytes));
}

}  // namespace syn
