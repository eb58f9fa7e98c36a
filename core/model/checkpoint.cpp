#include "model/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <set>

#include "format/safetensors.h"
#include "model/tensor_names.h"
#include "tokenizer/stored_tokenizer.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/system_info.h"

namespace itera {
namespace {

std::string shape_text(c10::IntArrayRef shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
}

torch::Tensor to_float_tensor(const SafeTensor& t, const std::string& origin) {
    torch::ScalarType type;
    switch (t.dtype) {
        case DType::F32:
            type = torch::kFloat;
            break;
        case DType::F16:
            type = torch::kHalf;
            break;
        case DType::BF16:
            type = torch::kBFloat16;
            break;
        default:
            throw Error(origin + ": tensor \"" + t.name + "\" has dtype " +
                        std::string(dtype_name(t.dtype)) +
                        ", expected F32, F16 or BF16 (quantized checkpoints need their scheme in "
                        "\"quantization\")");
    }
    auto out = torch::empty(t.shape, type);
    if (t.nbytes) std::memcpy(out.data_ptr(), t.data, t.nbytes);
    return out.to(torch::kFloat);
}

}  // namespace

std::string no_tokenizer_metadata(std::int64_t vocab_size) {
    return nlohmann::json{{"type", "none"}, {"vocab_size", vocab_size}}.dump();
}

void save_checkpoint(const IteraModel& model, const std::string& tokenizer,
                     const std::filesystem::path& path,
                     const std::map<std::string, std::string>& extra) {
    SafetensorsWriter w;
    for (const auto& [key, value] : extra) w.set_metadata(key, value);
    w.set_metadata("format", "itera-lite");
    w.set_metadata("format_version", "2");
    w.set_metadata("config", model->config().to_json());
    w.set_metadata("tokenizer", tokenizer);
    w.set_metadata("quantization", "none");
    for (const auto& [name, param] : model->spec_parameters()) {
        auto t = param.detach().to(torch::kFloat).contiguous();
        w.add(name, DType::F32, t.sizes().vec(), t.data_ptr(),
              static_cast<std::size_t>(t.nbytes()));
    }
    w.write(path);
}

LoadedCheckpoint load_checkpoint(const std::filesystem::path& path) {
    auto file = SafetensorsFile::read(path);
    const auto& origin = file.origin();
    if (file.meta("format") != "itera-lite")
        throw Error(origin + ": __metadata__ format is \"" + file.meta("format") +
                    "\", expected \"itera-lite\"");
    if (file.meta("format_version") != "2")
        throw Error(origin + ": format_version \"" + file.meta("format_version") +
                    "\" is not supported (this build reads version 2)");
    const auto& quant = file.meta("quantization");
    if (quant != "none")
        throw Error(origin + ": quantized checkpoint (" + quant.substr(0, 60) +
                    ") cannot be loaded as an FP32 model");
    ModelConfig config;
    try {
        config = ModelConfig::from_json(file.meta("config"));
    } catch (const Error& e) {
        throw Error(origin + ": " + e.what());
    }
    // Everything the header says is checked before the model is built: a
    // small file whose config claims a huge model is refused, not allocated.
    std::set<std::string> expected;
    const auto specs = spec_tensors(config);
    for (const auto& spec : specs) {
        expected.insert(spec.name);
        const auto& st = file.get(spec.name);
        if (st.shape != spec.shape)
            throw Error(origin + ": tensor \"" + spec.name + "\" has shape " +
                        shape_text(st.shape) + ", the config needs " + shape_text(spec.shape));
    }
    for (const auto& t : file.tensors())
        if (!expected.count(t.name))
            throw Error(origin + ": unexpected tensor \"" + t.name +
                        "\" (not in the spec for this config)");
    for (const auto& spec : specs)
        if (const auto bad = first_non_finite(file.get(spec.name)); bad >= 0)
            throw Error(origin + ": tensor \"" + spec.name +
                        "\" holds a non-finite value (NaN or "
                        "infinity) at element " +
                        std::to_string(bad) + "; a model with one cannot give meaningful outputs");
    require_memory(
        static_cast<std::uint64_t>(parameter_count(config)) * 4 * 2,
        origin + " (" + std::to_string(parameter_count(config)) + " parameters, read into FP32)");
    LoadedCheckpoint out;
    out.model = IteraModel(config);
    out.tokenizer = file.meta("tokenizer");
    out.metadata = file.metadata();
    torch::NoGradGuard no_grad;
    auto params = out.model->named_parameters(true);
    for (const auto& spec : specs)
        params[spec.name].copy_(to_float_tensor(file.get(spec.name), origin));
    return out;
}

std::shared_ptr<const Tokenizer> checkpoint_tokenizer(const LoadedCheckpoint& checkpoint,
                                                      const std::filesystem::path& path) {
    return stored_tokenizer(checkpoint.tokenizer, path);
}

}  // namespace itera
