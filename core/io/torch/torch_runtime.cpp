#include "core/io/torch/torch_runtime.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include "core/io/torch/torch_compat.h"

namespace syn {

void prefer_passive_openmp_wait(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || argv == nullptr || argv[0] == nullptr) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    execv("/proc/self/exe", argv);
    // execv returned: it failed (no /proc?). Carry on with the default policy; nothing is lost but speed.
}

int init_torch_runtime() {
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("SYN_NUM_THREADS"); env && *env) threads = std::atoi(env);
    if (threads < 1) threads = 1;
    torch::set_num_threads(threads);
    return threads;
}

std::string DeviceInfo::summary() const {
    char buf[256];
    if (cuda)
        std::snprintf(buf, sizeof buf, "CUDA: %s, %.1f GiB", name.c_str(), memory_bytes / 1073741824.0);
    else
        std::snprintf(buf, sizeof buf, "CPU: %d threads", cpu_threads);
    return buf;
}

DeviceInfo describe_compute_device() {
    DeviceInfo info;
    info.cpu_threads = torch::get_num_threads();
    info.torch_version = compat::torch_version_string();
    if (torch::cuda::is_available()) {
        info.cuda = true;
        compat::cuda_device_properties(0, &info.name, &info.memory_bytes);
    } else {
        info.name = "CPU";
    }
    return info;
}

}  // namespace syn
