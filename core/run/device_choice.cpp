#include "core/run/device_choice.h"

#include <torch/cuda.h>

#include "core/io/errors.h"

namespace syn::run {

DeviceChoice choose_device(const std::string& device, const std::string& dtype) {
    const bool cuda = torch::cuda::is_available();
    return choose_device(device, dtype, cuda, cuda ? static_cast<int>(torch::cuda::device_count()) : 0);
}

DeviceChoice choose_device(const std::string& device, const std::string& dtype, bool cuda_available,
                           int cuda_device_count) {
    DeviceChoice c;
    if (device == "auto" || device.empty()) {
        c.device = cuda_available ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    } else if (device == "cpu") {
        c.device = c10::Device(c10::kCPU);
    } else if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
        if (!cuda_available)
            throw Error("device '" + device +
                        "' requested, but this build of libtorch has no CUDA or no GPU is visible (use --device cpu)");
        int index = 0;
        if (device.size() > 5) {
            try {
                index = std::stoi(device.substr(5));
            } catch (...) {
                throw Error("device '" + device + "': expected cuda:<index>");
            }
        }
        if (index < 0 || index >= cuda_device_count)
            throw Error("device '" + device + "': only " + std::to_string(cuda_device_count) + " CUDA device(s)");
        c.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    } else {
        throw Error("unknown device '" + device + "' (auto, cpu, cuda, cuda:<index>)");
    }

    if (dtype == "float32" || dtype == "fp32" || dtype.empty()) {
        c.dtype = c10::kFloat;
        c.dtype_name = "float32";
    } else if (dtype == "bfloat16" || dtype == "bf16") {
        c.dtype = c10::kBFloat16;
        c.dtype_name = "bfloat16";
    } else if (dtype == "float16" || dtype == "fp16") {
        c.dtype = c10::kHalf;
        c.dtype_name = "float16";
    } else {
        throw Error("unknown dtype '" + dtype + "' (float32, bfloat16, float16)");
    }
    if (c.dtype != c10::kFloat && !c.device.is_cuda())
        throw Error("dtype " + c.dtype_name + " is supported on CUDA only; use float32 on the CPU");
    return c;
}

}  // namespace syn::run
