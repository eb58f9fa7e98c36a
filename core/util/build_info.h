#pragma once
// What built this binary: recorded with every run so results can be traced.

#include <string>

namespace itera {

/// e.g. "itera 0.1.0; libtorch 1.13.1; sqlite 3.40.1".
std::string library_versions();

/// Short git revision of the workbench source ("-dirty" when it had local
/// changes), or "unknown" when not built from a git checkout.
std::string git_revision();

}  // namespace itera
