#include "util/palette.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace itera {

std::uint32_t run_colour(std::size_t i) {
    static constexpr std::uint32_t palette[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7,
                                                0xe69f00, 0x56b4e9, 0x333333, 0x8c564b};
    return palette[i % std::size(palette)];
}

std::uint32_t method_colour(std::string_view method) {
    static constexpr std::pair<std::string_view, std::uint32_t> known[] = {
        {"f32", 0x333333},     {"f16", 0x56b4e9},   {"bf16", 0x0072b2},
        {"int8", 0x009e73},    {"int4", 0xe69f00},  {"nf4", 0xd55e00},
        {"mixed", 0xcc79a7},   {"prune", 0x8c564b}, {"prune+finetune", 0x6a3d9a},
        {"distill", 0x999933},
    };
    for (const auto& [name, colour] : known)
        if (name == method) return colour;
    // Another name: FNV-1a of its bytes picks from the fallbacks, so its colour
    // does not depend on which other methods are shown.
    static constexpr std::uint32_t fallback[] = {0x882255, 0x44aa99, 0x117733,
                                                 0xaa4499, 0x332288, 0xddcc77};
    std::uint32_t h = 2166136261u;
    for (unsigned char c : method) h = (h ^ c) * 16777619u;
    return fallback[h % std::size(fallback)];
}

std::uint32_t expert_colour(std::size_t i, std::size_t n) {
    // Stops of viridis; linear interpolation between them.
    static constexpr std::uint32_t stops[] = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xb8de29};
    const double t = n > 1 ? static_cast<double>(std::min(i, n - 1)) / (n - 1) : 0.0;
    const double at = t * (std::size(stops) - 1);
    const auto k = std::min<std::size_t>(static_cast<std::size_t>(at), std::size(stops) - 2);
    const double f = at - k;
    std::uint32_t out = 0;
    for (int shift : {16, 8, 0}) {
        const double a = (stops[k] >> shift) & 0xff, b = (stops[k + 1] >> shift) & 0xff;
        out |= static_cast<std::uint32_t>(std::lround(a + (b - a) * f)) << shift;
    }
    return out;
}

}  // namespace itera
