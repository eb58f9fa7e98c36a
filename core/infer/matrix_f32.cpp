// The FP32 matrix and its kernel. Decoding is bound by reading the weights,
// so they are laid out for one sequential stream: rows in blocks of four,
// each block stored as 16-column chunks of its four rows side by side
// ([r0 c0..15][r1 c0..15][r2 ..][r3 ..][r0 c16..31] ...), rows padded to 16
// floats, prefetched 4 KB ahead. A batch goes through a block two vectors at
// a time (each weight load feeds two FMAs); a lone vector uses the same sums
// in the same order, so a sequence's result never depends on its batch.
// Rows past the last full block are stored plainly after the blocks.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "infer/blocked_layout.h"
#include "infer/matrix.h"
#include "util/cpu_dispatch.h"
#include "util/error.h"

namespace itera {
namespace {

typedef float v8f __attribute__((vector_size(32)));

inline v8f load8(const float* p) {
    v8f v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline float sum8(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

constexpr std::int64_t kAhead = 1024;  // floats: prefetch 4 KB ahead of the weight stream  //
                                       // floats per padded row unit (64 bytes)

/// y rows [r0, r1) for `batch` vectors; x has `stride` floats per vector with
/// zeros past the real columns. r0 is a multiple of 4.
ITERA_KERNEL_CLONES
void f32_kernel(const float* w, std::int64_t stride, const float* x, std::int64_t batch, float* y,
                std::int64_t rows, std::int64_t r0, std::int64_t r1) {
    const std::int64_t full = rows / 4 * 4;  // rows in blocks
    std::int64_t r = r0;
    for (; r + 4 <= std::min(r1, full); r += 4) {
        const float* blk = w + r * stride;
        std::int64_t b = 0;
        for (; b + 2 <= batch; b += 2) {  // two vectors per pass: each weight load feeds two FMAs
            const float* xb = x + b * stride;
            const float* xc = xb + stride;
            const float* p = blk;
            v8f a0{}, a1{}, a2{}, a3{}, c0{}, c1{}, c2{}, c3{};
            for (std::int64_t c = 0; c < stride; c += 16, p += 64) {
                for (int half = 0; half < 16; half += 8) {
                    const v8f xl = load8(xb + c + half), xh = load8(xc + c + half);
                    const v8f w0 = load8(p + half), w1 = load8(p + 16 + half);
                    const v8f w2 = load8(p + 32 + half), w3 = load8(p + 48 + half);
                    a0 += w0 * xl;
                    c0 += w0 * xh;
                    a1 += w1 * xl;
                    c1 += w1 * xh;
                    a2 += w2 * xl;
                    c2 += w2 * xh;
                    a3 += w3 * xl;
                    c3 += w3 * xh;
                }
            }
            float* yb = y + b * rows + r;
            float* yc = yb + rows;
            yb[0] = sum8(a0);
            yb[1] = sum8(a1);
            yb[2] = sum8(a2);
            yb[3] = sum8(a3);
            yc[0] = sum8(c0);
            yc[1] = sum8(c1);
            yc[2] = sum8(c2);
            yc[3] = sum8(c3);
        }
        for (; b < batch; ++b) {  // the same sums in the same order as a pair's
            const float* xb = x + b * stride;
            const float* p = blk;
            v8f a0{}, a1{}, a2{}, a3{};
            for (std::int64_t c = 0; c < stride; c += 16, p += 64) {
                __builtin_prefetch(p + kAhead);
                __builtin_prefetch(p + kAhead + 16);
                __builtin_prefetch(p + kAhead + 32);
                __builtin_prefetch(p + kAhead + 48);
                for (int half = 0; half < 16; half += 8) {
                    const v8f xl = load8(xb + c + half);
                    a0 += load8(p + half) * xl;
                    a1 += load8(p + 16 + half) * xl;
                    a2 += load8(p + 32 + half) * xl;
                    a3 += load8(p + 48 + half) * xl;
                }
            }
            float* yb = y + b * rows + r;
            yb[0] = sum8(a0);
            yb[1] = sum8(a1);
            yb[2] = sum8(a2);
            yb[3] = sum8(a3);
        }
    }
    for (; r < r1; ++r) {  // the rows after the last block, stored plainly
        const float* w0 = w + r * stride;
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* xb = x + b * stride;
            v8f a0{}, c0{};
            for (std::int64_t c = 0; c < stride; c += 16) {
                a0 += load8(w0 + c) * load8(xb + c);
                c0 += load8(w0 + c + 8) * load8(xb + c + 8);
            }
            y[b * rows + r] = sum8(a0 + c0);
        }
    }
}

struct AlignedFree {
    void operator()(float* p) const { std::free(p); }
};

class F32Matrix final : public Matrix {
public:
    F32Matrix(const float* data, std::int64_t rows, std::int64_t cols)
        : Matrix(rows, cols), stride_(blocked::padded(cols)) {
        if (rows < 1 || cols < 1) throw Error("f32 matrix: empty shape");
        const auto n = static_cast<std::size_t>(rows * stride_);
        w_.reset(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))));
        if (!w_) throw Error("f32 matrix: out of memory");
        std::fill_n(w_.get(), n, 0.0f);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c)
                w_[static_cast<std::size_t>(blocked::index(r, c, rows, stride_))] =
                    data[r * cols + c];
    }

    void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                  std::int64_t row_end) const override {
        const std::int64_t c = cols();
        if (c == stride_) {
            f32_kernel(w_.get(), stride_, x, batch, y, rows(), row_begin, row_end);
            return;
        }
        thread_local std::vector<float> scratch;  // x re-laid out with zero padding
        scratch.assign(static_cast<std::size_t>(batch * stride_), 0.0f);
        for (std::int64_t b = 0; b < batch; ++b)
            std::memcpy(scratch.data() + b * stride_, x + b * c,
                        static_cast<std::size_t>(c) * sizeof(float));
        f32_kernel(w_.get(), stride_, scratch.data(), batch, y, rows(), row_begin, row_end);
    }

    void row(std::int64_t r, float* out) const override {
        for (std::int64_t c = 0; c < cols(); c += 16)
            std::memcpy(
                out + c, w_.get() + blocked::index(r, c, rows(), stride_),
                static_cast<std::size_t>(std::min<std::int64_t>(16, cols() - c)) * sizeof(float));
    }

    std::size_t bytes() const override {
        return static_cast<std::size_t>(rows() * cols()) * sizeof(float);
    }

    std::string format() const override { return "f32"; }

private:
    std::int64_t stride_;
    std::unique_ptr<float[], AlignedFree> w_;
};

}  // namespace

std::unique_ptr<Matrix> make_f32_matrix(const float* data, std::int64_t rows, std::int64_t cols) {
    return std::make_unique<F32Matrix>(data, rows, cols);
}

}  // namespace itera
