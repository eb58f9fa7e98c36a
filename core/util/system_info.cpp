#include "util/system_info.h"

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "util/error.h"

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

std::uint64_t available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024;
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0
               ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size)
               : UINT64_MAX;
}

void require_memory(std::uint64_t bytes, const std::string& what) {
    const auto available = available_memory_bytes();
    if (bytes <= available) return;
    char text[200];
    std::snprintf(text, sizeof text,
                  "%s needs %.2f GB of memory; this machine has %.2f GB available", what.c_str(),
                  static_cast<double>(bytes) / 1e9, static_cast<double>(available) / 1e9);
    throw Error(text);
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
