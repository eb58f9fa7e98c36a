#include "transformer_reference.h"

#include <cmath>
#include <string>
#include <vector>

namespace itera::testing {
namespace {

using Vec = std::vector<double>;

Vec row(const torch::Tensor& t, std::int64_t r) {  // a row of a 2-D double tensor
    auto c = t[r].contiguous();
    return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

Vec layer_norm(const Vec& x, const torch::Tensor& w, const torch::Tensor& b, double eps) {
    double mean = 0, var = 0;
    for (double v : x) mean += v;
    mean /= static_cast<double>(x.size());
    for (double v : x) var += (v - mean) * (v - mean);
    var /= static_cast<double>(x.size());
    Vec out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        out[i] =
            (x[i] - mean) / std::sqrt(var + eps) * w[static_cast<std::int64_t>(i)].item<double>() +
            b[static_cast<std::int64_t>(i)].item<double>();
    return out;
}

Vec matvec(const torch::Tensor& W, const Vec& x) {  // W (rows, cols) · x
    auto Wc = W.contiguous();
    const auto rows = W.size(0), cols = W.size(1);
    const double* w = Wc.data_ptr<double>();
    Vec y(static_cast<std::size_t>(rows), 0.0);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) y[r] += w[r * cols + c] * x[c];
    return y;
}

double gelu(double x) {
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

}  // namespace

Vec reference_rotate(const Vec& x, std::int64_t p, double theta) {
    const auto hd = x.size(), half = hd / 2;
    Vec out(hd);
    for (std::size_t j = 0; j < half; ++j) {
        const double angle =
            static_cast<double>(p) * std::pow(theta, -2.0 * double(j) / double(hd));
        out[j] = x[j] * std::cos(angle) - x[j + half] * std::sin(angle);
        out[j + half] = x[j + half] * std::cos(angle) + x[j] * std::sin(angle);
    }
    return out;
}

torch::Tensor reference_transformer_logits(const ModelConfig& config, const ParamMap& p,
                                           const torch::Tensor& tokens) {
    const auto c = config.resolved();
    const auto B = tokens.size(0), T = tokens.size(1), d = c.hidden_size, V = c.vocab_size;
    const auto H = c.num_heads, hd = c.head_size(), W = c.context_length;
    auto logits = torch::zeros({B, T, V}, torch::kDouble);
    const auto& embed = p.at("embed.weight");
    for (std::int64_t b = 0; b < B; ++b) {
        std::vector<Vec> x;
        for (std::int64_t t = 0; t < T; ++t)
            x.push_back(row(embed, tokens[b][t].item<std::int64_t>()));
        for (std::int64_t l = 0; l < c.num_layers; ++l) {
            const std::string a = "layers." + std::to_string(l) + ".attn.";
            std::vector<Vec> q(T), k(T), v(T);
            for (std::int64_t t = 0; t < T; ++t) {
                auto u =
                    layer_norm(x[t], p.at(a + "norm.weight"), p.at(a + "norm.bias"), c.norm_eps);
                auto qkv = matvec(p.at(a + "qkv_proj.weight"), u);
                q[t].assign(qkv.begin(), qkv.begin() + d);
                k[t].assign(qkv.begin() + d, qkv.begin() + 2 * d);
                v[t].assign(qkv.begin() + 2 * d, qkv.end());
                for (std::int64_t h = 0; h < H; ++h) {  // rotate each head's slice
                    Vec qh(q[t].begin() + h * hd, q[t].begin() + (h + 1) * hd);
                    Vec kh(k[t].begin() + h * hd, k[t].begin() + (h + 1) * hd);
                    qh = reference_rotate(qh, t, c.rope_theta);
                    kh = reference_rotate(kh, t, c.rope_theta);
                    std::copy(qh.begin(), qh.end(), q[t].begin() + h * hd);
                    std::copy(kh.begin(), kh.end(), k[t].begin() + h * hd);
                }
            }
            for (std::int64_t t = 0; t < T; ++t) {
                Vec o(static_cast<std::size_t>(d), 0.0);
                const auto first = std::max<std::int64_t>(0, t - W + 1);
                for (std::int64_t h = 0; h < H; ++h) {
                    std::vector<double> s;
                    double top = -INFINITY;
                    for (std::int64_t j = first; j <= t; ++j) {
                        double dot = 0;
                        for (std::int64_t i = 0; i < hd; ++i)
                            dot += q[t][h * hd + i] * k[j][h * hd + i];
                        s.push_back(dot / std::sqrt(double(hd)));
                        top = std::max(top, s.back());
                    }
                    double total = 0;
                    for (double& e : s) total += e = std::exp(e - top);
                    for (std::int64_t j = first; j <= t; ++j)
                        for (std::int64_t i = 0; i < hd; ++i)
                            o[h * hd + i] += s[j - first] / total * v[j][h * hd + i];
                }
                auto out = matvec(p.at(a + "out_proj.weight"), o);
                for (std::int64_t i = 0; i < d; ++i) x[t][i] += out[i];
            }
            const std::string f = "layers." + std::to_string(l) + ".ffn.";
            for (std::int64_t t = 0; t < T; ++t) {
                auto u =
                    layer_norm(x[t], p.at(f + "norm.weight"), p.at(f + "norm.bias"), c.norm_eps);
                auto hidden = matvec(p.at(f + "w1.weight"), u);
                for (double& e : hidden) e = gelu(e);
                auto out = matvec(p.at(f + "w2.weight"), hidden);
                for (std::int64_t i = 0; i < d; ++i) x[t][i] += out[i];
            }
        }
        for (std::int64_t t = 0; t < T; ++t) {
            auto u = layer_norm(x[t], p.at("norm_f.weight"), p.at("norm_f.bias"), c.norm_eps);
            auto lg = matvec(embed, u);
            for (std::int64_t i = 0; i < V; ++i) logits[b][t][i] = lg[i];
        }
    }
    return logits;
}

}  // namespace itera::testing
