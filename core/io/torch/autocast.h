#pragma once
// bfloat16 autocast on CUDA for a scope (the libtorch API changed in 2.4). bfloat16 keeps float32's
// exponent range, so no loss scaler is needed. Used by the GLUE and the mapping trainers.
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace syn::compat {

class CudaAutocast {
public:
    explicit CudaAutocast(bool enable) : on_(enable) { set(on_); }
    ~CudaAutocast() {
        if (!on_) return;
        set(false);
        at::autocast::clear_cache();
    }
    CudaAutocast(const CudaAutocast&) = delete;
    CudaAutocast& operator=(const CudaAutocast&) = delete;

private:
    static void set(bool enable) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        // 2.4+: per-device API; the CUDA-only calls below are deprecated there.
        if (!enable && !at::autocast::is_autocast_enabled(at::kCUDA)) return;
        at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
        at::autocast::set_autocast_enabled(at::kCUDA, enable);
#else
        // 1.13 .. 2.3: CUDA-only calls (is_enabled/set_enabled mean CUDA).
        if (!enable && !at::autocast::is_enabled()) return;
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        at::autocast::set_enabled(enable);
#endif
    }
    bool on_;
};

}  // namespace syn::compat
