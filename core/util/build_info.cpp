#include "util/build_info.h"

#include <sqlite3.h>
#include <torch/version.h>

#include "git_revision.h"  // generated at build time (cmake/git_revision.cmake)

namespace itera {

std::string library_versions() {
    return std::string("itera ") + ITERA_VERSION + "; libtorch " + TORCH_VERSION + "; sqlite " +
           sqlite3_libversion();
}

std::string git_revision() {
    return ITERA_GIT_REVISION;
}

}  // namespace itera
