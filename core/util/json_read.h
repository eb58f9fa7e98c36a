#pragma once
// Reading values out of parsed JSON that came from a file or a request:
// every wrong type, out-of-range number or missing key becomes an
// itera::Error naming the field, never a library exception or a conversion
// with undefined behaviour (a float too large for an integer).

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "util/error.h"

namespace itera {

/// `v` as an integer in [lo, hi]: a JSON integer, or a float with an
/// integral value (checked before it is converted).
inline std::int64_t json_int(const nlohmann::json& v, const std::string& what, std::int64_t lo,
                             std::int64_t hi) {
    bool ok = false;
    std::int64_t out = 0;
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        out = static_cast<std::int64_t>(u);
    } else if (v.is_number_integer()) {
        ok = true;
        out = v.get<std::int64_t>();
    } else if (v.is_number_float()) {
        const double d = v.get<double>();
        ok = std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18;
        if (ok) out = static_cast<std::int64_t>(d);
    }
    if (!ok) throw Error(what + " must be an integer");
    if (out < lo || out > hi)
        throw Error(what + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], got " + std::to_string(out));
    return out;
}

/// `v` as a finite number.
inline double json_number(const nlohmann::json& v, const std::string& what) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
        throw Error(what + " must be a finite number");
    return v.get<double>();
}

inline std::string json_string(const nlohmann::json& v, const std::string& what) {
    if (!v.is_string()) throw Error(what + " must be a string");
    return v.get<std::string>();
}

inline bool json_bool(const nlohmann::json& v, const std::string& what) {
    if (!v.is_boolean()) throw Error(what + " must be true or false");
    return v.get<bool>();
}

/// The member `key` of object `j`, or an error naming it when `j` is not an
/// object or has no such member.
inline const nlohmann::json& json_at(const nlohmann::json& j, const std::string& key,
                                     const std::string& where) {
    if (!j.is_object()) throw Error(where + " must be a JSON object");
    const auto it = j.find(key);
    if (it == j.end()) throw Error(where + ": \"" + key + "\" is missing");
    return *it;
}

}  // namespace itera
