// The xz baseline is conditional on the training text: validation text that
// repeats training text costs almost nothing; fresh random text costs ~its entropy.

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "data/xz_baseline.h"
#include "temp_dir.h"

namespace itera {
namespace {

std::string random_words(std::uint32_t seed, int n) {
    std::mt19937 rng(seed);
    std::string s;
    for (int i = 0; i < n; ++i) {
        for (int c = 0, len = 3 + rng() % 6; c < len; ++c) s += static_cast<char>('a' + rng() % 26);
        s += i % 12 == 11 ? ".\n" : " ";
    }
    return s;
}

XzBaseline baseline_for(const std::string& train, const std::string& valid) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "wiki.train.raw") << " = Train = \n" << train;
    std::ofstream(dir.path() / "wiki.valid.raw") << " = Valid = \n" << valid;
    return xz_baseline(open_corpus(dir.path(), CorpusFormat::WikiText), {}, {});
}

TEST(XzBaseline, IsConditionalOnTheTrainingText) {
    const auto train = random_words(1, 4000);
    const auto seen = baseline_for(train, train.substr(0, 8000));
    const auto fresh = baseline_for(train, random_words(2, 1500));
    EXPECT_LT(seen.bits_per_byte, 0.2) << seen.bits_per_byte;
    // Letters uniform over 26 (4.7 bits) with spaces: well above 3 bits per byte.
    EXPECT_GT(fresh.bits_per_byte, 3.5) << fresh.bits_per_byte;
    EXPECT_LT(fresh.bits_per_byte, 5.5) << fresh.bits_per_byte;
    EXPECT_GT(fresh.train_compressed, 0u);
    EXPECT_EQ(fresh.both_compressed > fresh.train_compressed, true);
    EXPECT_FALSE(fresh.train_truncated);
}

TEST(XzBaseline, CutsALongTrainingTextToItsTail) {
    testing::TempDir dir;
    std::ofstream(dir.path() / "wiki.train.raw") << " = T = \n" << random_words(3, 20000);
    std::ofstream(dir.path() / "wiki.valid.raw") << " = V = \n" << random_words(4, 100);
    auto b = xz_baseline(open_corpus(dir.path(), CorpusFormat::WikiText), {}, {}, 50000);
    EXPECT_TRUE(b.train_truncated);
    EXPECT_EQ(b.train_bytes, 50000u);
}

}  // namespace
}  // namespace itera
