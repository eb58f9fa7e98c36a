#pragma once
// PNG encoding of a Raster (8-bit RGB, zlib-compressed), for the report charts.

#include <string>

#include "report/raster.h"

namespace itera {

/// The bytes of a PNG file holding `image`.
std::string encode_png(const Raster& image);

}  // namespace itera
