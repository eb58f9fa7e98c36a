#include "args.h"

#include <cmath>

#include "util/error.h"

namespace itera::cli {

Args::Args(std::vector<std::string> argv, std::set<std::string> flags,
           std::set<std::string> repeatable) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const auto& a = argv[i];
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            positional_.push_back(a);
            continue;
        }
        auto name = a.substr(2);
        std::string value;
        auto eq = name.find('=');
        bool has_inline = eq != std::string::npos;
        if (has_inline) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (flags.count(name)) {
            if (has_inline) throw Error("--" + name + " takes no value");
            seen_flags_.insert(name);
            continue;
        }
        if (!has_inline) {
            if (i + 1 >= argv.size()) throw Error("--" + name + " needs a value");
            value = argv[++i];
        }
        if (repeatable.count(name)) {
            repeated_[name].push_back(value);
            continue;
        }
        if (values_.count(name)) throw Error("--" + name + " given twice");
        values_[name] = value;
    }
}

bool Args::flag(const std::string& name) {
    used_.insert(name);
    return seen_flags_.count(name) > 0;
}

std::optional<std::string> Args::text(const std::string& name) {
    used_.insert(name);
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> Args::texts(const std::string& name) {
    used_.insert(name);
    auto it = repeated_.find(name);
    return it == repeated_.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::text_or(const std::string& name, const std::string& fallback) {
    return text(name).value_or(fallback);
}

std::string Args::required(const std::string& name) {
    auto v = text(name);
    if (!v) throw Error("--" + name + " is required");
    return *v;
}

std::optional<std::int64_t> Args::integer(const std::string& name, std::int64_t min,
                                          std::int64_t max) {
    auto v = text(name);
    if (!v) return std::nullopt;
    std::size_t used = 0;
    std::int64_t n = 0;
    try {
        n = std::stoll(*v, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != v->size())
        throw Error("--" + name + " expects an integer, got \"" + *v + "\"");
    if (n < min || n > max)
        throw Error("--" + name + " must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + std::to_string(n));
    return n;
}

std::int64_t Args::integer_or(const std::string& name, std::int64_t fallback, std::int64_t min,
                              std::int64_t max) {
    return integer(name, min, max).value_or(fallback);
}

std::optional<double> Args::real(const std::string& name, double min, double max) {
    auto v = text(name);
    if (!v) return std::nullopt;
    std::size_t used = 0;
    double x = 0;
    try {
        x = std::stod(*v, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != v->size() || !std::isfinite(x))
        throw Error("--" + name + " expects a number, got \"" + *v + "\"");
    if (x < min || x > max)
        throw Error("--" + name + " must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + *v);
    return x;
}

void Args::finish() const {
    for (const auto& [name, value] : values_)
        if (!used_.count(name)) throw Error("unknown option --" + name + " (see --help)");
    for (const auto& name : seen_flags_)
        if (!used_.count(name)) throw Error("unknown option --" + name + " (see --help)");
    for (const auto& [name, values] : repeated_)
        if (!used_.count(name)) throw Error("unknown option --" + name + " (see --help)");
}

std::int64_t parse_run_id(const std::string& s) {
    std::size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (...) {
        used = 0;
    }
    if (used == 0 || used != s.size() || v < 1) throw Error("\"" + s + "\" is not a run ID");
    return v;
}

}  // namespace itera::cli
