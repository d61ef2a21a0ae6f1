#pragma once
// Where the tests find ../shared (reference fixtures, vocabularies, data). Nothing from there is
// copied into the repository: tests read it in place.
#include <string>

namespace syn::test {

// $SYNESTHESIA_SHARED, else ../shared beside the repository root.
std::string shared_dir();
// $SYNESTHESIA_FIXTURES, else <shared_dir>/fixtures.
std::string fixtures_dir();
// True when the folder exists; otherwise prints once, clearly, which variable to set.
bool shared_available();

}  // namespace syn::test

// Skips the current GoogleTest test, with a message that names the variable to set, when the
// shared folder is absent.
#define SYN_REQUIRE_SHARED()                                                                        \
    do {                                                                                            \
        if (!::syn::test::shared_available())                                                       \
            GTEST_SKIP() << "shared reference folder not found at '" << ::syn::test::shared_dir()   \
                         << "': set SYNESTHESIA_SHARED to the folder with fixtures/, vocab/, data/"; \
    } while (0)
