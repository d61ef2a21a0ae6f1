#pragma once
// Process-wide torch set-up and a description of the compute device, shared by the CLI and GUI.
#include <string>

namespace syn {

// Sets torch's intra-op thread count to the machine's cores (Debian's libtorch defaults to 1
// here) unless SYN_NUM_THREADS says otherwise. Call once at start-up. Returns the count set.
int init_torch_runtime();

struct DeviceInfo {
    bool cuda = false;
    std::string name;      // "NVIDIA H200" or "CPU"
    long long memory_bytes = 0;  // total device memory (CUDA only)
    int cpu_threads = 0;
    std::string torch_version;
    // One line for status bars and manifests: "CUDA: NVIDIA H200, 139.8 GiB" / "CPU: 2 threads".
    std::string summary() const;
};

// The device heavy work runs on: the first CUDA device when the linked libtorch has CUDA and a
// GPU is present, else the CPU.
DeviceInfo describe_compute_device();

}  // namespace syn
