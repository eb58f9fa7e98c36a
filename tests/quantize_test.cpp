// Quantization alone: the 16-bit conversions against the compiler's own
// _Float16, each scheme's error against what its step predicts, and each
// matrix kernel against the dequantized weights.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "compress/compress.h"
#include "format/half.h"
#include "infer/matrix.h"
#include "util/error.h"
#include "util/kernel_path.h"

namespace itera {
namespace {

TEST(Half, EveryHalfRoundTripsAndFloatsRoundLikeTheCompiler) {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const float f = half_to_float(static_cast<std::uint16_t>(h));
        _Float16 ref;
        const auto bits = static_cast<std::uint16_t>(h);
        std::memcpy(&ref, &bits, 2);
        if (std::isnan(f)) {
            ASSERT_TRUE(std::isnan(static_cast<float>(ref)));
            continue;
        }
        ASSERT_EQ(float_bits(f), float_bits(static_cast<float>(ref))) << h;
        ASSERT_EQ(float_to_half(f), bits) << h;
    }
    std::mt19937 gen(1);
    std::uniform_int_distribution<std::uint32_t> any;
    for (int i = 0; i < 200000; ++i) {  // random float bit patterns, every range
        const float f = bits_float(any(gen));
        if (std::isnan(f)) continue;
        const _Float16 ref = static_cast<_Float16>(f);
        std::uint16_t want;
        std::memcpy(&want, &ref, 2);
        ASSERT_EQ(float_to_half(f), want) << f;
    }
}

TEST(Half, Bf16RoundsToNearestEven) {
    EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(float_to_bf16(bits_float(0x3f808000u)), 0x3f80);  // tie → even
    EXPECT_EQ(float_to_bf16(bits_float(0x3f818000u)), 0x3f82);  // tie → even (up)
    EXPECT_EQ(float_to_bf16(bits_float(0x3f808001u)), 0x3f81);
    EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
    std::mt19937 gen(2);
    std::normal_distribution<float> normal;
    for (int i = 0; i < 10000; ++i) {
        const float f = normal(gen);
        EXPECT_LE(std::abs(bf16_to_float(float_to_bf16(f)) - f), std::abs(f) * 0x1p-8f);
    }
}

std::vector<float> random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> w(static_cast<std::size_t>(rows * cols));
    for (auto& v : w) v = normal(gen);
    return w;
}

TEST(Quantize, EachSchemesErrorIsWhatItsStepPredicts) {
    const auto w = random_matrix(64, 200, 3);
    struct Want {
        Scheme s;
        double max_rel_rms;
    };
    // f16: 11 significant bits; bf16: 8; int8: step amax/127 (amax ≈ 3.5σ here).
    for (auto [s, bound] :
         {Want{Scheme::F16, 3e-4}, Want{Scheme::BF16, 3e-3}, Want{Scheme::Int8, 1.2e-2}}) {
        auto q = quantize(w.data(), 64, 200, s);
        auto e = quant_error(w.data(), q);
        std::printf("%s: relative RMS error %.2e, SQNR %.1f dB\n",
                    std::string(scheme_traits(s).name).c_str(), e.rel_rms, e.sqnr_db);
        EXPECT_LT(e.rel_rms, bound);
        EXPECT_GT(e.rel_rms, 0);
    }
    // 4-bit, groups of 64: asymmetric int4 steps by range / 15, nf4 by its code book.
    for (auto [s, sym] :
         {std::pair{Scheme::Int4, false}, {Scheme::Int4, true}, {Scheme::Nf4, false}}) {
        auto q = quantize(w.data(), 64, 200, QuantSettings{s, 64, sym});
        auto e = quant_error(w.data(), q);
        std::printf("%s%s g64: relative RMS error %.3f, SQNR %.1f dB\n",
                    std::string(scheme_traits(s).name).c_str(), sym ? " (symmetric)" : "",
                    e.rel_rms, e.sqnr_db);
        EXPECT_LT(e.rel_rms, 0.15);
        EXPECT_EQ(q.groups(), 4);  // 200 columns: 3 full groups and one of 8
        EXPECT_EQ(q.packed.size(), 64u * 100u);
    }
    EXPECT_THROW(quantize(w.data(), 64, 200, QuantSettings{Scheme::Int4, 40, false}), Error);
    auto q = quantize(w.data(), 64, 200, Scheme::Int8);
    EXPECT_EQ(q.stored_bytes(), 64u * 200u + 64u * 4u);
    std::vector<float> bad = w;
    bad[5] = NAN;
    EXPECT_THROW(quantize(bad.data(), 64, 200, Scheme::Int8), Error);
    EXPECT_THROW(parse_scheme("int3"), Error);
}

/// How far a kernel may be from Σ_c w[r, c] · x[c] in double: float
/// rounding, plus for the integer kernels the input's 16-bit rounding
/// (|Δx_c| ≤ max|x| / 65534) and, for nf4, its code table in units of 1/8192
/// (|Δw| ≤ scale / 16384).
double allowed_error(const QuantizedMatrix& q, const std::vector<float>& d, const float* x,
                     std::int64_t r) {
    double wx = 0, w = 0, table = 0, top = 0;
    for (std::int64_t c = 0; c < q.cols; ++c) top = std::max(top, double(std::abs(x[c])));
    for (std::int64_t c = 0; c < q.cols; ++c) {
        const double dw = std::abs(d[r * q.cols + c]);
        wx += dw * std::abs(x[c]);
        w += dw;
        if (q.scheme == Scheme::Nf4)
            table += q.scales[r * q.groups() + c / q.group_size] / 16384.0 * std::abs(x[c]);
    }
    const bool integer_kernel = q.scheme != Scheme::F16 && q.scheme != Scheme::BF16;
    return 1e-6 * (1 + wx) + (integer_kernel ? w * top / 65534.0 + table : 0.0);
}

/// Runs `m` on three vectors and checks every output against the double
/// sum over the dequantized weights within allowed_error; a lone vector
/// must give the same bits as inside the batch.
void expect_kernel_matches(const Matrix& m, const QuantizedMatrix& q, const std::string& what) {
    const auto d = dequantize(q);
    const std::int64_t rows = q.rows, cols = q.cols, batch = 3;
    auto x = random_matrix(batch, cols, 5);
    for (std::int64_t c = 0; c < cols; c += 7) x[c] *= 10;  // a few large inputs in vector 0
    std::vector<float> y(static_cast<std::size_t>(batch * rows)),
        y1(static_cast<std::size_t>(rows));
    m.multiply(x.data(), batch, y.data(), 0, rows);
    double worst = 0, worst_allowed = 0;
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t r = 0; r < rows; ++r) {
            double want = 0;
            for (std::int64_t c = 0; c < cols; ++c)
                want += double(d[r * cols + c]) * x[b * cols + c];
            const double err = std::abs(want - y[b * rows + r]);
            const double allowed = allowed_error(q, d, x.data() + b * cols, r);
            if (err / allowed > worst / std::max(worst_allowed, 1e-30)) {
                worst = err;
                worst_allowed = allowed;
            }
            ASSERT_LE(err, allowed) << what << " row " << r << " vector " << b;
        }
    std::printf("%s: max error %.2e (allowed there %.2e)\n", what.c_str(), worst, worst_allowed);
    m.multiply(x.data() + 2 * cols, 1, y1.data(), 0, rows);  // a lone vector: the same bits
    EXPECT_EQ(std::memcmp(y1.data(), y.data() + 2 * rows, sizeof(float) * rows), 0) << what;
    // Rows split as threads split them (multiples of 16) give the same bits too.
    if (rows > 16) {
        std::vector<float> y2(static_cast<std::size_t>(batch * rows));
        m.multiply(x.data(), batch, y2.data(), 0, 16);
        m.multiply(x.data(), batch, y2.data(), 16, rows);
        EXPECT_EQ(std::memcmp(y2.data(), y.data(), sizeof(float) * y.size()), 0) << what;
    }
    std::vector<float> row(static_cast<std::size_t>(cols));
    m.row(rows - 1, row.data());
    for (std::int64_t c = 0; c < cols; ++c)
        ASSERT_NEAR(row[c], d[(rows - 1) * cols + c], 1e-7) << what;
    EXPECT_EQ(m.format(), scheme_traits(q.scheme).name);
}

/// Every kernel path this CPU can run (scalar, AVX2, AVX-512 VNNI), each
/// made the current one while `body(name)` runs.
template <class Body>
void for_each_kernel_path(Body body) {
    for (int p = 0; p <= static_cast<int>(cpu_kernel_path()); ++p) {
        limit_kernel_path(static_cast<KernelPath>(p));
        body(std::string(" [") + kernel_path_name(static_cast<KernelPath>(p)) + "]");
    }
    limit_kernel_path(KernelPath::Avx512Vnni);
}

TEST(QuantMatrix, KernelsMatchTheDequantizedWeights) {
    for (auto s : {Scheme::F16, Scheme::BF16, Scheme::Int8}) {
        for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{37, 72},
                                  {64, 128},
                                  {9, 8},
                                  {20, 2100},
                                  {33, 4500}}) {
            const auto w = random_matrix(rows, cols, 4);
            auto q = quantize(w.data(), rows, cols, s);
            std::unique_ptr<Matrix> m;
            if (s == Scheme::Int8)
                m = make_int8_matrix(q.q.data(), q.scales.data(), rows, cols);
            else if (s == Scheme::F16)
                m = make_f16_matrix(q.half.data(), rows, cols);
            else
                m = make_bf16_matrix(q.half.data(), rows, cols);
            for_each_kernel_path([&](const std::string& path) {
                expect_kernel_matches(*m, q,
                                      std::string(scheme_traits(s).name) + " " +
                                          std::to_string(rows) + "x" + std::to_string(cols) + path);
            });
        }
    }
}

TEST(QuantMatrix, FourBitKernelsMatchTheDequantizedWeights) {
    for (auto [s, sym] :
         {std::pair{Scheme::Int4, false}, {Scheme::Int4, true}, {Scheme::Nf4, false}})
        for (auto [rows, cols, group] :
             {std::tuple<std::int64_t, std::int64_t, std::int64_t>{37, 72, 64},
              {64, 128, 32},
              {37, 72, 32},
              {9, 8, 64},
              {16, 256, 128},
              {21, 200, 128},
              {20, 288, 96},
              {24, 100, 48},
              {8, 40, 16}}) {
            const auto w = random_matrix(rows, cols, 8);
            auto q = quantize(w.data(), rows, cols, QuantSettings{s, group, sym});
            auto m = make_four_bit_matrix(q);
            for_each_kernel_path([&](const std::string& path) {
                expect_kernel_matches(*m, q,
                                      std::string(scheme_traits(s).name) +
                                          (sym ? " symmetric " : " ") + std::to_string(rows) + "x" +
                                          std::to_string(cols) + " g" + std::to_string(group) +
                                          path);
            });
        }
}

TEST(QuantMatrix, ZeroAndNonFiniteInputs) {
    const auto w = random_matrix(8, 64, 3);
    for (auto s : {Scheme::Int8, Scheme::Int4, Scheme::Nf4}) {
        auto q = quantize(w.data(), 8, 64, QuantSettings{s, 64, false});
        auto m = s == Scheme::Int8 ? make_int8_matrix(q.q.data(), q.scales.data(), 8, 64)
                                   : make_four_bit_matrix(q);
        for_each_kernel_path([&](const std::string& path) {
            std::vector<float> x(64, 0.0f), y(8, 1.0f);
            m->multiply(x.data(), 1, y.data(), 0, 8);
            for (float v : y) EXPECT_EQ(v, 0.0f) << scheme_traits(s).name << path;
            for (float bad : {NAN, INFINITY}) {
                x[3] = bad;
                m->multiply(x.data(), 1, y.data(), 0, 8);
                for (float v : y) EXPECT_TRUE(std::isnan(v)) << scheme_traits(s).name << path;
            }
        });
    }
}

}  // namespace
}  // namespace itera
