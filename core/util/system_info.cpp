#include "util/system_info.h"

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace itera {

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos) break;
        auto name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        return name.empty() ? "unknown CPU" : name;
    }
    return "unknown CPU";
}

int logical_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string blas_library() {
    // Debian selects the BLAS with the alternatives system: libblas.so.3 is a
    // symlink chain ending at the implementation's file.
    for (const char* dir :
         {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"}) {
        std::error_code ec;
        const auto real =
            std::filesystem::canonical(std::filesystem::path(dir) / "libblas.so.3", ec);
        if (ec) continue;
        const auto s = real.string();
        if (s.find("openblas-openmp") != std::string::npos) return "OpenBLAS (openmp)";
        if (s.find("openblas-pthread") != std::string::npos) return "OpenBLAS (pthread)";
        if (s.find("openblas") != std::string::npos) return "OpenBLAS";
        if (s.find("blis") != std::string::npos) return "BLIS";
        if (s.find("atlas") != std::string::npos) return "ATLAS";
        if (s.find("mkl") != std::string::npos) return "Intel MKL";
        if (s.find("/blas/") != std::string::npos) return "reference BLAS";
        return real.filename().string();
    }
    return "unknown";
}

}  // namespace itera
