#pragma once
// One exception type for every user-facing failure of the engine. The message always names the
// file (or key, or line) and the problem, so the CLI and the GUI can show it as is.
#include <stdexcept>
#include <string>

namespace syn {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// "path: message" — the one way to prefix a message with the file it is about.
inline Error file_error(const std::string& path, const std::string& message) {
    return Error(path + ": " + message);
}

}  // namespace syn
