#pragma once
// The current UTC time as text, one definition for the store, the log and reports.

#include <string>

namespace itera {

/// Now in UTC through strftime's `format` (default ISO 8601, "2026-11-27T03:30:16Z").
std::string utc_now(const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace itera
