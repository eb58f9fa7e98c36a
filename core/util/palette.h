#pragma once
// The one palette of the workbench and its reports: a colour per run (by the
// order they are shown), a fixed colour per compression method (the same
// whatever else is plotted), and a sequential ramp for the experts of a layer
// (so experts never look like runs). Colours are 0xRRGGBB.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace itera {

/// The i-th run's colour: Okabe–Ito (distinguishable with common colour-vision
/// deficiencies), then darker fallbacks.
std::uint32_t run_colour(std::size_t i);

/// A compression method's colour: fixed for the known methods ("f16", "int8",
/// "mixed", "prune", ...), else one chosen by the name alone.
std::uint32_t method_colour(std::string_view method);

/// Expert i of n along a blue-to-green ramp (viridis-like), distinct from the run colours'
/// order.
std::uint32_t expert_colour(std::size_t i, std::size_t n);

}  // namespace itera
