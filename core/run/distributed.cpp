#include "core/run/distributed.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/io/errors.h"
#include "core/io/quote.h"

#if defined(SYN_HAVE_GLOO) || defined(SYN_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#endif
#if defined(SYN_HAVE_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(SYN_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace syn::run {

namespace {

using Getenv = std::function<const char*(const char*)>;

const char* env_value(const Getenv& getenv, const char* name) {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    return v && *v ? v : nullptr;
}

// A whole decimal number in [lo, hi], or an Error naming the variable.
long parse_int(const char* name, const char* text, long lo, long hi) {
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        throw Error(std::string("distributed: ") + name + "=" + quote_excerpt(text) + " is not a whole number");
    if (v < lo || v > hi)
        throw Error(std::string("distributed: ") + name + "=" + text + " is outside " + std::to_string(lo) + ".." +
                    std::to_string(hi));
    return v;
}

}  // namespace

DistEnv read_dist_env(const Getenv& getenv) {
    DistEnv env;
    const char* world = env_value(getenv, "WORLD_SIZE");
    const char* rank_name = "RANK";
    const char* local_name = "LOCAL_RANK";
    const char* world_name = "WORLD_SIZE";
    if (world) {
        env.source = "torchrun";
    } else if ((world = env_value(getenv, "SLURM_STEP_NUM_TASKS"))) {
        // srun's step, not SLURM_NTASKS: a batch script of a --ntasks=4 job has SLURM_NTASKS=4 and
        // SLURM_PROCID=0 but is one process; only srun starts the ranks (and sets the step's count).
        env.source = "slurm";
        world_name = "SLURM_STEP_NUM_TASKS";
        rank_name = "SLURM_PROCID";
        local_name = "SLURM_LOCALID";
    } else {
        return env;  // one process
    }
    env.world_size = int(parse_int(world_name, world, 1, INT_MAX));
    const char* rank = env_value(getenv, rank_name);
    if (!rank && env.world_size > 1)
        throw Error(std::string("distributed: ") + world_name + "=" + world + " but " + rank_name + " is not set");
    env.rank = rank ? int(parse_int(rank_name, rank, 0, INT_MAX)) : 0;
    if (env.rank >= env.world_size)
        throw Error(std::string("distributed: ") + rank_name + "=" + std::to_string(env.rank) + " is not below " +
                    world_name + "=" + std::to_string(env.world_size));
    const char* local = env_value(getenv, local_name);
    env.local_rank = local ? int(parse_int(local_name, local, 0, INT_MAX)) : 0;
    if (const char* port = env_value(getenv, "MASTER_PORT")) env.master_port = int(parse_int("MASTER_PORT", port, 1, 65535));
    if (const char* addr = env_value(getenv, "MASTER_ADDR")) env.master_addr = addr;
    if (env.world_size > 1 && env.master_addr.empty())
        throw Error(std::string("distributed: ") + world_name + "=" + std::to_string(env.world_size) +
                    " but MASTER_ADDR is not set (the host of rank 0" +
                    (env.source == "slurm" ? std::string(", e.g. the first of $(scontrol show hostnames "
                                                         "\"$SLURM_JOB_NODELIST\")")
                                           : std::string()) +
                    ")");
    return env;
}

std::chrono::milliseconds dist_timeout_from_env(const Getenv& getenv) {
    const char* t = env_value(getenv, "SYN_DIST_TIMEOUT");
    const long seconds = t ? parse_int("SYN_DIST_TIMEOUT", t, 1, 7 * 24 * 3600) : 900;
    return std::chrono::milliseconds(seconds * 1000);
}

std::vector<std::string> dist_backends() {
    std::vector<std::string> out;
#if defined(SYN_HAVE_GLOO)
    out.push_back("gloo");
#endif
#if defined(SYN_HAVE_NCCL)
    out.push_back("nccl");
#endif
    return out;
}

std::string dist_device_spec(const std::string& spec, const DistEnv& env) {
    if (!env.distributed()) return spec;
    if ((spec == "auto" || spec == "cuda") && torch::cuda::is_available())
        return "cuda:" + std::to_string(env.local_rank % std::max<int64_t>(1, int64_t(torch::cuda::device_count())));
    return spec;
}

std::pair<int64_t, int64_t> rank_slice(int64_t n, int rank, int world) {
    return {n * rank / world, n * (rank + 1) / world};
}

// The process group behind a small interface: in libtorch 1.13 ProcessGroupGloo derives from
// ProcessGroup, in 2.x from Backend; both have these member functions.
struct DataParallel::Impl {
    virtual ~Impl() = default;
    virtual void broadcast(std::vector<at::Tensor>& t) = 0;
    virtual void allreduce(std::vector<at::Tensor>& t, bool max) = 0;
    virtual void barrier() = 0;
    std::string where;  // "MASTER_ADDR:PORT" for messages
    c10::Device device = c10::Device(c10::kCPU);
    std::chrono::milliseconds timeout{0};
};

namespace {

#if defined(SYN_HAVE_GLOO) || defined(SYN_HAVE_NCCL)
template <class PG>
struct GroupImpl : DataParallel::Impl {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<PG> pg;
    void broadcast(std::vector<at::Tensor>& t) override {
        c10d::BroadcastOptions o;
        o.rootRank = 0;
        pg->broadcast(t, o)->wait();
    }
    void allreduce(std::vector<at::Tensor>& t, bool max) override {
        c10d::AllreduceOptions o;
        o.reduceOp = max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
        pg->allreduce(t, o)->wait();
    }
    void barrier() override { pg->barrier()->wait(); }
};
#endif

// A collective that fails (a peer died, or did not answer within the timeout) as a named Error.
template <class F>
void collective(const DataParallel& dp, const DataParallel::Impl& impl, const char* what, F&& f) {
    try {
        f();
    } catch (const c10::Error& e) {
        throw Error("distributed: rank " + std::to_string(dp.rank()) + " of " + std::to_string(dp.world_size()) + ": " +
                    what + " over " + impl.where + " failed (a peer stopped, or did not answer within " +
                    std::to_string(impl.timeout.count() / 1000) + " s, SYN_DIST_TIMEOUT): " + e.what_without_backtrace());
    } catch (const std::exception& e) {
        throw Error("distributed: rank " + std::to_string(dp.rank()) + " of " + std::to_string(dp.world_size()) + ": " +
                    what + " over " + impl.where + " failed: " + e.what());
    }
}

}  // namespace

DataParallel::~DataParallel() = default;

#if defined(SYN_HAVE_GLOO) || defined(SYN_HAVE_NCCL)
namespace {
// libtorch >= 2.4 serves the TCPStore through libuv by default, and a libtorch built without libuv
// (Debian 13's 2.6) refuses that default; its older backend serves the same protocol. `options`
// with that backend, or nullopt where the option does not exist (libtorch 1.13: always the old one).
template <typename Options>
auto without_libuv(Options options, int) -> decltype(options.useLibUV = false, std::optional<Options>()) {
    options.useLibUV = false;
    return options;
}
template <typename Options>
std::optional<Options> without_libuv(Options, long) {
    return std::nullopt;
}
}  // namespace
#endif

std::shared_ptr<DataParallel> DataParallel::connect(const DistEnv& env, c10::Device device,
                                                    std::chrono::milliseconds timeout) {
    const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
    const std::string who = "distributed: rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
    std::shared_ptr<DataParallel> dp(new DataParallel());
    dp->env_ = env;
#if defined(SYN_HAVE_GLOO) || defined(SYN_HAVE_NCCL)
    c10::intrusive_ptr<c10d::Store> store;
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(env.master_port);
        so.isServer = env.rank == 0;
        so.numWorkers = static_cast<std::size_t>(env.world_size);
        so.waitWorkers = true;
        so.timeout = timeout;
        try {
            store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
        } catch (const std::exception& e) {
            const auto legacy = without_libuv(so, 0);
            if (!legacy || std::string(e.what()).find("libuv") == std::string::npos) throw;
            store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, *legacy);
        }
    } catch (const std::exception& e) {
        std::string what = e.what();
        if (auto* ce = dynamic_cast<const c10::Error*>(&e)) what = ce->what_without_backtrace();
        throw Error(who + ": the rendezvous at MASTER_ADDR:MASTER_PORT = " + where +
                    (env.rank == 0 ? " (served by this rank)" : "") + " did not gather all " +
                    std::to_string(env.world_size) + " processes within " + std::to_string(timeout.count() / 1000) +
                    " s (SYN_DIST_TIMEOUT): " + what);
    }
    try {
#if defined(SYN_HAVE_NCCL)
        if (device.is_cuda()) {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = timeout;
            auto impl = std::make_unique<GroupImpl<c10d::ProcessGroupNCCL>>();
            impl->store = store;
            impl->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
            dp->impl_ = std::move(impl);
            dp->backend_ = "nccl";
        }
#endif
#if defined(SYN_HAVE_GLOO)
        if (!dp->impl_) {
            auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
            if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
                opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0)
                opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            auto impl = std::make_unique<GroupImpl<c10d::ProcessGroupGloo>>();
            impl->store = store;
            impl->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
            dp->impl_ = std::move(impl);
            dp->backend_ = "gloo";
        }
#endif
    } catch (const std::exception& e) {
        std::string what = e.what();
        if (auto* ce = dynamic_cast<const c10::Error*>(&e)) what = ce->what_without_backtrace();
        throw Error(who + ": the " + std::to_string(env.world_size) +
                    " processes did not all join the process group at MASTER_ADDR:MASTER_PORT = " + where + " within " +
                    std::to_string(timeout.count() / 1000) + " s (SYN_DIST_TIMEOUT): " + what);
    }
    if (!dp->impl_) throw Error(who + ": no c10d backend for a " + device.str() + " device in this build");
    dp->impl_->where = "MASTER_ADDR:MASTER_PORT = " + where;
    dp->impl_->device = device;
    dp->impl_->timeout = timeout;
    return dp;
#else
    (void)device;
    (void)timeout;
    throw Error(who + " (" + where + "): this build has no c10d backend (neither Gloo nor NCCL was found when it was "
                "configured: install libgloo-dev, or build against a libtorch with distributed support, and "
                "reconfigure); run with one process (unset WORLD_SIZE / not under srun)");
#endif
}

std::shared_ptr<DataParallel> data_parallel_from_env(const std::string& device_spec) {
    const DistEnv env = read_dist_env();
    if (!env.distributed()) return nullptr;
    c10::Device device(c10::kCPU);
    const std::string spec = dist_device_spec(device_spec, env);
    if (spec.rfind("cuda", 0) == 0) device = c10::Device(spec);
    return DataParallel::connect(env, device, dist_timeout_from_env());
}

void DataParallel::require_batch_for_world(int64_t batch, const std::string& job) const {
    if (batch < env_.world_size)
        throw Error(job + ": the batch size " + std::to_string(batch) + " is smaller than the world size " +
                    std::to_string(env_.world_size) +
                    " (each process takes a share of every batch): raise --batch-size or start fewer processes");
}

std::string DataParallel::describe() const {
    return "data-parallel: " + std::to_string(env_.world_size) + " processes (" + backend_ +
           (env_.source.empty() ? "" : ", from " + env_.source) + "), rank 0 writes";
}

void DataParallel::broadcast(const std::vector<at::Tensor>& tensors) {
    for (const auto& t : tensors) {
        if (!t.defined()) continue;
        std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
        collective(*this, *impl_, "broadcast", [&] { impl_->broadcast(one); });
        if (!t.is_contiguous()) t.copy_(one[0]);
    }
}

void DataParallel::broadcast_parameters(const std::vector<at::Tensor>& parameters) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> data;
    for (const auto& p : parameters) data.push_back(p.detach());
    broadcast(data);
}

void DataParallel::allreduce_gradients(const std::vector<at::Tensor>& parameters) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (const auto& p : parameters) {
        if (!p.requires_grad()) continue;
        if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
        grads.push_back(p.grad());
    }
    if (skip_gradient_allreduce_for_tests) return;
    // Buckets of up to 2^24 elements of one dtype and device, flattened into one buffer each.
    constexpr int64_t kBucket = int64_t(1) << 24;
    std::size_t i = 0;
    while (i < grads.size()) {
        std::vector<at::Tensor> bucket{grads[i]};
        int64_t n = grads[i].numel();
        std::size_t j = i + 1;
        for (; j < grads.size() && n + grads[j].numel() <= kBucket && grads[j].scalar_type() == grads[i].scalar_type() &&
               grads[j].device() == grads[i].device();
             ++j) {
            bucket.push_back(grads[j]);
            n += grads[j].numel();
        }
        std::vector<at::Tensor> flat_views;
        for (const auto& g : bucket) flat_views.push_back(g.reshape({-1}));
        std::vector<at::Tensor> flat{at::cat(flat_views)};
        collective(*this, *impl_, "gradient all-reduce", [&] { impl_->allreduce(flat, false); });
        int64_t offset = 0;
        for (auto& g : bucket) {
            g.copy_(flat[0].narrow(0, offset, g.numel()).view(g.sizes()));
            offset += g.numel();
        }
        i = j;
    }
}

namespace {
std::vector<double> reduce_doubles(DataParallel& dp, DataParallel::Impl& impl, const std::vector<double>& values, bool max) {
    if (values.empty()) return {};
    auto t = at::tensor(values, at::TensorOptions().dtype(at::kDouble));
    if (impl.device.is_cuda()) t = t.to(impl.device);
    std::vector<at::Tensor> one{t};
    collective(dp, impl, max ? "max all-reduce" : "sum all-reduce", [&] { impl.allreduce(one, max); });
    auto cpu = one[0].to(at::kCPU).contiguous();
    return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
}
}  // namespace

std::vector<double> DataParallel::allreduce_sum(const std::vector<double>& values) {
    return reduce_doubles(*this, *impl_, values, false);
}

std::vector<double> DataParallel::allreduce_max(const std::vector<double>& values) {
    return reduce_doubles(*this, *impl_, values, true);
}

void DataParallel::barrier() {
    collective(*this, *impl_, "barrier", [&] { impl_->barrier(); });
}

}  // namespace syn::run
