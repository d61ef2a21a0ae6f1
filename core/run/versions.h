#pragma once
// Versions recorded in every manifest: the workbench, libtorch, the compiler.
#include <nlohmann/json.hpp>

namespace syn::run {

nlohmann::json version_info();

}  // namespace syn::run
