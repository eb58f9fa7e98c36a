#pragma once
// A test-only PNG reader for the files encode_png writes (8-bit RGB, one
// IDAT, filters None or Sub): checks every chunk's CRC and inflates the data,
// so a test can compare the decoded pixels with the image that was encoded.

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace itera::testing {

struct DecodedPng {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;
};

inline std::uint32_t read_u32(const std::string& s, std::size_t at) {
    return (std::uint32_t(std::uint8_t(s[at])) << 24) |
           (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

inline DecodedPng decode_png(const std::string& png) {
    if (png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
        throw std::runtime_error("not a PNG signature");
    DecodedPng out;
    std::string idat;
    std::size_t at = 8;
    bool ended = false;
    while (at + 12 <= png.size()) {
        const std::uint32_t length = read_u32(png, at);
        const std::string type = png.substr(at + 4, 4);
        const std::string body = png.substr(at + 4, 4 + length);
        const auto crc = static_cast<std::uint32_t>(
            crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size()));
        if (crc != read_u32(png, at + 8 + length)) throw std::runtime_error("bad CRC in " + type);
        const std::string data = png.substr(at + 8, length);
        if (type == "IHDR") {
            out.width = static_cast<int>(read_u32(data, 0));
            out.height = static_cast<int>(read_u32(data, 4));
            if (data.substr(8, 5) != std::string("\x08\x02\x00\x00\x00", 5))
                throw std::runtime_error("not 8-bit RGB");
        } else if (type == "IDAT") {
            idat += data;
        } else if (type == "IEND") {
            ended = true;
        }
        at += 12 + length;
    }
    if (!ended || at != png.size()) throw std::runtime_error("missing IEND or trailing bytes");
    const std::size_t stride = 3 * static_cast<std::size_t>(out.width);
    std::vector<std::uint8_t> raw((stride + 1) * out.height);
    uLongf raw_size = raw.size();
    if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                   idat.size()) != Z_OK ||
        raw_size != raw.size())
        throw std::runtime_error("IDAT does not inflate to the image size");
    out.rgb.resize(stride * out.height);
    for (int y = 0; y < out.height; ++y) {
        const std::uint8_t filter = raw[y * (stride + 1)];
        const std::uint8_t* in = &raw[y * (stride + 1) + 1];
        std::uint8_t* row = &out.rgb[y * stride];
        for (std::size_t i = 0; i < stride; ++i) {
            if (filter == 0)
                row[i] = in[i];
            else if (filter == 1)
                row[i] = static_cast<std::uint8_t>(in[i] + (i >= 3 ? row[i - 3] : 0));
            else
                throw std::runtime_error("unexpected filter type");
        }
    }
    return out;
}

}  // namespace itera::testing
