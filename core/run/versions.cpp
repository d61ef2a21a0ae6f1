#include "core/run/versions.h"

#include "core/io/torch/torch_compat.h"
#include "core/io/torch/torch_runtime.h"

#ifndef SYN_VERSION
#define SYN_VERSION "unknown"
#endif

namespace syn::run {

nlohmann::json version_info() {
    DeviceInfo dev = describe_compute_device();
    return {{"synesthesia", SYN_VERSION},
            {"libtorch", compat::torch_version_string()},
            {"compiler", __VERSION__},
            {"compute_device", dev.summary()}};
}

}  // namespace syn::run
