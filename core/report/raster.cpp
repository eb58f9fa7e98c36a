#include "report/raster.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace itera {
namespace {

struct Glyph {
    int advance;
    const char* coverage;  ///< kGlyphHeight rows of kGlyphWidth hex digits
};

#include "report/glyphs.inc"

const Glyph& glyph(unsigned char c) {
    return kGlyphs[(c >= 32 && c < 127 ? c : '?') - 32];
}

/// Calls f(byte) for each character of `text`, a UTF-8 sequence counting as one '?'.
template <class F>
void for_each_char(std::string_view text, F f) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0xc0)
            while (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xc0) == 0x80)
                ++i;
        f(c < 0x80 ? c : '?');
    }
}

double distance_to_segment(double px, double py, double x0, double y0, double x1, double y1) {
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const double ex = x0 + t * dx - px, ey = y0 + t * dy - py;
    return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

Raster::Raster(int width, int height, Rgb background) : width_(width), height_(height) {
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is outside 1..16384 pixels");
    rgb_.resize(static_cast<std::size_t>(width) * height * 3);
    fill_rect(0, 0, width, height, background);
}

Rgb Raster::pixel(int x, int y) const {
    const auto* p = &rgb_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    return (Rgb(p[0]) << 16) | (Rgb(p[1]) << 8) | p[2];
}

void Raster::blend(int x, int y, Rgb color, double coverage) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_ || coverage <= 0) return;
    coverage = std::min(coverage, 1.0);
    auto* p = &rgb_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    for (int c = 0; c < 3; ++c) {
        const double src = (color >> (16 - 8 * c)) & 0xff;
        p[c] = static_cast<std::uint8_t>(std::lround(p[c] + (src - p[c]) * coverage));
    }
}

void Raster::fill_rect(int x, int y, int w, int h, Rgb color) {
    for (int yy = std::max(0, y); yy < std::min(height_, y + h); ++yy)
        for (int xx = std::max(0, x); xx < std::min(width_, x + w); ++xx) blend(xx, yy, color, 1);
}

void Raster::line(double x0, double y0, double x1, double y1, Rgb color, double width) {
    if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1))
        return;
    const double half = width / 2;
    const int xa = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
    const int xb = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
    const int ya = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
    const int yb = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
    for (int y = std::max(0, ya); y <= std::min(height_ - 1, yb); ++y)
        for (int x = std::max(0, xa); x <= std::min(width_ - 1, xb); ++x) {
            const double d = distance_to_segment(x + 0.5, y + 0.5, x0, y0, x1, y1);
            blend(x, y, color, std::clamp(half + 0.5 - d, 0.0, 1.0));
        }
}

void Raster::polyline(const std::vector<double>& xs, const std::vector<double>& ys, Rgb color,
                      double width) {
    for (std::size_t i = 1; i < std::min(xs.size(), ys.size()); ++i)
        line(xs[i - 1], ys[i - 1], xs[i], ys[i], color, width);
}

void Raster::disc(double cx, double cy, double radius, Rgb color) {
    if (!std::isfinite(cx) || !std::isfinite(cy)) return;
    for (int y = static_cast<int>(cy - radius - 1); y <= static_cast<int>(cy + radius + 1); ++y)
        for (int x = static_cast<int>(cx - radius - 1); x <= static_cast<int>(cx + radius + 1);
             ++x) {
            const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
            blend(x, y, color, std::clamp(radius + 0.5 - d, 0.0, 1.0));
        }
}

int Raster::text(int x, int baseline, std::string_view s, Rgb color, bool bold) {
    for_each_char(s, [&](unsigned char c) {
        const Glyph& g = glyph(c);
        const int left = x - kGlyphLeft, top = baseline - kGlyphBaseline;
        for (int pass = 0; pass < (bold ? 2 : 1); ++pass)
            for (int gy = 0; gy < kGlyphHeight; ++gy)
                for (int gx = 0; gx < kGlyphWidth; ++gx) {
                    const char h = g.coverage[gy * kGlyphWidth + gx];
                    const int v = h <= '9' ? h - '0' : h - 'a' + 10;
                    if (v) blend(left + gx + pass, top + gy, color, v / 15.0);
                }
        x += g.advance + (bold ? 1 : 0);
    });
    return x;
}

int Raster::text_width(std::string_view s, bool bold) {
    int w = 0;
    for_each_char(s, [&](unsigned char c) { w += glyph(c).advance + (bold ? 1 : 0); });
    return w;
}

int Raster::text_ascent() {
    return kGlyphBaseline - 3;
}
int Raster::text_descent() {
    return kGlyphHeight - kGlyphBaseline;
}

}  // namespace itera
