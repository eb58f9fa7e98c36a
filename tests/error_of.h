#pragma once
// The message of the itera::Error thrown by `f`, or "" when it throws none:
// tests check that errors name the field or file that is wrong.

#include <functional>
#include <string>

#include "util/error.h"

namespace itera::testing {

inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace itera::testing
