#pragma once
// RawTensor <-> at::Tensor. Kept out of headers that Qt code includes (torch headers are slow).
#include <ATen/ATen.h>

#include "core/io/raw_tensor.h"

namespace syn {

// Copies the bytes into a new CPU tensor of the stored dtype.
at::Tensor to_torch(const RawTensor& raw);
// A RawTensor owning a contiguous CPU copy of `tensor`.
RawTensor from_torch(const at::Tensor& tensor);
at::ScalarType to_scalar_type(DType dtype);
DType from_scalar_type(at::ScalarType type);

}  // namespace syn
