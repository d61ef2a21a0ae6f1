#pragma once
// The message of the syn::Error that `f` throws, or "" when it throws none: for tests that check
// what a bad input is told.
#include <functional>
#include <string>

#include "core/io/errors.h"

namespace syn::test {

inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const syn::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace syn::test
