#pragma once
// Turns the user's --device / --dtype strings into a torch device and dtype, with the rules the
// workbench applies everywhere: "auto" = CUDA when available, else CPU; half precision (bfloat16,
// float16) only on CUDA. Tested on CPU for every combination.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace syn::run {

struct DeviceChoice {
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
    std::string dtype_name = "float32";
};

// `cuda_available` is injectable for tests; by default torch::cuda::is_available().
DeviceChoice choose_device(const std::string& device, const std::string& dtype);
DeviceChoice choose_device(const std::string& device, const std::string& dtype, bool cuda_available,
                           int cuda_device_count);

}  // namespace syn::run
