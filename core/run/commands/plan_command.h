#pragma once
// `synesthesia plan --slurm`: writes the study's Slurm batch scripts (core/run/cluster_plan.h).
namespace CLI {
class App;
}

namespace syn::run {

void add_plan_command(CLI::App& app);

}  // namespace syn::run
