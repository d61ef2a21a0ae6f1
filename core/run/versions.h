#pragma once
// Versions recorded in every manifest: the workbench, libtorch, the compiler.
#include <nlohmann/json.hpp>

#include <string>

namespace syn::run {

nlohmann::json version_info();

// `synesthesia --version`: "synesthesia 0.1.0 (libtorch 1.13.1, GCC 12.2.0)".
std::string version_line();

}  // namespace syn::run
