#pragma once
// Small, named guards for the differences between Debian's libtorch 1.13 (CPU only) and an
// upstream libtorch 2.x with CUDA. Everything version- or CUDA-specific goes through here.
#include <exception>
#include <string>

namespace syn::compat {

// "1.13.1", "2.11.0", ...
std::string torch_version_string();
// Name and total memory of CUDA device `index`; false when the build has no CUDA.
bool cuda_device_properties(int index, std::string* name, long long* total_bytes);

}  // namespace syn::compat

namespace syn::compat {
// True when `e` is a device out-of-memory error (c10::OutOfMemoryError in 2.x,
// c10::CUDAOutOfMemoryError in 1.13: matched by message so the check builds against both).
bool is_out_of_memory(const std::exception& e);
// Frees cached device memory after an out-of-memory error (no-op without CUDA).
void release_cached_device_memory();
}  // namespace syn::compat
