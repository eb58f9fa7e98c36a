#pragma once
// Markdown building blocks for the reports: escaping, tables, code blocks and
// the number formats every report uses (so one figure reads the same in all).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace itera::md {

/// Text safe inside a paragraph or a table cell: Markdown punctuation is
/// backslash-escaped, '|' too, and line breaks become spaces.
std::string escape(std::string_view text);

/// Inline code (`name`); backticks inside are replaced by apostrophes.
std::string code(std::string_view text);

/// A pipe table. `align` has one letter per column: 'l' or 'r'.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, std::string_view align);

/// A fenced code block holding `text` verbatim (the fence is longer than any
/// run of backticks inside it).
std::string code_block(std::string_view text);

/// `v` with `decimals` decimals; "–" when not finite.
std::string fixed(double v, int decimals);
/// 1624320 → "1,624,320".
std::string commas(long long n);
/// Bytes in MB (10^6) with two decimals, or KB below 1 MB.
std::string bytes(std::int64_t n);
/// "9 min 58 s", "1 h 02 min", "42.0 s".
std::string duration(double seconds);

/// The first `max_chars` characters of `text` (UTF-8 aware), "…" appended when cut.
std::string clip(std::string_view text, std::size_t max_chars);

}  // namespace itera::md
