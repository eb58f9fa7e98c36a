#include "report/markdown.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace itera::md {

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') {
            out += ' ';
            continue;
        }
        if (std::string_view("\\`*_[]<>|#~").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

std::string code(std::string_view text) {
    std::string out = "`";
    for (char c : text) out += c == '`' ? '\'' : c == '\n' ? ' ' : c;
    return out + "`";
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, std::string_view align) {
    auto line = [](const std::vector<std::string>& cells) {
        std::string s = "|";
        for (const auto& c : cells) s += " " + c + " |";
        return s + "\n";
    };
    std::string out = line(header) + "|";
    for (std::size_t i = 0; i < header.size(); ++i)
        out += i < align.size() && align[i] == 'r' ? " ---: |" : " --- |";
    out += "\n";
    for (const auto& r : rows) out += line(r);
    return out;
}

std::string code_block(std::string_view text) {
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    std::string out = fence + "text\n" + std::string(text);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out + fence + "\n";
}

std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) return "–";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string commas(long long n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

std::string bytes(std::int64_t n) {
    if (n < 1'000'000) return fixed(n / 1e3, 1) + " KB";
    return fixed(n / 1e6, 2) + " MB";
}

std::string duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "–";
    if (seconds < 60) return fixed(seconds, 1) + " s";
    const auto s = static_cast<long long>(std::llround(seconds));
    char buf[64];
    if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
    return buf;
}

std::string clip(std::string_view text, std::size_t max_chars) {
    std::size_t chars = 0, i = 0;
    for (; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) continue;
        if (chars == max_chars) return std::string(text.substr(0, i)) + "…";
        ++chars;
    }
    return std::string(text);
}

}  // namespace itera::md
