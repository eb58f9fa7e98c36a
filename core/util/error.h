#pragma once
// The one exception type `core` throws for bad input and failed operations.
// Boundaries (CLI, GUI workers, server) catch it and show `what()` as is, so
// every message names the file or field and what was expected.

#include <cstdio>
#include <stdexcept>
#include <string>

namespace itera {

/// A user-facing failure: bad input, an unreadable file, an invalid setting.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A real number as a message shows it: "1e+09", "0.002", "inf" (printf %.6g),
/// never std::to_string's "1000000000.000000".
inline std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace itera
