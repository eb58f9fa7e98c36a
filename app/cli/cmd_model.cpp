// `itera model info|init`.

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "format/safetensors.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "model_args.h"
#include "util/error.h"
#include "util/read_file.h"

namespace itera::cli {
namespace {

const std::string kModelUsage = std::string(R"(usage:
  itera model info (--preset NAME --vocab-size V | --config FILE.json | --checkpoint FILE) [--json]
  itera model init (--preset NAME --vocab-size V | --config FILE.json) [--seed S] --out FILE.safetensors

With --preset:
)") + kModelVariantUsage + R"(
Presets: micro (d 64, L 3), mini (d 128, L 4; "quality" is its old name), small (d 256, L 6), medium (d 512, L 8).

Examples:
  itera model info --preset mini --vocab-size 4096
  itera model init --preset micro --vocab-size 512 --seed 1 --out micro.safetensors
  itera model info --preset mini --vocab-size 4096 --arch transformer
)";

ModelConfig config_from_args(Args& a) {
    auto preset = a.text("preset");
    auto config_path = a.text("config");
    auto vocab = a.integer("vocab-size", 1, 1 << 24);
    if (preset && config_path) throw Error("give either --preset or --config, not both");
    if (config_path) {
        if (vocab)
            throw Error("--vocab-size goes with --preset; a --config file sets vocab_size itself");
        const auto text = read_file(*config_path);  // its error names the file already
        try {
            return ModelConfig::from_json(text);
        } catch (const Error& e) {
            throw Error(*config_path + ": " + e.what());
        }
    }
    if (!preset) throw Error("--preset NAME (or --config FILE) is required");
    if (!vocab) throw Error("--vocab-size is required with --preset");
    return ModelConfig::preset(*preset, *vocab, model_variant(a));
}

std::string megabytes(double bytes) {
    std::ostringstream s;
    s.precision(bytes < 10e6 ? 2 : 1);
    s << std::fixed << bytes / 1e6 << " MB";
    return s.str();
}

int info(Args& a) {
    auto checkpoint = a.text("checkpoint");
    bool json_out = a.flag("json");
    ModelConfig config;
    if (checkpoint) {
        if (a.text("preset") || a.text("config") || a.text("vocab-size"))
            throw Error(
                "--checkpoint reads the config from the file; drop --preset/--config/--vocab-size");
        config = load_checkpoint(*checkpoint).model->config();
    } else {
        config = config_from_args(a);
    }
    a.finish();
    const auto params = parameter_count(config);
    const auto active = active_parameter_count(config);
    std::int64_t embed = 0, mixers = 0, attention = 0, ffn = 0, norms = 0;
    for (const auto& t : spec_tensors(config)) {
        if (t.name == "embed.weight")
            embed += t.numel();
        else if (t.name.find("norm") != std::string::npos)
            norms += t.numel();
        else if (t.name.find(".mixer.") != std::string::npos)
            mixers += t.numel();
        else if (t.name.find(".attn.") != std::string::npos)
            attention += t.numel();
        else
            ffn += t.numel();
    }
    const bool c_is_transformer = config.is_transformer();
    if (json_out) {
        nlohmann::json j = {
            {"config", nlohmann::json::parse(config.to_json())},
            {"params", params},
            {"active_params_per_token", active},
            {"fp32_bytes", params * 4},
            {"breakdown",
             {{"embedding", embed},
              {c_is_transformer ? "attention" : "mixers", c_is_transformer ? attention : mixers},
              {"ffn", ffn},
              {"norms", norms}}}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    auto c = config.resolved();
    std::cout << "architecture      " << c.arch << "\n"
              << "vocab_size        " << c.vocab_size << "\n";
    if (c.is_transformer()) {
        std::cout << "hidden_size       " << c.hidden_size << "\n"
                  << "num_layers        " << c.num_layers << "\n"
                  << "attention         " << c.num_heads << " heads of " << c.head_size()
                  << ", window " << c.context_length << " tokens, RoPE theta " << c.rope_theta
                  << "\n"
                  << "ffn_size          " << c.expert_size << "\n";
    } else {
        std::cout << "hidden_size       " << c.hidden_size << "   inner (di) " << c.inner_size()
                  << "\n"
                  << "num_layers        " << c.num_layers << "   moe_layers [";
        for (std::size_t i = 0; i < c.moe_layers.size(); ++i)
            std::cout << (i ? ", " : "") << c.moe_layers[i];
        std::cout << "]\n"
                  << "ssm               N " << c.ssm_state_size << ", K " << c.ssm_conv_kernel
                  << ", dt rank " << c.ssm_dt_rank << "\n"
                  << "experts           " << c.num_experts << " (top " << c.top_k_experts
                  << "), width " << c.expert_size << "\n";
    }
    std::cout << "parameters        " << with_commas(params) << "\n"
              << "  embedding/head  " << with_commas(embed) << " (tied)\n"
              << (c.is_transformer() ? "  attention       " : "  mixers          ")
              << with_commas(c.is_transformer() ? attention : mixers) << "\n"
              << "  feed-forward    " << with_commas(ffn) << "\n"
              << "  norms           " << with_commas(norms) << "\n"
              << "active per token  " << with_commas(active) << "\n"
              << "FP32 weights      " << megabytes(params * 4.0) << "\n"
              << "training state    " << megabytes(params * 16.0)
              << " (weights + grads + AdamW moments, before activations)\n";
    return 0;
}

int init(Args& a) {
    auto config = config_from_args(a);
    auto seed = a.integer_or("seed", 0, 0, INT64_MAX);
    auto out = a.required("out");
    a.finish();
    IteraModel model(config);
    model->initialize(static_cast<std::uint64_t>(seed));
    save_checkpoint(model, no_tokenizer_metadata(config.vocab_size), out,
                    {{"init_seed", std::to_string(seed)}});
    std::cout << "wrote " << out << " (" << with_commas(parameter_count(config))
              << " parameters, seed " << seed << ")\n";
    return 0;
}

}  // namespace

std::string with_commas(long long n) {
    auto s = std::to_string(n < 0 ? -n : n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return n < 0 ? "-" + s : s;
}

int model_command(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kModelUsage;
        return args.empty() ? 2 : 0;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Args a(rest, {"json", "help"});
    if (a.flag("help")) {
        std::cout << kModelUsage;
        return 0;
    }
    if (args[0] == "info") return info(a);
    if (args[0] == "init") return init(a);
    throw Error("unknown model subcommand \"" + args[0] + "\" (expected info or init)");
}

}  // namespace itera::cli
