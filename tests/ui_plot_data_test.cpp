// Smoothing and the per-pixel envelope against plain references.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "duration_text.h"
#include "plot_data.h"

using namespace itera::ui;

namespace {

// The definition, written out: s_i = Σ_j≤i w^(i-j) (1-w) y_j / (1 - w^(i+1)).
double reference_ema(const QVector<double>& y, int i, double w) {
    double sum = 0;
    for (int j = 0; j <= i; ++j) sum += std::pow(w, i - j) * (1 - w) * y[j];
    return sum / (1 - std::pow(w, i + 1));
}

QVector<double> noisy(int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0, 0.3);
    QVector<double> y;
    for (int i = 0; i < n; ++i) y << 5 * std::exp(-i / 300.0) + 2 + noise(rng);
    return y;
}

}  // namespace

TEST(PlotData, SmoothingMatchesTheDefinitionAndIsIncremental) {
    const auto y = noisy(400, 1);
    for (double w : {0.0, 0.3, 0.9, 0.99}) {
        const auto s = smoothed(y, w);
        ASSERT_EQ(s.size(), y.size());
        for (int i = 0; i < y.size(); i += 7)
            EXPECT_NEAR(s[i], reference_ema(y, i, w), 1e-9) << "w " << w << " i " << i;
        // Appending in pieces (as live points arrive) gives the same values.
        QVector<double> pieces;
        for (int n : {1, 2, 50, 51, 300, 400}) appendSmoothed(pieces, y.mid(0, n), w);
        ASSERT_EQ(pieces.size(), y.size());
        for (int i = 0; i < y.size(); ++i) EXPECT_NEAR(pieces[i], s[i], 1e-9) << i;
    }
    EXPECT_EQ(smoothed(y, 0.0), y);
    EXPECT_DOUBLE_EQ(smoothed({4.0}, 0.9)[0], 4.0);  // bias-corrected: no pull towards 0
}

TEST(PlotData, EnvelopeKeepsEveryColumnsExtremesInAtMostFourPointsPerPixel) {
    const int n = 100'000, pixels = 800;
    QVector<double> x(n);
    auto y = noisy(n, 2);
    for (int i = 0; i < n; ++i) x[i] = i + 1;
    y[31'337] = 40;  // one spike must survive
    const auto e = envelope(x, y, 1, n, pixels);
    EXPECT_LE(e.x.size(), 4 * pixels + 4);
    EXPECT_TRUE(std::is_sorted(e.x.begin(), e.x.end()));
    EXPECT_TRUE(std::find(e.y.begin(), e.y.end(), 40.0) != e.y.end());
    // Every column's min and max are drawn: reference by a plain scan per column.
    const double scale = pixels / double(n - 1);
    std::vector<double> lo(pixels + 1, INFINITY), hi(pixels + 1, -INFINITY);
    std::vector<double> drawn_lo = lo, drawn_hi = hi;
    for (int i = 0; i < n; ++i) {
        const auto c = static_cast<int>(std::floor((x[i] - 1) * scale));
        lo[c] = std::min(lo[c], y[i]);
        hi[c] = std::max(hi[c], y[i]);
    }
    for (int i = 0; i < e.x.size(); ++i) {
        const auto c = static_cast<int>(std::floor((e.x[i] - 1) * scale));
        drawn_lo[c] = std::min(drawn_lo[c], e.y[i]);
        drawn_hi[c] = std::max(drawn_hi[c], e.y[i]);
    }
    EXPECT_EQ(drawn_lo, lo);
    EXPECT_EQ(drawn_hi, hi);
}

TEST(PlotData, EnvelopeOfAZoomedRangeAndOfFewPoints) {
    QVector<double> x, y;
    for (int i = 0; i < 1000; ++i) x << i, y << i % 10;
    // Zoomed to [100, 200]: the points inside plus one neighbour each side.
    const auto e = envelope(x, y, 100, 200, 1000);
    ASSERT_FALSE(e.x.isEmpty());
    EXPECT_EQ(e.x.front(), 99);
    EXPECT_EQ(e.x.back(), 201);
    EXPECT_EQ(e.x.size(), 103);
    // Few points are returned unchanged.
    const auto f = envelope(x.mid(0, 10), y.mid(0, 10), 0, 9, 100);
    EXPECT_EQ(f.x, x.mid(0, 10));
    EXPECT_TRUE(envelope({}, {}, 0, 1, 10).x.isEmpty());
}

TEST(PlotData, NearestIndex) {
    const QVector<double> x = {1, 2, 4, 8};
    EXPECT_EQ(nearestIndex(x, -5), 0);
    EXPECT_EQ(nearestIndex(x, 2.9), 1);
    EXPECT_EQ(nearestIndex(x, 3.1), 2);
    EXPECT_EQ(nearestIndex(x, 100), 3);
    EXPECT_EQ(nearestIndex({}, 1), -1);
}

TEST(AxisLabels, CountsReadAsPeopleSayThem) {
    const auto c = QLocale::c();
    EXPECT_EQ(itera::ui::countText(0, c), QStringLiteral("0"));
    EXPECT_EQ(itera::ui::countText(500, c), QStringLiteral("500"));
    EXPECT_EQ(itera::ui::countText(2500, c), QStringLiteral("2.5k"));
    EXPECT_EQ(itera::ui::countText(500000, c), QStringLiteral("500k"));
    EXPECT_EQ(itera::ui::countText(1e6, c), QStringLiteral("1M"));
    EXPECT_EQ(itera::ui::countText(1.25e6, c), QStringLiteral("1.25M"));
    EXPECT_EQ(itera::ui::countText(3e9, c), QStringLiteral("3G"));
}
