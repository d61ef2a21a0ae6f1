#pragma once
// `synesthesia launch --nproc N [--master-port P] -- <synesthesia arguments>`: torchrun for one
// machine. Starts N copies of this program with WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR (127.0.0.1) and MASTER_PORT (a free port unless given) set, forwards SIGINT / SIGTERM
// to them, and when one fails stops the others and exits non-zero naming the rank.
namespace CLI {
class App;
}

namespace syn::run {

// `exit_status` receives the launcher's status: 0 when every rank exited 0; else the first failing
// rank's exit status (128 + signal when it was killed), 130 / 143 after a forwarded SIGINT / SIGTERM.
void add_launch_command(CLI::App& app, int& exit_status);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
int free_local_port();

}  // namespace syn::run
