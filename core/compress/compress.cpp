#include "compress/compress.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "format/half.h"
#include "format/safetensors.h"
#include "model/config.h"
#include "model/tensor_names.h"
#include "util/error.h"

namespace itera {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

bool compressible(const std::string& name, const std::vector<std::int64_t>& shape) {
    return shape.size() == 2 && ends_with(name, ".weight");  // A_log is 2-D but not a Linear weight
}

CompressResult compress_checkpoint(const std::filesystem::path& source, const CompressOptions& o,
                                   const std::filesystem::path& out) {
    if (o.scheme == Scheme::F32 && !o.mixed())
        throw Error("compress: f32 is the source format; pick a scheme");
    auto file = SafetensorsFile::read(source);
    const auto& origin = file.origin();
    if (file.meta("format") != "itera-lite" || file.meta("format_version") != "2")
        throw Error(origin + ": not an itera-lite v2 checkpoint");
    if (file.meta("quantization") != "none")
        throw Error(origin + ": already compressed (" + file.meta("quantization").substr(0, 60) +
                    "); compress the FP32 checkpoint it came from");
    ModelConfig config;
    try {
        config = ModelConfig::from_json(file.meta("config"));
    } catch (const Error& e) {
        throw Error(origin + ": " + e.what());
    }
    for (const auto& [name, qs] : o.per_tensor) {
        bool known = false;
        for (const auto& spec : spec_tensors(config)) known = known || spec.name == name;
        if (!known)
            throw Error("compress: the plan names \"" + name + "\", not a tensor of the model");
    }
    SafetensorsWriter w;
    for (const auto& [key, value] : file.metadata())
        if (key != "quantization") w.set_metadata(key, value);

    CompressResult r;
    r.path = out;
    r.source_bytes = std::filesystem::file_size(source);
    nlohmann::json quant = nlohmann::json::object();
    std::int64_t compressible_weights = 0;  // every Linear weight, compressed or kept
    std::uint64_t compressible_bytes = 0;
    for (const auto& spec : spec_tensors(config)) {
        const auto& t = file.get(spec.name);
        if (t.dtype != DType::F32 || t.shape != spec.shape)
            throw Error(origin + ": tensor \"" + spec.name + "\" is not F32 of the spec's shape");
        CompressedTensor info;
        info.name = spec.name;
        info.shape = spec.shape;
        info.source_bytes = t.nbytes;
        std::vector<float> values(static_cast<std::size_t>(t.numel()));
        std::memcpy(values.data(), t.data, t.nbytes);
        QuantSettings qs{o.scheme, o.group_size, o.symmetric};
        if (auto it = o.per_tensor.find(spec.name); it != o.per_tensor.end()) qs = it->second;
        bool keep = !compressible(spec.name, spec.shape) || qs.scheme == Scheme::F32;
        for (const auto& pattern : o.keep_float)
            if (spec.name.find(pattern) != std::string::npos) keep = true;
        if (compressible(spec.name, spec.shape)) {  // counted the same way in every scheme
            compressible_weights += spec.shape[0] * spec.shape[1];
            compressible_bytes += keep ? t.nbytes : 0;
        }
        if (keep) {
            w.add(spec.name, DType::F32, spec.shape, values.data(), t.nbytes);
            info.scheme = "f32";
            info.bytes = t.nbytes;
            r.tensors.push_back(std::move(info));
            continue;
        }
        const auto rows = spec.shape[0], cols = spec.shape[1];
        const auto& traits = scheme_traits(qs.scheme);
        auto q = quantize(values.data(), rows, cols, qs);
        info.scheme = std::string(traits.name);
        info.error = quant_error(values.data(), q);
        info.bytes = q.stored_bytes();
        if (qs.scheme == Scheme::Int4 || qs.scheme == Scheme::Nf4) {
            const std::int64_t G = q.groups();
            auto halves = [](const std::vector<float>& v) {
                std::vector<std::uint16_t> h(v.size());
                for (std::size_t i = 0; i < v.size(); ++i) h[i] = float_to_half(v[i]);
                return h;
            };
            w.add(spec.name + ".qweight", DType::U8, {rows, (cols + 1) / 2}, q.packed.data(),
                  q.packed.size());
            const auto sh = halves(q.scales);
            w.add(spec.name + ".scales", DType::F16, {rows, G}, sh.data(), sh.size() * 2);
            if (!q.zeros.empty()) {
                const auto zh = halves(q.zeros);
                w.add(spec.name + ".zeros", DType::F16, {rows, G}, zh.data(), zh.size() * 2);
            }
            quant[spec.name] = {{"scheme", std::string(traits.name)},
                                {"group_size", q.group_size},
                                {"symmetric", q.scheme == Scheme::Nf4 || q.symmetric},
                                {"packing", "two codes per byte, even column in the low nibble"}};
        } else if (qs.scheme == Scheme::Int8) {
            w.add(spec.name + ".qweight", DType::I8, spec.shape, q.q.data(), q.q.size());
            w.add(spec.name + ".scales", DType::F32, {rows}, q.scales.data(),
                  q.scales.size() * sizeof(float));
            quant[spec.name] = {{"scheme", "int8"}, {"axis", "row"}, {"scales", "F32"}};
        } else {
            w.add(spec.name, qs.scheme == Scheme::F16 ? DType::F16 : DType::BF16, spec.shape,
                  q.half.data(), q.half.size() * sizeof(std::uint16_t));
            quant[spec.name] = {{"scheme", std::string(traits.name)}};
        }
        r.quantized_weights += rows * cols;
        compressible_bytes += info.bytes;
        r.tensors.push_back(std::move(info));
    }
    nlohmann::json summary{
        {"method", o.mixed() ? std::string("mixed") : std::string(scheme_traits(o.scheme).name)},
        {"tensors", quant}};
    if (!o.mixed() && (o.scheme == Scheme::Int4 || o.scheme == Scheme::Nf4)) {
        summary["group_size"] = o.group_size;
        if (o.scheme == Scheme::Int4) summary["symmetric"] = o.symmetric;
    }
    w.set_metadata("quantization", summary.dump());
    w.write(out);
    r.bytes = std::filesystem::file_size(out);
    r.bits_per_weight = compressible_weights ? 8.0 * static_cast<double>(compressible_bytes) /
                                                   static_cast<double>(compressible_weights)
                                             : 0.0;
    return r;
}

std::int64_t estimated_file_bytes(const ModelConfig& config, const QuantSettings& s) {
    std::int64_t total = 0;
    for (const auto& spec : spec_tensors(config)) {
        std::int64_t numel = 1;
        for (auto d : spec.shape) numel *= d;
        if (!compressible(spec.name, spec.shape) || s.scheme == Scheme::F32) {
            total += 4 * numel;
            continue;
        }
        const std::int64_t rows = spec.shape[0], cols = spec.shape[1];
        switch (s.scheme) {
            case Scheme::F16:
            case Scheme::BF16:
                total += 2 * numel;
                break;
            case Scheme::Int8:
                total += numel + 4 * rows;  // codes and an F32 scale per row
                break;
            default: {  // int4 / nf4: packed codes, F16 scales (and zeros) per group
                const std::int64_t groups = (cols + s.group_size - 1) / s.group_size;
                const bool zeros = s.scheme == Scheme::Int4 && !s.symmetric;
                total += rows * ((cols + 1) / 2) + rows * groups * 2 * (zeros ? 2 : 1);
            }
        }
    }
    return total;
}

}  // namespace itera
