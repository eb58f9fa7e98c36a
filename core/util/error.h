#pragma once
// The one exception type `core` throws for bad input and failed operations.
// Boundaries (CLI, GUI workers, server) catch it and show `what()` as is, so
// every message names the file or field and what was expected.

#include <stdexcept>
#include <string>

namespace itera {

/// A user-facing failure: bad input, an unreadable file, an invalid setting.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace itera
