#pragma once
// `itera bench decode --contexts 128,512,2048`: decode speed and state memory
// by context length, two models timed interleaved (by default a preset's
// Itera-Lite and its matched Transformer, freshly initialised).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace itera::cli {

struct ContextBenchRequest {
    std::vector<std::string> checkpoints;  ///< none, or A (with `vs`)
    std::optional<std::string> vs, preset, db;
    std::optional<std::int64_t> vocab;
    std::vector<std::int64_t> contexts;
    std::int64_t tokens = 32;
    int pairs = 5;
    int threads = 1;
    bool json = false;
};

int decode_by_context(const ContextBenchRequest& request);

}  // namespace itera::cli
