#pragma once
// `synesthesia train-mapping` and `synesthesia generate`: the text-to-image probe's jobs
// (t2i_job.h) on the command line. `synesthesia score` lives in score_job.h.
namespace CLI {
class App;
}

namespace syn::run {

void add_t2i_commands(CLI::App& app);

}  // namespace syn::run
