#pragma once
// The local Hugging Face hub stand-in for download tests: tests/io/hub_test_server.py (Python 3
// standard library) as a child process on a free loopback port. It prints "PORT <n>", logs every
// request, and stops when its stdin closes (the destructor also sends SIGTERM and reaps it).
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace syn::test {

class HubServer {
public:
    // `config` describes the repos and files to serve (see hub_test_server.py); `dir` receives the
    // config and the request log.
    HubServer(const nlohmann::json& config, const std::filesystem::path& dir);
    ~HubServer();
    HubServer(const HubServer&) = delete;
    HubServer& operator=(const HubServer&) = delete;

    int port() const { return port_; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    // One line per request served so far.
    std::vector<std::string> requests() const;
    size_t count_requests(const std::string& needle) const;

    // $SYN_HUB_TEST_SERVER, else tests/io/hub_test_server.py in the source tree.
    static std::filesystem::path script();

private:
    int read_port();

    std::filesystem::path config_path_, log_path_;
    pid_t pid_ = -1;
    int stdin_fd_ = -1, stdout_fd_ = -1, port_ = 0;
};

}  // namespace syn::test
