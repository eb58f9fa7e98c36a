#include "format/dtype.h"

#include <array>

namespace itera {
namespace {

constexpr std::array<DTypeTraits, 13> kTraits = {{
    {DType::Bool, "BOOL", 1},
    {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},
    {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
}};

}  // namespace

const DTypeTraits& dtype_traits(DType t) {
    return kTraits[static_cast<std::size_t>(t)];
}

std::optional<DType> dtype_from_name(std::string_view name) {
    for (const auto& t : kTraits)
        if (t.name == name) return t.dtype;
    return std::nullopt;
}

}  // namespace itera
