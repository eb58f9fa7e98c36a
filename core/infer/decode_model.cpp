#include "infer/decode_model.h"

#include <cmath>

namespace itera {

namespace {
/// (rows, cols) row-major → (cols, rows): the step vectorises over channels.
std::vector<float> transposed(const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
    std::vector<float> t(v.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            t[static_cast<std::size_t>(c * rows + r)] = v[static_cast<std::size_t>(r * cols + c)];
    return t;
}
}  // namespace

std::shared_ptr<const DecodeModel> build_decode_model(const ModelConfig& config_in,
                                                      const DecodeTensorSource& src) {
    const ModelConfig config = config_in.resolved();
    config.validate();
    const auto d = config.hidden_size, di = config.inner_size(), N = config.ssm_state_size;
    const auto K = config.ssm_conv_kernel, R = config.ssm_dt_rank, F = config.expert_size;
    auto m = std::make_shared<DecodeModel>();
    m->config = config;
    m->embed = src.matrix("embed.weight", config.vocab_size, d);
    for (std::int64_t i = 0; i < config.num_layers; ++i) {
        const std::string p = "layers." + std::to_string(i) + ".";
        DecodeLayer layer;
        if (config.is_transformer()) {
            auto& at = layer.attn;
            at.norm_w = src.vector(p + "attn.norm.weight", d);
            at.norm_b = src.vector(p + "attn.norm.bias", d);
            at.qkv_proj = src.matrix(p + "attn.qkv_proj.weight", 3 * d, d);
            at.out_proj = src.matrix(p + "attn.out_proj.weight", d, d);
            layer.ffn.norm_w = src.vector(p + "ffn.norm.weight", d);
            layer.ffn.norm_b = src.vector(p + "ffn.norm.bias", d);
            layer.ffn.experts.push_back(
                {src.matrix(p + "ffn.w1.weight", F, d), src.matrix(p + "ffn.w2.weight", d, F)});
            m->layers.push_back(std::move(layer));
            continue;
        }
        auto& mx = layer.mixer;
        mx.norm_w = src.vector(p + "mixer.norm.weight", d);
        mx.norm_b = src.vector(p + "mixer.norm.bias", d);
        mx.in_proj = src.matrix(p + "mixer.in_proj.weight", 2 * di, d);
        mx.conv_w = transposed(src.vector(p + "mixer.conv1d.weight", di * K), di, K);  // (K, di)
        mx.conv_b = src.vector(p + "mixer.conv1d.bias", di);
        mx.x_proj = src.matrix(p + "mixer.x_proj.weight", R + 2 * N, di);
        mx.dt_proj = src.matrix(p + "mixer.dt_proj.weight", di, R);
        mx.dt_bias = src.vector(p + "mixer.dt_proj.bias", di);
        mx.A = transposed(src.vector(p + "mixer.A_log", di * N), di, N);  // (N, di)
        for (auto& a : mx.A) a = -std::exp(a);
        mx.D = src.vector(p + "mixer.D", di);
        mx.out_proj = src.matrix(p + "mixer.out_proj.weight", d, di);
        auto& ffn = layer.ffn;
        ffn.norm_w = src.vector(p + "ffn.norm.weight", d);
        ffn.norm_b = src.vector(p + "ffn.norm.bias", d);
        if (config.is_moe_layer(i)) {
            ffn.router = src.matrix(p + "ffn.router.weight", config.num_experts, d);
            for (std::int64_t e = 0; e < config.num_experts; ++e) {
                const std::string q = p + "ffn.experts." + std::to_string(e) + ".";
                ffn.experts.push_back(
                    {src.matrix(q + "w1.weight", F, d), src.matrix(q + "w2.weight", d, F)});
            }
        } else {
            ffn.experts.push_back(
                {src.matrix(p + "ffn.w1.weight", F, d), src.matrix(p + "ffn.w2.weight", d, F)});
        }
        m->layers.push_back(std::move(layer));
    }
    m->norm_f_w = src.vector("norm_f.weight", d);
    m->norm_f_b = src.vector("norm_f.bias", d);
    if (config.is_transformer()) {
        const auto hd = config.head_size();
        for (std::int64_t j = 0; j < hd / 2; ++j)
            m->rope_inv_freq.push_back(std::pow(
                config.rope_theta, -2.0 * static_cast<double>(j) / static_cast<double>(hd)));
    }
    return m;
}

namespace {
std::size_t matrix_bytes(const std::unique_ptr<Matrix>& m) {
    return m ? m->bytes() : 0;
}
}  // namespace

std::size_t DecodeModel::active_weight_bytes() const {
    std::size_t n = matrix_bytes(embed);
    for (const auto& l : layers) {
        const auto& mx = l.mixer;
        n += matrix_bytes(mx.in_proj) + matrix_bytes(mx.x_proj) + matrix_bytes(mx.dt_proj) +
             matrix_bytes(mx.out_proj) + matrix_bytes(l.attn.qkv_proj) +
             matrix_bytes(l.attn.out_proj);
        const auto& f = l.ffn;
        n += matrix_bytes(f.router);
        const std::size_t used = f.router ? static_cast<std::size_t>(config.top_k_experts) : 1;
        if (!f.experts.empty())
            n += used * (matrix_bytes(f.experts[0].w1) + matrix_bytes(f.experts[0].w2));
    }
    return n;
}

std::size_t DecodeModel::weight_bytes() const {
    std::size_t n = matrix_bytes(embed);
    for (const auto& l : layers) {
        const auto& mx = l.mixer;
        n += matrix_bytes(mx.in_proj) + matrix_bytes(mx.x_proj) + matrix_bytes(mx.dt_proj) +
             matrix_bytes(mx.out_proj) + matrix_bytes(l.ffn.router) +
             matrix_bytes(l.attn.qkv_proj) + matrix_bytes(l.attn.out_proj);
        for (const auto& e : l.ffn.experts) n += matrix_bytes(e.w1) + matrix_bytes(e.w2);
    }
    return n;
}

}  // namespace itera
