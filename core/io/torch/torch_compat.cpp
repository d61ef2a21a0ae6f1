#include "core/io/torch/torch_compat.h"

#include <torch/version.h>

#if defined(SYN_HAVE_CUDA_HEADERS)
#include <ATen/cuda/CUDAContext.h>
#endif

namespace syn::compat {

std::string torch_version_string() { return TORCH_VERSION; }

bool cuda_device_properties(int index, std::string* name, long long* total_bytes) {
#if defined(SYN_HAVE_CUDA_HEADERS)
    const cudaDeviceProp* prop = at::cuda::getDeviceProperties(index);
    if (!prop) return false;
    *name = prop->name;
    *total_bytes = static_cast<long long>(prop->totalGlobalMem);
    return true;
#else
    (void)index;
    *name = "CUDA device";
    *total_bytes = 0;
    return false;
#endif
}

}  // namespace syn::compat

#include <cstring>

#if defined(SYN_HAVE_CUDA_HEADERS)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace syn::compat {

bool is_out_of_memory(const std::exception& e) {
    const char* what = e.what();
    return std::strstr(what, "out of memory") != nullptr || std::strstr(what, "OutOfMemory") != nullptr;
}

void release_cached_device_memory() {
#if defined(SYN_HAVE_CUDA_HEADERS)
    c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

}  // namespace syn::compat
