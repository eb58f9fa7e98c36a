#include "infer/file_source.h"

#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "format/half.h"
#include "format/scheme.h"
#include "util/error.h"

namespace itera {

namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
}

// A float tensor (weights, scales, zeros) must hold finite values only.
void check_finite(const SafeTensor& t, const std::string& origin) {
    if (const auto bad = first_non_finite(t); bad >= 0)
        throw Error(origin + ": tensor \"" + t.name +
                    "\" holds a non-finite value (NaN or "
                    "infinity) at element " +
                    std::to_string(bad));
}

// quantization["tensors"][name][key] as a string / integer, naming the field when it is not one.
std::string entry_text(const nlohmann::json& entry, const char* key, const std::string& where) {
    if (!entry.is_object() || !entry.contains(key)) return {};
    if (!entry[key].is_string())
        throw Error(where + ": quantization entry's \"" + key + "\" is not a string");
    return entry[key].get<std::string>();
}

std::int64_t entry_int(const nlohmann::json& entry, const char* key, const std::string& where) {
    if (!entry.is_object() || !entry.contains(key)) return 0;
    if (!entry[key].is_number_integer())
        throw Error(where + ": quantization entry's \"" + key + "\" is not an integer");
    return entry[key].get<std::int64_t>();
}

template <class T>
std::vector<T> copy_of(const SafeTensor& t) {  // file bytes need not be aligned for T
    std::vector<T> v(t.nbytes / sizeof(T));
    std::memcpy(v.data(), t.data, t.nbytes);
    return v;
}

}  // namespace

std::shared_ptr<const DecodeModel> decode_model_from_file(const SafetensorsFile& file,
                                                          const ModelConfig& config) {
    const auto& origin = file.origin();
    std::set<std::string> used;
    auto get = [&](const std::string& name,
                   const std::vector<std::int64_t>& shape) -> const SafeTensor& {
        const auto* t = file.find(name);
        if (!t) throw Error(origin + ": missing tensor \"" + name + "\"");
        if (t->shape != shape)
            throw Error(origin + ": tensor \"" + name + "\" has shape " + shape_text(t->shape) +
                        ", the config needs " + shape_text(shape));
        check_finite(*t, origin);
        used.insert(name);
        return *t;
    };
    nlohmann::json quant = nlohmann::json::parse(file.meta("quantization"), nullptr, false);
    if (!quant.is_object() || !quant.contains("tensors") || !quant["tensors"].is_object())
        quant = nlohmann::json{{"tensors", nlohmann::json::object()}};
    DecodeTensorSource src;
    src.matrix = [&](const std::string& name, std::int64_t rows,
                     std::int64_t cols) -> std::unique_ptr<Matrix> {
        const auto& entry =
            quant["tensors"].contains(name) ? quant["tensors"][name] : nlohmann::json();
        const auto where = origin + ": \"" + name + "\"";
        const std::string scheme = entry_text(entry, "scheme", where);
        if (scheme == "int4" || scheme == "nf4") {
            QuantizedMatrix q;
            q.scheme = parse_scheme(scheme);
            q.rows = rows;
            q.cols = cols;
            q.group_size = entry_int(entry, "group_size", where);
            if (q.group_size < 16 || q.group_size % 16 || q.group_size > 4096)
                throw Error(where + " has group size " + std::to_string(q.group_size) +
                            ", expected a multiple of 16 up to 4096");
            const bool symmetric = entry.contains("symmetric") && entry["symmetric"].is_boolean() &&
                                   entry["symmetric"].get<bool>();
            q.symmetric = q.scheme == Scheme::Int4 && symmetric;
            const std::int64_t G = q.groups();
            const auto& qw = get(name + ".qweight", {rows, (cols + 1) / 2});
            const auto& sc = get(name + ".scales", {rows, G});
            if (qw.dtype != DType::U8 || sc.dtype != DType::F16)
                throw Error(origin + ": \"" + name +
                            "\" 4-bit parts must be U8 codes and F16 scales");
            q.packed = copy_of<std::uint8_t>(qw);
            for (auto h : copy_of<std::uint16_t>(sc)) q.scales.push_back(half_to_float(h));
            if (q.scheme == Scheme::Int4 && !q.symmetric) {
                const auto& z = get(name + ".zeros", {rows, G});
                if (z.dtype != DType::F16)
                    throw Error(origin + ": \"" + name + ".zeros\" must be F16");
                for (auto h : copy_of<std::uint16_t>(z)) q.zeros.push_back(half_to_float(h));
            }
            return make_four_bit_matrix(q);
        }
        if (file.find(name + ".qweight")) {
            const auto& q = get(name + ".qweight", {rows, cols});
            const auto& s = get(name + ".scales", {rows});
            if (q.dtype != DType::I8 || s.dtype != DType::F32)
                throw Error(origin + ": \"" + name + "\" int8 parts must be I8 and F32");
            auto qv = copy_of<std::int8_t>(q);
            auto sv = copy_of<float>(s);
            return make_int8_matrix(qv.data(), sv.data(), rows, cols);
        }
        const auto& t = get(name, {rows, cols});
        switch (t.dtype) {
            case DType::F32:
                return make_f32_matrix(copy_of<float>(t).data(), rows, cols);
            case DType::F16:
                return make_f16_matrix(copy_of<std::uint16_t>(t).data(), rows, cols);
            case DType::BF16:
                return make_bf16_matrix(copy_of<std::uint16_t>(t).data(), rows, cols);
            default:
                throw Error(origin + ": tensor \"" + name + "\" has dtype " +
                            std::string(dtype_name(t.dtype)) +
                            ", expected F32, F16, BF16 or int8 parts");
        }
    };
    src.vector = [&](const std::string& name, std::int64_t n) {
        const auto* t = file.find(name);
        if (!t) throw Error(origin + ": missing tensor \"" + name + "\"");
        if (t->numel() != n)
            throw Error(origin + ": tensor \"" + name + "\" has " + std::to_string(t->numel()) +
                        " values, the config needs " + std::to_string(n));
        check_finite(*t, origin);
        used.insert(name);
        std::vector<float> out(static_cast<std::size_t>(n));
        if (t->dtype == DType::F32) {
            std::memcpy(out.data(), t->data, t->nbytes);
        } else if (t->dtype == DType::F16 || t->dtype == DType::BF16) {
            auto bits = copy_of<std::uint16_t>(*t);
            for (std::size_t i = 0; i < out.size(); ++i)
                out[i] = t->dtype == DType::F16 ? half_to_float(bits[i]) : bf16_to_float(bits[i]);
        } else {
            throw Error(origin + ": tensor \"" + name + "\" has dtype " +
                        std::string(dtype_name(t->dtype)) + ", expected a float type");
        }
        return out;
    };
    auto model = build_decode_model(config, src);
    for (const auto& t : file.tensors())
        if (!used.count(t.name))
            throw Error(origin + ": unexpected tensor \"" + t.name +
                        "\" (not in the spec for this config)");
    return model;
}

}  // namespace itera
