#include "core/run/device_choice.h"

#include <torch/cuda.h>

#include <set>

#include "core/io/errors.h"
#include "core/io/torch/cpu_features.h"

namespace syn::run {

MachineCaps MachineCaps::this_machine() {
    MachineCaps caps;
    caps.cuda_available = torch::cuda::is_available();
    caps.cuda_device_count = caps.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
    caps.cpu_fast_bfloat16 = cpu_features().fast_bfloat16();
    caps.cpu_isa = cpu_features().isa_summary();
    return caps;
}

DeviceChoice choose_device(const std::string& device, const std::string& dtype) {
    return choose_device(device, dtype, MachineCaps::this_machine());
}

DeviceChoice choose_device(const std::string& device, const std::string& dtype, bool cuda_available,
                           int cuda_device_count) {
    MachineCaps caps;
    caps.cuda_available = cuda_available;
    caps.cuda_device_count = cuda_device_count;
    return choose_device(device, dtype, caps);
}

DeviceChoice choose_device(const std::string& device, const std::string& dtype, const MachineCaps& caps) {
    DeviceChoice c;
    if (device == "auto" || device.empty()) {
        c.device = caps.cuda_available ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
    } else if (device == "cpu") {
        c.device = c10::Device(c10::kCPU);
    } else if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
        if (!caps.cuda_available)
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
        if (index < 0 || index >= caps.cuda_device_count)
            throw Error("device '" + device + "': only " + std::to_string(caps.cuda_device_count) + " CUDA device(s)");
        c.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    } else {
        throw Error("unknown device '" + device + "' (auto, cpu, cuda, cuda:<index>)");
    }

    const std::string isa = caps.cpu_isa.empty() ? std::string() : " (" + caps.cpu_isa + ")";
    if (dtype == "auto" || dtype.empty()) {
        if (c.device.is_cuda()) {
            c.dtype = c10::kBFloat16;
            c.reason = "auto: bfloat16 on CUDA";
        } else if (caps.cpu_fast_bfloat16) {
            c.dtype = c10::kBFloat16;
            c.reason = "auto: the CPU has native bfloat16 instructions" + isa;
        } else {
            c.dtype = c10::kFloat;
            c.reason = "auto: float32, the CPU has no native bfloat16 (AMX-BF16 or AVX512-BF16)" + isa;
        }
    } else if (dtype == "float32" || dtype == "fp32") {
        c.dtype = c10::kFloat;
        c.reason = "asked for";
    } else if (dtype == "bfloat16" || dtype == "bf16") {
        c.dtype = c10::kBFloat16;
        c.reason = c.device.is_cuda() || caps.cpu_fast_bfloat16
                       ? "asked for"
                       : "asked for; this CPU emulates bfloat16 (no AMX-BF16 or AVX512-BF16), float32 is faster";
    } else if (dtype == "float16" || dtype == "fp16") {
        c.dtype = c10::kHalf;
        c.reason = "asked for";
    } else {
        throw Error("unknown dtype '" + dtype + "' (auto, float32, bfloat16, float16)");
    }
    c.dtype_name = c.dtype == c10::kFloat ? "float32" : c.dtype == c10::kBFloat16 ? "bfloat16" : "float16";
    if (c.dtype == c10::kHalf && !c.device.is_cuda())
        throw Error("dtype float16 is supported on CUDA only; use bfloat16 or float32 on the CPU");
    return c;
}

std::vector<DeviceChoice> choose_devices(const std::string& devices, const std::string& device,
                                         const std::string& dtype, bool expand) {
    return choose_devices(devices, device, dtype, MachineCaps::this_machine(), expand);
}

std::vector<DeviceChoice> choose_devices(const std::string& devices, const std::string& device,
                                         const std::string& dtype, const MachineCaps& caps, bool expand) {
    std::vector<std::string> names;
    const bool all_cuda = caps.cuda_available && caps.cuda_device_count > 1;
    if (devices.empty()) {
        if (!(expand && all_cuda && (device == "auto" || device.empty() || device == "cuda")))
            return {choose_device(device, dtype, caps)};
        for (int i = 0; i < caps.cuda_device_count; ++i) names.push_back("cuda:" + std::to_string(i));
    } else if (devices == "all") {
        if (!caps.cuda_available || caps.cuda_device_count < 1) return {choose_device("cpu", dtype, caps)};
        for (int i = 0; i < caps.cuda_device_count; ++i) names.push_back("cuda:" + std::to_string(i));
    } else {
        std::size_t begin = 0;
        while (true) {
            const std::size_t comma = devices.find(',', begin);
            std::string name = devices.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
            while (!name.empty() && name.front() == ' ') name.erase(name.begin());
            while (!name.empty() && name.back() == ' ') name.pop_back();
            if (name.empty()) throw Error("--devices '" + devices + "': an empty entry (expected e.g. cuda:0,cuda:1)");
            if (name == "auto" || name == "all")
                throw Error("--devices '" + devices + "': '" + name + "' stands alone, not in a list");
            names.push_back(name);
            if (names.size() > 1024) throw Error("--devices '" + devices.substr(0, 80) + "...': too many entries");
            if (comma == std::string::npos) break;
            begin = comma + 1;
        }
    }
    std::vector<DeviceChoice> out;
    std::set<std::string> cuda_seen;
    for (const auto& name : names) {
        DeviceChoice c;
        try {
            c = choose_device(name, dtype, caps);
        } catch (const Error& e) {
            throw Error("--devices '" + devices + "': " + e.what());
        }
        // "cuda" alone is cuda:0.
        if (c.device.is_cuda() && !cuda_seen.insert(c.device.str()).second)
            throw Error("--devices '" + devices + "': " + c.device.str() + " is named twice (one replica per GPU)");
        if (!out.empty() && c.device.type() != out.front().device.type())
            throw Error("--devices '" + devices + "': " + out.front().device.str() + " and " + c.device.str() +
                        " mixed (one kind of device, so that every replica computes the same numbers)");
        out.push_back(c);
    }
    return out;
}

}  // namespace syn::run
