#pragma once
// A small RGB raster with anti-aliased lines, discs and text: enough to draw
// the report's charts without Qt, so the headless CLI writes the same PNGs
// as the workbench. Coordinates are pixels, (0, 0) the top-left corner; a
// pixel's centre is at (x + 0.5, y + 0.5).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace itera {

/// 0xRRGGBB.
using Rgb = std::uint32_t;

class Raster {
public:
    Raster(int width, int height, Rgb background = 0xffffff);

    int width() const { return width_; }
    int height() const { return height_; }
    Rgb pixel(int x, int y) const;
    /// Rows top to bottom, three bytes (R, G, B) per pixel.
    const std::vector<std::uint8_t>& rgb() const { return rgb_; }

    void fill_rect(int x, int y, int w, int h, Rgb color);
    /// A line `width` pixels wide from (x0, y0) to (x1, y1), ends rounded.
    void line(double x0, double y0, double x1, double y1, Rgb color, double width = 1.0);
    void polyline(const std::vector<double>& xs, const std::vector<double>& ys, Rgb color,
                  double width = 1.0);
    void disc(double cx, double cy, double radius, Rgb color);

    /// Draws `text` with its baseline at `baseline`, starting at `x`; returns
    /// the pen position after it. Characters outside printable ASCII are drawn
    /// as '?' (one per UTF-8 sequence).
    int text(int x, int baseline, std::string_view text, Rgb color, bool bold = false);
    static int text_width(std::string_view text, bool bold = false);
    /// Pixels above and below the baseline that text may cover.
    static int text_ascent();
    static int text_descent();

private:
    void blend(int x, int y, Rgb color, double coverage);
    int width_, height_;
    std::vector<std::uint8_t> rgb_;
};

}  // namespace itera
