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

std::string read_small_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error(path.string() + ": no such file");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path.string() + ": not a regular file");
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path.string() + ": cannot read its size: " + ec.message());
    if (size > max_bytes)
        throw Error(path.string() + ": " + std::to_string(size) + " bytes; at most " +
                    std::to_string(max_bytes) + " are read from such a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open");
    std::string out(static_cast<std::size_t>(size), '\0');
    in.read(out.data(), static_cast<std::streamsize>(size));
    if (in.bad()) throw Error(path.string() + ": read error");
    out.resize(static_cast<std::size_t>(in.gcount()));
    return out;
}

}  // namespace itera
