#include "core/run/commands/launch_command.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/io/errors.h"
#include "core/io/file_checks.h"

extern char** environ;

namespace syn::run {
namespace {

volatile sig_atomic_t g_forward = 0;  // SIGINT / SIGTERM received, to forward to the ranks
volatile sig_atomic_t g_alarm = 0;    // the grace period after stopping the ranks has passed

void on_forwarded_signal(int s) { g_forward = s; }
void on_alarm(int) { g_alarm = 1; }

void set_handler(int sig, void (*handler)(int)) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR, and the loop forwards the signal
    sigaction(sig, &sa, nullptr);
}

constexpr unsigned kGraceSeconds = 15;  // after SIGTERM, before SIGKILL

struct Rank {
    pid_t pid = -1;
    bool running = false;
};

int launch(int nproc, int port, const std::string& addr, const std::vector<std::string>& args) {
    const std::string exe = own_executable_path();
    if (exe.empty()) throw Error("launch: cannot find this program (/proc/self/exe)");
    if (port == 0) port = free_local_port();

    // The environment of every rank: ours without the variables the launcher sets, plus them.
    const std::vector<std::string> ours = {"WORLD_SIZE=", "RANK=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=",
                                           "MASTER_ADDR=", "MASTER_PORT=", "SLURM_STEP_NUM_TASKS=", "SLURM_PROCID=",
                                           "SLURM_LOCALID="};
    std::vector<std::string> base;
    bool threads_given = false;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        bool skip = false;
        for (const auto& p : ours) skip = skip || kv.rfind(p, 0) == 0;
        if (!skip) base.push_back(kv);
        threads_given = threads_given || kv.rfind("OMP_NUM_THREADS=", 0) == 0 || kv.rfind("SYN_NUM_THREADS=", 0) == 0;
    }
    if (!threads_given) {  // as torchrun: the cores shared among the ranks, not each rank taking all
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        base.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1u, cores / unsigned(nproc))));
    }
    std::vector<std::vector<std::string>> envs(nproc, base);
    for (int r = 0; r < nproc; ++r) {
        envs[r].push_back("WORLD_SIZE=" + std::to_string(nproc));
        envs[r].push_back("RANK=" + std::to_string(r));
        envs[r].push_back("LOCAL_RANK=" + std::to_string(r));
        envs[r].push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
        envs[r].push_back("MASTER_ADDR=" + addr);
        envs[r].push_back("MASTER_PORT=" + std::to_string(port));
    }
    std::vector<std::string> argv_s = {exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::vector<char*>> envps(nproc);
    for (int r = 0; r < nproc; ++r) {
        for (auto& kv : envs[r]) envps[r].push_back(kv.data());
        envps[r].push_back(nullptr);
    }

    g_forward = 0;
    g_alarm = 0;
    set_handler(SIGINT, on_forwarded_signal);
    set_handler(SIGTERM, on_forwarded_signal);
    set_handler(SIGALRM, on_alarm);
    std::fprintf(stderr, "launch: %d processes, MASTER_ADDR=%s MASTER_PORT=%d\n", nproc, addr.c_str(), port);
    std::fflush(stderr);

    std::vector<Rank> ranks(nproc);
    const pid_t parent = ::getpid();
    int alive = 0;
    auto signal_all = [&](int sig) {
        for (const auto& r : ranks)
            if (r.running) ::kill(r.pid, sig);
    };
    for (int r = 0; r < nproc; ++r) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            const int err = errno;
            signal_all(SIGTERM);
            for (auto& k : ranks)
                if (k.running) ::waitpid(k.pid, nullptr, 0);
            throw Error(std::string("launch: cannot start rank ") + std::to_string(r) + ": " + std::strerror(err));
        }
        if (pid == 0) {
            // Own process group: a terminal's Ctrl-C reaches the launcher only, which forwards it once.
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the launcher killed outright: the ranks stop too
            if (::getppid() != parent) ::_exit(1);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            signal(SIGALRM, SIG_DFL);
            ::execve(exe.c_str(), argv.data(), envps[r].data());
            ::_exit(127);
        }
        ranks[r].pid = pid;
        ranks[r].running = true;
        ++alive;
    }

    int forwarded = 0;
    int failed_rank = -1, failed_status = 0;
    bool stopping = false, killed = false;
    while (alive > 0) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno != EINTR) break;
            if (g_forward && !forwarded) {
                forwarded = g_forward;
                std::fprintf(stderr, "launch: %s received, passing it to the %d running ranks\n",
                             forwarded == SIGINT ? "SIGINT" : "SIGTERM", alive);
                signal_all(forwarded);
            } else if (g_forward && forwarded) {  // a second Ctrl-C: forward again (the ranks stop at once)
                signal_all(g_forward);
            }
            g_forward = 0;
            if (g_alarm && !killed) {
                killed = true;
                std::fprintf(stderr, "launch: %d ranks still running %u s after SIGTERM: killing them\n", alive, kGraceSeconds);
                signal_all(SIGKILL);
            }
            continue;
        }
        int r = 0;
        while (r < nproc && ranks[r].pid != pid) ++r;
        if (r == nproc) continue;
        ranks[r].running = false;
        --alive;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        if (code != 0 && failed_rank < 0 && !stopping && !forwarded) {
            failed_rank = r;
            failed_status = code;
            if (WIFSIGNALED(status))
                std::fprintf(stderr, "launch: rank %d (pid %d) was killed by signal %d", r, int(pid), WTERMSIG(status));
            else
                std::fprintf(stderr, "launch: rank %d (pid %d) failed with exit status %d", r, int(pid), code);
            std::fprintf(stderr, "%s\n", alive > 0 ? "; stopping the other ranks" : "");
            if (alive > 0) {
                stopping = true;
                signal_all(SIGTERM);
                ::alarm(kGraceSeconds);
            }
        }
    }
    ::alarm(0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    if (failed_rank >= 0) {
        std::fprintf(stderr, "launch: failed: rank %d exited with status %d\n", failed_rank, failed_status);
        return failed_status;
    }
    if (forwarded) return 128 + forwarded;
    return 0;
}

}  // namespace

int free_local_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw Error(std::string("launch: cannot open a socket: ") + std::strerror(errno));
    sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t n = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(std::string("launch: cannot find a free port: ") + std::strerror(err));
    }
    ::close(fd);
    return ntohs(a.sin_port);
}

void add_launch_command(CLI::App& app, int& exit_status) {
    struct State {
        int nproc = 2;
        int port = 0;
        std::string addr = "127.0.0.1";
        std::vector<std::string> args;
    };
    auto st = std::make_shared<State>();
    auto* cmd = app.add_subcommand(
        "launch", "Run a command as N data-parallel processes on this machine (like torchrun): launch --nproc 2 -- glue ...");
    cmd->add_option("--nproc,--nproc-per-node", st->nproc, "Number of processes (ranks)")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    cmd->add_option("--master-port", st->port, "Port of rank 0's rendezvous (0: a free one)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    cmd->add_option("--master-addr", st->addr, "Address of rank 0 (this machine)")->capture_default_str();
    cmd->add_option("args", st->args, "The synesthesia command and its arguments, after --")->required();
    cmd->callback([st, &exit_status] {
        if (st->args.front() == "launch") throw Error("launch: the command to launch cannot be launch itself");
        exit_status = launch(st->nproc, st->port, st->addr, st->args);
    });
}

}  // namespace syn::run
