// The report's drawing pieces: PNG round trips, tick choice and labels, and
// charts that put their series where the data says.

#include <gtest/gtest.h>

#include <cmath>

#include "png_decode.h"
#include "report/chart.h"
#include "report/png.h"
#include "report/raster.h"

namespace itera {
namespace {

bool has_color(const Raster& img, Rgb color) {
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            if (img.pixel(x, y) == color) return true;
    return false;
}

TEST(ReportPng, RoundTripsEveryPixel) {
    Raster img(37, 11, 0x102030);
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            if ((x * 7 + y * 3) % 5 == 0) img.fill_rect(x, y, 1, 1, Rgb(x * 6 + 1) << 16 | y * 20);
    img.line(0, 0, 36, 10, 0xff8800, 2.0);
    img.text(2, 9, "Loss 1.5", 0x000000);
    const auto decoded = testing::decode_png(encode_png(img));
    ASSERT_EQ(decoded.width, 37);
    ASSERT_EQ(decoded.height, 11);
    EXPECT_EQ(decoded.rgb, img.rgb());
}

TEST(ReportRaster, RejectsAbsurdSizes) {
    EXPECT_THROW(Raster(0, 10), std::exception);
    EXPECT_THROW(Raster(10, 100000), std::exception);
}

TEST(ReportRaster, TextCoversPixelsAndMeasuresItsWidth) {
    Raster img(80, 20);
    const int end = img.text(2, 14, "Wq7", 0x000000);
    EXPECT_EQ(end - 2, Raster::text_width("Wq7"));
    int dark = 0;
    for (int y = 0; y < 20; ++y)
        for (int x = 0; x < 80; ++x) dark += img.pixel(x, y) != 0xffffff;
    EXPECT_GT(dark, 20);
    // A UTF-8 sequence is one character wide (drawn as '?').
    EXPECT_EQ(Raster::text_width("é"), Raster::text_width("?"));
}

TEST(ReportChart, NiceTicksAreRoundAndCoverTheRange) {
    for (auto [lo, hi] : {std::pair{0.0, 1457.0}, {3.2, 8.4}, {-0.013, 2.9}, {1e-4, 2e-3}}) {
        const auto ticks = nice_ticks(lo, hi, 5);
        ASSERT_GE(ticks.size(), 2u) << lo << ".." << hi;
        EXPECT_LE(ticks.size(), 11u);
        const double step = ticks[1] - ticks[0];
        const double mantissa = step / std::pow(10, std::floor(std::log10(step)));
        EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
                    std::abs(mantissa - 5) < 1e-6)
            << "step " << step;
        EXPECT_GE(ticks.front(), lo - 1e-12);
        EXPECT_LE(ticks.back(), hi + 1e-12);
        EXPECT_LT(ticks.front() - lo, step + 1e-12);
    }
    EXPECT_EQ(nice_ticks(2, 2, 5), std::vector<double>{2});
}

TEST(ReportChart, TickLabelsUseTheStepsDecimalsAndSuffixes) {
    EXPECT_EQ(tick_label(1500, 500, 1500), "1500");
    EXPECT_EQ(tick_label(0.25, 0.05, 1), "0.25");
    EXPECT_EQ(tick_label(4.0, 0.5, 8), "4.0");
    EXPECT_EQ(tick_label(2000000, 500000, 3e6), "2.0M");
    EXPECT_EQ(tick_label(40000, 20000, 1e5), "40k");
}

TEST(ReportChart, DrawsTheSeriesWhereTheDataIs) {
    Chart chart;
    chart.title = "t";
    chart.width = 400;
    chart.height = 300;
    ChartSeries rising{"up", 0xd62728, {0, 1, 2, 3}, {0, 1, 2, 3}};
    rising.width = 3;
    chart.series = {rising};
    const auto img = render_chart(chart);
    // A rising line: its colour in the lower-left and upper-right of the plot,
    // not in the upper-left corner.
    auto count_in = [&](int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) n += img.pixel(x, y) == 0xd62728;
        return n;
    };
    EXPECT_GT(count_in(0, 150, 200, 300), 10);
    EXPECT_GT(count_in(200, 0, 400, 150), 10);
    EXPECT_EQ(count_in(0, 0, 150, 100), 0);
}

TEST(ReportChart, EmptyOrUnplottableDataSaysNoData) {
    Chart chart;
    chart.title = "empty";
    chart.log_y = true;
    chart.series = {ChartSeries{"bad", 0x00ff00, {0, 1, 2}, {-1, 0, std::nan("")}}};
    const auto img = render_chart(chart);
    EXPECT_FALSE(has_color(img, 0x00ff00));
    EXPECT_EQ(img.width(), 800);
}

}  // namespace
}  // namespace itera
