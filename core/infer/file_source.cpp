#include "infer/file_source.h"

#include <cstring>
#include <set>

#include "compress/half.h"
#include "util/error.h"

namespace itera {

namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
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
        used.insert(name);
        return *t;
    };
    DecodeTensorSource src;
    src.matrix = [&](const std::string& name, std::int64_t rows,
                     std::int64_t cols) -> std::unique_ptr<Matrix> {
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
