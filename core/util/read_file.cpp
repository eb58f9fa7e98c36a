#include "util/read_file.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace itera {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(path.string() + ": read error");
    return ss.str();
}

}  // namespace itera
