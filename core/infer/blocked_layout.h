#pragma once
// The blocked layout of the FP32, 16-bit and int8 decode matrices: rows in
// blocks of four, each block stored as 16-column chunks of its four rows side
// by side ([r0 c0..15][r1 c0..15][r2 ..][r3 ..][r0 c16..31] ...), rows padded
// to 16 columns; the rows after the last full block are stored plainly after
// the blocks. A token's product then reads one sequential stream.

#include <cstdint>

namespace itera::blocked {

/// Columns per chunk and the row padding unit.
inline constexpr std::int64_t kLane = 16;

/// `cols` rounded up to whole chunks.
inline std::int64_t padded(std::int64_t cols) {
    return (cols + kLane - 1) / kLane * kLane;
}

/// Where element (r, c) lives in a matrix of `rows` rows of `stride` (padded) columns.
inline std::int64_t index(std::int64_t r, std::int64_t c, std::int64_t rows, std::int64_t stride) {
    if (r >= rows / 4 * 4) return r * stride + c;
    return (r / 4) * 4 * stride + (c / 16) * 64 + (r % 4) * 16 + c % 16;
}

}  // namespace itera::blocked
