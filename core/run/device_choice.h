#pragma once
// Turns the user's --device / --dtype strings into a torch device and dtype, with the rules the
// workbench applies everywhere:
//   device "auto" = CUDA when available, else the CPU;
//   dtype "auto" (the default) = bfloat16 on CUDA; on the CPU bfloat16 where it has native bf16
//     instructions (AMX-BF16 or AVX512-BF16), float32 elsewhere (emulated bf16 is slower there);
//   bfloat16 may also be asked for on any CPU (it is then slow, and `reason` says so); float16
//   only on CUDA.
// Tested on CPU for every combination by injecting what the machine has.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <vector>

namespace syn::run {

struct DeviceChoice {
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
    std::string dtype_name = "float32";
    std::string reason;  // why this dtype: "auto: the CPU has AVX512-BF16", "asked for", ...
};

// What the choice depends on; by default read from the running machine.
struct MachineCaps {
    bool cuda_available = false;
    int cuda_device_count = 0;
    bool cpu_fast_bfloat16 = false;
    std::string cpu_isa;  // for the reason text
    static MachineCaps this_machine();
};

DeviceChoice choose_device(const std::string& device, const std::string& dtype);
DeviceChoice choose_device(const std::string& device, const std::string& dtype, const MachineCaps& caps);
// Tests of the CUDA logic: a CPU without native bf16.
DeviceChoice choose_device(const std::string& device, const std::string& dtype, bool cuda_available,
                           int cuda_device_count);

// The devices of a job that runs one model replica per device (the embedding job):
//   `devices` "" : `device` alone; but when `expand` and `device` is "auto" or "cuda" and several
//                  CUDA devices are visible, every one of them;
//   "all"        : every visible CUDA device, else the CPU;
//   a list       : "cuda:0,cuda:1", "cpu,cpu", each through choose_device; a CUDA device at most
//                  once, the CPU as often as asked (CPU replicas, each with a share of the torch
//                  threads: the multi-device path, testable without a GPU).
// One kind only (all CPU or all CUDA) with one dtype, so that every replica computes the numbers
// one device would. syn::Error naming the entry otherwise.
std::vector<DeviceChoice> choose_devices(const std::string& devices, const std::string& device,
                                         const std::string& dtype, const MachineCaps& caps, bool expand = true);
std::vector<DeviceChoice> choose_devices(const std::string& devices, const std::string& device,
                                         const std::string& dtype, bool expand = true);

}  // namespace syn::run
