#pragma once
// Element types of the safetensors format: one traits row per type, so the
// name written in headers and the byte size never drift apart.

#include <cstddef>
#include <optional>
#include <string_view>

namespace itera {

enum class DType { Bool, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

struct DTypeTraits {
    DType dtype;
    std::string_view name;  ///< as written in a safetensors header
    std::size_t size;       ///< bytes per element
};

/// The traits row of `t`.
const DTypeTraits& dtype_traits(DType t);

inline std::string_view dtype_name(DType t) {
    return dtype_traits(t).name;
}
inline std::size_t dtype_size(DType t) {
    return dtype_traits(t).size;
}

/// Parses a header dtype name ("F32", "BF16", ...); nullopt if unknown.
std::optional<DType> dtype_from_name(std::string_view name);

}  // namespace itera
