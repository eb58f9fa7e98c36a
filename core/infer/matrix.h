#pragma once
// Weight matrices as the decoder sees them. Decoding a token at d = 128 is a
// chain of small matrix-vector products whose cost is reading the weights, so
// each storage format (FP32 here; FP16, BF16, INT8, INT4 with compression) is
// one subclass with its own kernel, laid out for that kernel when loaded.
// Torch-free: the per-token path never dispatches a LibTorch op.

#include <cstdint>
#include <memory>
#include <string>

namespace itera {

class Matrix {
public:
    Matrix(std::int64_t rows, std::int64_t cols) : rows_(rows), cols_(cols) {}
    virtual ~Matrix() = default;
    Matrix(const Matrix&) = delete;
    Matrix& operator=(const Matrix&) = delete;

    std::int64_t rows() const { return rows_; }
    std::int64_t cols() const { return cols_; }

    /// y[b·rows + r] = Σ_c W[r, c] · x[b·cols + c] for every b < batch and
    /// r in [row_begin, row_end). Rows are independent, so callers split them
    /// across threads; the weights of a row block are read once per batch.
    /// row_begin must be a multiple of 16 (formats store rows in blocks).
    virtual void multiply(const float* x, std::int64_t batch, float* y, std::int64_t row_begin,
                          std::int64_t row_end) const = 0;

    /// Row r widened to FP32 (`cols` floats): the embedding lookup of the tied head.
    virtual void row(std::int64_t r, float* out) const = 0;

    /// Bytes of weight data this matrix holds (its share of the decode working set).
    virtual std::size_t bytes() const = 0;

    /// The storage format's name, e.g. "f32".
    virtual std::string format() const = 0;

private:
    std::int64_t rows_, cols_;
};

/// An FP32 matrix copied from row-major `data` (rows × cols), each row padded
/// to a multiple of 8 floats and 64-byte aligned.
std::unique_ptr<Matrix> make_f32_matrix(const float* data, std::int64_t rows, std::int64_t cols);

/// f16 / bf16 matrices from their 16-bit patterns (row-major), widened to
/// float inside the kernel.
std::unique_ptr<Matrix> make_f16_matrix(const std::uint16_t* bits, std::int64_t rows,
                                        std::int64_t cols);
std::unique_ptr<Matrix> make_bf16_matrix(const std::uint16_t* bits, std::int64_t rows,
                                         std::int64_t cols);

/// A symmetric int8 matrix: W[r, c] = q[r, c] · scales[r].
std::unique_ptr<Matrix> make_int8_matrix(const std::int8_t* q, const float* scales,
                                         std::int64_t rows, std::int64_t cols);

struct QuantizedMatrix;
/// An int4 or nf4 matrix (see format/scheme.h), re-packed for its kernel.
std::unique_ptr<Matrix> make_four_bit_matrix(const QuantizedMatrix& q);

}  // namespace itera
