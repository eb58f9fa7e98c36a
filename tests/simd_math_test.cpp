// The vectorisable scalar math of the kernels against libm, including the
// values a diverging run produces (NaN must come out as NaN, never as UB).

#include <gtest/gtest.h>

#include <cmath>
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

TEST(SimdMath, ExpOfSpecialValues) {
    EXPECT_TRUE(std::isnan(simd::exp(std::numeric_limits<float>::quiet_NaN())));
    EXPECT_LT(simd::exp(-std::numeric_limits<float>::infinity()), 1e-37f);
    EXPECT_GT(simd::exp(std::numeric_limits<float>::infinity()), 1e38f);  // clamped, finite
    EXPECT_FLOAT_EQ(simd::exp(0.0f), 1.0f);
}

}  // namespace
}  // namespace itera
