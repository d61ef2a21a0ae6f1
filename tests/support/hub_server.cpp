#include "tests/support/hub_server.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace syn::test {
namespace {
void write_text(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}
}  // namespace

fs::path HubServer::script() {
    if (const char* env = std::getenv("SYN_HUB_TEST_SERVER")) return env;
    return fs::path(SYN_TESTS_SOURCE_DIR) / "io" / "hub_test_server.py";
}

HubServer::HubServer(const nlohmann::json& config, const fs::path& dir) {
    config_path_ = dir / "server_config.json";
    log_path_ = dir / "server_requests.log";
    write_text(config_path_, config.dump());
    write_text(log_path_, "");
    int in_pipe[2], out_pipe[2];
    if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        std::string s = script().string(), cfg = config_path_.string(), log = log_path_.string();
        ::execlp("python3", "python3", s.c_str(), "--config", cfg.c_str(), "--log", log.c_str(), "--max-seconds",
                 "300", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    stdout_fd_ = out_pipe[0];
    port_ = read_port();
}

HubServer::~HubServer() {
    ::close(stdin_fd_);  // the server stops when its stdin closes
    ::close(stdout_fd_);
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::vector<std::string> HubServer::requests() const {
    std::vector<std::string> lines;
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) lines.push_back(line);
    return lines;
}

size_t HubServer::count_requests(const std::string& needle) const {
    size_t n = 0;
    for (const auto& l : requests()) n += l.find(needle) != std::string::npos;
    return n;
}

int HubServer::read_port() {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got.find('\n') == std::string::npos) {
        pollfd p{stdout_fd_, POLLIN, 0};
        if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 200) < 0)
            throw std::runtime_error("hub test server did not start: " + script().string());
        if (!(p.revents & (POLLIN | POLLHUP))) continue;
        char buf[64];
        const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
        if (n <= 0) throw std::runtime_error("hub test server exited: is python3 installed?");
        got.append(buf, static_cast<size_t>(n));
    }
    if (got.rfind("PORT ", 0) != 0) throw std::runtime_error("hub test server said: " + got);
    return std::stoi(got.substr(5));
}

}  // namespace syn::test
