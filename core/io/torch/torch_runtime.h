#pragma once
// Process-wide torch set-up and a description of the compute device, shared by the CLI and GUI.
#include <string>

namespace syn {

// Sets torch's intra-op thread count (Debian's libtorch defaults to 1 here) to
// default_thread_count(). Call once at start-up. Returns the count set.
int init_torch_runtime();

// The threads this process should use: SYN_NUM_THREADS, else OMP_NUM_THREADS (its first value, as
// OpenMP reads a nested list), else the CPUs it may run on: its affinity mask (taskset, Slurm's
// --cpus-per-task) and the cgroup v2 CPU quota (docker --cpus, systemd CPUQuota), whichever is
// smaller. At least 1.
int default_thread_count();

// The pieces of default_thread_count(), for tests: `cgroup_cpu_max` is the text of cgroup v2's
// cpu.max ("max 100000" or "<quota> <period>"; "" when absent).
int thread_count_from(const char* syn_num_threads, const char* omp_num_threads, int affinity_cpus,
                      const std::string& cgroup_cpu_max);

// Debian's libtorch runs its intra-op work on GNU OpenMP while OpenBLAS runs GEMMs on its own
// pthreads: with OpenMP's default spin-waiting, idle OpenMP threads keep the cores busy that
// OpenBLAS needs (measured: sampling with a mid-size GPT 3.5x slower on 2 cores). libgomp reads
// OMP_WAIT_POLICY only when it is loaded, so when the variable is unset this sets it to PASSIVE and
// re-executes the program (argv unchanged); when it is set (by the user, or by the re-execution),
// it returns at once. Call first thing in main().
void prefer_passive_openmp_wait(char** argv);

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
