#pragma once
// A small, strict command-line parser: `--name value` options and `--flag`
// switches. Unknown options and malformed values are errors naming the option.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace itera::cli {

/// A run ID as typed ("3"): a positive integer, or itera::Error naming the text.
std::int64_t parse_run_id(const std::string& text);

class Args {
public:
    /// `flags` are the switches that take no value; every other `--x` takes one.
    /// Options in `repeatable` may be given several times (read with `texts`).
    Args(std::vector<std::string> argv, std::set<std::string> flags,
         std::set<std::string> repeatable = {});

    bool flag(const std::string& name);
    std::optional<std::string> text(const std::string& name);
    std::string text_or(const std::string& name, const std::string& fallback);
    std::string required(const std::string& name);
    /// Every value of a repeatable option, in order.
    std::vector<std::string> texts(const std::string& name);
    std::int64_t integer_or(const std::string& name, std::int64_t fallback, std::int64_t min,
                            std::int64_t max);
    std::optional<std::int64_t> integer(const std::string& name, std::int64_t min,
                                        std::int64_t max);
    /// A finite number in [min, max], or nullopt when the option is absent.
    std::optional<double> real(const std::string& name, double min, double max);
    const std::vector<std::string>& positional() const { return positional_; }

    /// Throws if an option was given that no getter asked for (a typo).
    void finish() const;

private:
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> repeated_;
    std::set<std::string> seen_flags_;
    std::set<std::string> used_;
    std::vector<std::string> positional_;
};

}  // namespace itera::cli
