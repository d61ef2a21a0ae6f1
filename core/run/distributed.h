#pragma once
// Data-parallel training over libtorch's own c10d (ProcessGroupGloo on the CPU, ProcessGroupNCCL on
// CUDA where the linked libtorch has it): the environment torchrun / `synesthesia launch` / srun
// set, a process group from it, and the few collectives the trainers use.
//
// Semantics the trainers (glue_job, train_mapping) build on: every rank draws the same global batch
// (identically seeded order), takes its contiguous slice of it (rank_slice), scales its mean loss by
// n_rank / n_batch, and the gradients are SUM-all-reduced, so the update equals the single-process
// update on the whole batch (up to float rounding). Dropout masks differ per rank (as under PyTorch
// DDP): with dropout on, a W-process run is a different, equally valid, random draw than a 1-process
// one. Only rank 0 writes outputs.
//
// Which backends are compiled in is decided by CMake (SYN_HAVE_GLOO, SYN_HAVE_NCCL); a build with
// none still builds and runs single-process, and a distributed run fails with a clear message.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace syn::run {

struct DistEnv {
    int world_size = 1;
    int rank = 0;
    int local_rank = 0;
    std::string master_addr;  // "" for one process
    int master_port = 29500;
    std::string source;  // "torchrun" (WORLD_SIZE/RANK...), "slurm" (srun: SLURM_STEP_NUM_TASKS/...), "" (one process)
    bool distributed() const { return world_size > 1; }
};

// Reads WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (as torchrun and `synesthesia launch`
// set them); without WORLD_SIZE, srun's SLURM_STEP_NUM_TASKS, SLURM_PROCID, SLURM_LOCALID (not SLURM_NTASKS:
// a multi-task job's batch script has it but is one process), where
// MASTER_ADDR must be given (MASTER_PORT defaults to 29500). Throws syn::Error naming the variable
// for a non-numeric or out-of-range value, RANK >= WORLD_SIZE, a missing MASTER_ADDR when the world
// has more than one process, a port outside 1..65535. `getenv` replaces ::getenv (tests).
DistEnv read_dist_env(const std::function<const char*(const char*)>& getenv = {});

// How long a rank waits for its peers (connecting, and every collective): SYN_DIST_TIMEOUT seconds,
// default 900.
std::chrono::milliseconds dist_timeout_from_env(const std::function<const char*(const char*)>& getenv = {});

// The c10d backends this build has ("gloo", "nccl"); empty: single process only.
std::vector<std::string> dist_backends();

// The device a rank uses: "auto" / "cuda" become cuda:<LOCAL_RANK> when CUDA is there and the world
// has more than one process; anything else is kept.
std::string dist_device_spec(const std::string& spec, const DistEnv& env);

// The rows [first, second) of a batch of n rows that `rank` of `world` takes: contiguous, in rank
// order, sizes differing by at most one (a rank may get none when n < world).
std::pair<int64_t, int64_t> rank_slice(int64_t n, int rank, int world);

class DataParallel {
public:
    // Connects to the peers through a c10d TCPStore at MASTER_ADDR:MASTER_PORT (rank 0 serves it)
    // and makes the process group: NCCL for a CUDA device when compiled in, else Gloo (which takes
    // CUDA tensors too, through the host). A peer that does not come within `timeout` is an error
    // naming MASTER_ADDR:MASTER_PORT, not a hang. Gloo's network interface: GLOO_SOCKET_IFNAME when
    // set, the loopback when MASTER_ADDR is 127.x / localhost, else the one of this host's name.
    static std::shared_ptr<DataParallel> connect(const DistEnv& env, c10::Device device,
                                                 std::chrono::milliseconds timeout);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int rank() const { return env_.rank; }
    int world_size() const { return env_.world_size; }
    bool is_main() const { return env_.rank == 0; }
    const std::string& backend() const { return backend_; }
    const DistEnv& env() const { return env_; }
    // "data-parallel: 2 processes (gloo, from slurm), rank 0 writes": what the commands log once.
    std::string describe() const;

    // A global batch of `batch` rows must give every rank at least one: else an Error for `job`
    // ("glue", "train-mapping") saying so.
    void require_batch_for_world(int64_t batch, const std::string& job) const;
    // Rank 0's values into every rank's tensors (in place).
    void broadcast(const std::vector<at::Tensor>& tensors);
    // Rank 0's values into every rank's parameters (start of training: identical replicas).
    void broadcast_parameters(const std::vector<at::Tensor>& parameters);
    // SUM of every rank's gradients into each parameter's .grad (an undefined grad counts as zeros and
    // becomes defined). Bucketed into flat buffers.
    void allreduce_gradients(const std::vector<at::Tensor>& parameters);
    // SUM / MAX over the ranks of a few doubles, element by element.
    std::vector<double> allreduce_sum(const std::vector<double>& values);
    std::vector<double> allreduce_max(const std::vector<double>& values);
    double allreduce_sum(double value) { return allreduce_sum(std::vector<double>{value})[0]; }
    void barrier();

    // Tests only: gradients are left per rank (no all-reduce), which must make the losses differ
    // from a single-process run; proves the equality tests can fail.
    bool skip_gradient_allreduce_for_tests = false;

    struct Impl;

private:
    DataParallel() = default;
    DistEnv env_;
    std::string backend_;
    std::unique_ptr<Impl> impl_;
};

// A DataParallel from the environment when it names more than one process (read_dist_env), else
// nullptr. `device_spec` as dist_device_spec gives it.
std::shared_ptr<DataParallel> data_parallel_from_env(const std::string& device_spec);

}  // namespace syn::run
