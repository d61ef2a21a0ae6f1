#include "tests/support/shared_paths.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace syn::test {

std::string shared_dir() {
    if (const char* env = std::getenv("SYNESTHESIA_SHARED"); env && *env) return env;
    return SYN_DEFAULT_SHARED_DIR;
}

std::string fixtures_dir() {
    if (const char* env = std::getenv("SYNESTHESIA_FIXTURES"); env && *env) return env;
    return shared_dir() + "/fixtures";
}

bool shared_available() {
    static const bool available = [] {
        bool ok = std::filesystem::is_directory(shared_dir());
        if (!ok)
            std::fprintf(stderr,
                         "NOTE: shared reference folder '%s' is absent; tests that need it are skipped. "
                         "Set SYNESTHESIA_SHARED.\n",
                         shared_dir().c_str());
        return ok;
    }();
    return available;
}

}  // namespace syn::test
