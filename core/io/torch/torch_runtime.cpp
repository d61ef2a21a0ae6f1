#include "core/io/torch/torch_runtime.h"

#include <torch/torch.h>

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
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

namespace {

// A positive integer at the start of `text` (OMP_NUM_THREADS may be a list: "4,2"), else 0.
int leading_count(const char* text) {
    if (text == nullptr) return 0;
    char* end = nullptr;
    const long n = std::strtol(text, &end, 10);
    if (end == text || n < 1) return 0;
    return static_cast<int>(std::min<long>(n, 4096));
}

// The file's first line, "" when it cannot be read.
std::string first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

int thread_count_from(const char* syn_num_threads, const char* omp_num_threads, int affinity_cpus,
                      const std::string& cgroup_cpu_max) {
    if (int n = leading_count(syn_num_threads)) return n;
    if (int n = leading_count(omp_num_threads)) return n;
    int cpus = std::max(1, affinity_cpus);
    long long quota = 0, period = 0;
    if (std::sscanf(cgroup_cpu_max.c_str(), "%lld %lld", &quota, &period) == 2 && quota > 0 && period > 0)
        cpus = std::min<long long>(cpus, std::max<long long>(1, (quota + period - 1) / period));  // 1.5 CPUs -> 2
    return cpus;
}

int default_thread_count() {
    int affinity = static_cast<int>(std::thread::hardware_concurrency());
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) affinity = CPU_COUNT(&set);
    return thread_count_from(std::getenv("SYN_NUM_THREADS"), std::getenv("OMP_NUM_THREADS"), affinity,
                             first_line("/sys/fs/cgroup/cpu.max"));
}

int init_torch_runtime() {
    const int threads = default_thread_count();
    torch::set_num_threads(threads);
    return threads;
}

std::string DeviceInfo::summary() const {
    char buf[256];
    if (cuda)
        std::snprintf(buf, sizeof buf, "CUDA: %s, %.1f GiB", name.c_str(), memory_bytes / 1073741824.0);
    else
        std::snprintf(buf, sizeof buf, "CPU: %d thread%s", cpu_threads, cpu_threads == 1 ? "" : "s");
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
