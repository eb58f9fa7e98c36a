#pragma once
// Base64 (RFC 4648, with padding) for embedding binary blobs — a SentencePiece
// model — in string-only places such as safetensors metadata.

#include <string>
#include <string_view>

namespace itera {

std::string base64_encode(std::string_view bytes);

/// Throws itera::Error on characters outside the alphabet or bad padding.
std::string base64_decode(std::string_view text);

}  // namespace itera
