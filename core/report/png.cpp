#include "report/png.h"

#include <zlib.h>

#include "util/error.h"

namespace itera {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void chunk(std::string& out, const char type[4], const std::string& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    const std::string body = std::string(type, 4) + data;
    out += body;
    put_u32(out, static_cast<std::uint32_t>(
                     crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

}  // namespace

std::string encode_png(const Raster& image) {
    const auto w = static_cast<std::size_t>(image.width());
    const auto h = static_cast<std::size_t>(image.height());
    // Each row: filter type 1 (Sub: each byte minus the one a pixel to its
    // left), which turns the charts' flat areas into runs of zeros.
    std::string raw;
    raw.reserve(h * (1 + 3 * w));
    const auto& px = image.rgb();
    for (std::size_t y = 0; y < h; ++y) {
        raw.push_back(1);
        const auto* row = &px[y * w * 3];
        for (std::size_t i = 0; i < 3 * w; ++i)
            raw.push_back(static_cast<char>(row[i] - (i >= 3 ? row[i - 3] : 0)));
    }
    uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(packed_size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  9) != Z_OK)
        throw Error("PNG encoding: zlib could not compress the image");
    packed.resize(packed_size);

    std::string ihdr;
    put_u32(ihdr, static_cast<std::uint32_t>(w));
    put_u32(ihdr, static_cast<std::uint32_t>(h));
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no interlace
    std::string out = "\x89PNG\r\n\x1a\n";
    chunk(out, "IHDR", ihdr);
    chunk(out, "IDAT", packed);
    chunk(out, "IEND", {});
    return out;
}

}  // namespace itera
