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

std::string version_line() {
    return std::string("synesthesia ") + SYN_VERSION + " (libtorch " + compat::torch_version_string() + ", " +
#if defined(__clang__)
           __VERSION__ + ")";  // "Debian Clang 14.0.6"
#else
           "GCC " __VERSION__ + ")";  // GCC's __VERSION__ is the bare number
#endif
}

}  // namespace syn::run
