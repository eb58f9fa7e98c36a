// The vectorisable scalar math of the kernels against libm, including the
// values a diverging run produces (NaN must come out as NaN, never as UB).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "model/simd_math.h"

namespace itera {
namespace {

TEST(SimdMath, ExpAndLogMatchLibmWithinTheirStatedError) {
    double worst_exp = 0, worst_log = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
        const double want = std::exp(static_cast<double>(x));
        worst_exp = std::max(worst_exp, std::abs(simd::exp(x) - want) / want);
    }
    for (float x = 1e-30f; x < 1e30f; x *= 1.37f) {
        const double want = std::log(static_cast<double>(x));
        const double err = std::abs(simd::log(x) - want) / std::max(1.0, std::abs(want));
        worst_log = std::max(worst_log, err);
    }
    EXPECT_LT(worst_exp, 2e-7);
    EXPECT_LT(worst_log, 3e-7);
}

TEST(SimdMath, ErfAndGeluMatchLibmWithinTheirStatedError) {
    double worst_erf = 0, worst_gelu = 0;
    for (float x = -9.0f; x <= 9.0f; x += 0.00731f) {
        const double xd = x;
        worst_erf = std::max(worst_erf, std::abs(simd::erf(x) - std::erf(xd)));
        const double gelu = 0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0)));
        worst_gelu =
            std::max(worst_gelu, std::abs(simd::gelu(x) - gelu) / std::max(1.0, std::abs(xd)));
    }
    std::printf("max |erf error| %.3g, max GELU error (relative beyond |x| = 1) %.3g\n", worst_erf,
                worst_gelu);
    EXPECT_LT(worst_erf, 1e-6);
    EXPECT_LT(worst_gelu, 1e-6);
    EXPECT_TRUE(std::isnan(simd::erf(std::numeric_limits<float>::quiet_NaN())));
}

TEST(SimdMath, ExpOfSpecialValues) {
    EXPECT_TRUE(std::isnan(simd::exp(std::numeric_limits<float>::quiet_NaN())));
    EXPECT_LT(simd::exp(-std::numeric_limits<float>::infinity()), 1e-37f);
    EXPECT_GT(simd::exp(std::numeric_limits<float>::infinity()), 1e38f);  // clamped, finite
    EXPECT_FLOAT_EQ(simd::exp(0.0f), 1.0f);
}

}  // namespace
}  // namespace itera
