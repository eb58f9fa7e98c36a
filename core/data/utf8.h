#pragma once
// UTF-8 validation for corpus text: a corpus with a bad byte is either
// rejected with the byte offset, or repaired with U+FFFD on request.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace itera {

/// Offset of the first byte that does not start or continue a valid UTF-8
/// sequence (overlong forms, surrogates and values above U+10FFFF included),
/// or nullopt when `text` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

/// `text` with every invalid sequence replaced by U+FFFD.
std::string replace_invalid_utf8(std::string_view text);

/// True when `text` looks binary rather than text: a NUL byte, or more than
/// 10% control characters other than tab, newline and carriage return.
bool looks_binary(std::string_view text);

}  // namespace itera
