#include "infer/decoder.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "infer/decode_kernels.h"
#include "util/error.h"

namespace itera {

namespace {
std::size_t sz(std::int64_t n) {
    return static_cast<std::size_t>(n);
}
}  // namespace

Decoder::Decoder(std::shared_ptr<const DecodeModel> model, std::int64_t batch, int threads)
    : model_(std::move(model)), batch_(batch), threads_(std::max(1, threads)) {
    if (!model_) throw Error("decoder: no model");
    if (batch < 1) throw Error("decoder: batch must be at least 1, got " + std::to_string(batch));
    const auto& c = model_->config;
    const auto L = c.num_layers, d = c.hidden_size, di = c.inner_size(), N = c.ssm_state_size;
    const auto K = c.ssm_conv_kernel, R = c.ssm_dt_rank;
    positions_.assign(sz(batch), 0);
    conv_.assign(sz(L * batch * (K - 1) * di), 0.0f);
    h_.assign(sz(L * batch * di * N), 0.0f);
    x_.resize(sz(batch * d));
    u_.resize(sz(batch * d));
    xz_.resize(sz(batch * 2 * di));
    xs_.resize(sz(batch * di));
    dbc_.resize(sz(batch * (R + 2 * N)));
    dtl_.resize(sz(batch * R));
    dt_.resize(sz(batch * di));
    y_.resize(sz(batch * di));
    o_.resize(sz(batch * d));
    a_.resize(sz(batch * c.expert_size));
    g_.resize(sz(batch * c.num_experts));
    logits_.resize(sz(batch * c.vocab_size));
    ue_.resize(sz(batch * d));
    oe_.resize(sz(batch * d));
}

void Decoder::reset(std::int64_t b) {
    const auto& c = model_->config;
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        std::fill_n(conv_tail(l, b), (c.ssm_conv_kernel - 1) * c.inner_size(), 0.0f);
        std::fill_n(scan_state(l, b), c.inner_size() * c.ssm_state_size, 0.0f);
    }
    positions_[sz(b)] = 0;
}

float* Decoder::conv_tail(std::int64_t layer, std::int64_t b) {
    const auto& c = model_->config;
    const auto n = (c.ssm_conv_kernel - 1) * c.inner_size();
    return conv_.data() + (layer * batch_ + b) * n;
}

float* Decoder::scan_state(std::int64_t layer, std::int64_t b) {
    const auto& c = model_->config;
    const auto n = c.inner_size() * c.ssm_state_size;
    return h_.data() + (layer * batch_ + b) * n;
}

void Decoder::multiply(const Matrix& m, const float* x, std::int64_t batch, float* y) const {
    const std::int64_t rows = m.rows();
    // Splitting pays only when each thread gets a sizeable share of the weights.
    const std::int64_t work = rows * m.cols() * batch;
    if (threads_ == 1 || work < 32768 || rows < 8 * threads_) {
        m.multiply(x, batch, y, 0, rows);
        return;
    }
    const std::int64_t chunk = ((rows + threads_ - 1) / threads_ + 15) & ~std::int64_t{15};
#pragma omp parallel for num_threads(threads_) schedule(static, 1)
    for (int t = 0; t < threads_; ++t) {
        const std::int64_t r0 = std::min(rows, t * chunk), r1 = std::min(rows, r0 + chunk);
        if (r0 < r1) m.multiply(x, batch, y, r0, r1);
    }
}

const float* Decoder::step(const std::int32_t* tokens) {
    const auto& m = *model_;
    const auto& c = m.config;
    const auto B = batch_, V = c.vocab_size, d = c.hidden_size, di = c.inner_size();
    const auto N = c.ssm_state_size, K = c.ssm_conv_kernel, R = c.ssm_dt_rank;
    const auto eps = static_cast<float>(c.norm_eps);
    for (std::int64_t b = 0; b < B; ++b) {
        if (tokens[b] < 0 || tokens[b] >= V)
            throw Error("decoder: token id " + std::to_string(tokens[b]) + " is outside [0, " +
                        std::to_string(V) + ")");
        m.embed->row(tokens[b], x_.data() + b * d);
    }
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        const auto& mx = m.layers[sz(l)].mixer;
        for (std::int64_t b = 0; b < B; ++b)
            decode::layer_norm(x_.data() + b * d, d, mx.norm_w.data(), mx.norm_b.data(), eps,
                               u_.data() + b * d);
        multiply(*mx.in_proj, u_.data(), B, xz_.data());  // (B, 2·di)
        for (std::int64_t b = 0; b < B; ++b)
            decode::conv_silu_step(xz_.data() + b * 2 * di, conv_tail(l, b), mx.conv_w.data(),
                                   mx.conv_b.data(), di, K, xs_.data() + b * di);
        multiply(*mx.x_proj, xs_.data(), B, dbc_.data());  // (B, R + 2N)
        for (std::int64_t b = 0; b < B; ++b)
            std::copy_n(dbc_.data() + b * (R + 2 * N), R, dtl_.data() + b * R);
        multiply(*mx.dt_proj, dtl_.data(), B, dt_.data());  // (B, di)
        for (std::int64_t b = 0; b < B; ++b) {
            const float* dbc = dbc_.data() + b * (R + 2 * N);
            decode::scan_step(xs_.data() + b * di, dt_.data() + b * di, mx.dt_bias.data(),
                              mx.A.data(), dbc + R, dbc + R + N, mx.D.data(),
                              xz_.data() + b * 2 * di + di, scan_state(l, b), di, N,
                              y_.data() + b * di);
        }
        multiply(*mx.out_proj, y_.data(), B, o_.data());  // (B, d)
        decode::add_scaled(x_.data(), o_.data(), 1.0f, B * d);
        feed_forward(m.layers[sz(l)].ffn);
    }
    for (std::int64_t b = 0; b < B; ++b) {
        decode::layer_norm(x_.data() + b * d, d, m.norm_f_w.data(), m.norm_f_b.data(), eps,
                           u_.data() + b * d);
        ++positions_[sz(b)];
    }
    multiply(*m.embed, u_.data(), B, logits_.data());  // tied head, (B, V)
    return logits_.data();
}

void Decoder::feed_forward(const DecodeFfn& ffn) {
    const auto& c = model_->config;
    const auto B = batch_, d = c.hidden_size, F = c.expert_size, E = c.num_experts;
    const auto eps = static_cast<float>(c.norm_eps);
    for (std::int64_t b = 0; b < B; ++b)
        decode::layer_norm(x_.data() + b * d, d, ffn.norm_w.data(), ffn.norm_b.data(), eps,
                           u_.data() + b * d);
    if (!ffn.router) {
        const auto& e = ffn.experts[0];
        multiply(*e.w1, u_.data(), B, a_.data());  // (B, F)
        decode::gelu_inplace(a_.data(), B * F);
        multiply(*e.w2, a_.data(), B, o_.data());  // (B, d)
        decode::add_scaled(x_.data(), o_.data(), 1.0f, B * d);
        return;
    }
    multiply(*ffn.router, u_.data(), B, g_.data());  // (B, E)
    // Per sequence: the top-k logits (ties to the lower index), softmax over them.
    const auto k = c.top_k_experts;
    std::vector<std::int64_t> chosen(sz(B * k));
    std::vector<float> weight(sz(B * k));
    for (std::int64_t b = 0; b < B; ++b) {
        const float* g = g_.data() + b * E;
        std::vector<bool> taken(sz(E), false);
        for (std::int64_t j = 0; j < k; ++j) {
            std::int64_t best = -1;
            for (std::int64_t e = 0; e < E; ++e)
                if (!taken[sz(e)] && (best < 0 || g[e] > g[best])) best = e;
            taken[sz(best)] = true;
            chosen[sz(b * k + j)] = best;
        }
        const float top = g[chosen[sz(b * k)]];
        float total = 0;
        for (std::int64_t j = 0; j < k; ++j)
            total += weight[sz(b * k + j)] = std::exp(g[chosen[sz(b * k + j)]] - top);
        for (std::int64_t j = 0; j < k; ++j) weight[sz(b * k + j)] /= total;
    }
    // Per expert: gather the sequences routed to it, one batched product pair.
    std::vector<std::int64_t> rows;
    std::vector<float> w;
    for (std::int64_t e = 0; e < E; ++e) {
        rows.clear();
        w.clear();
        for (std::int64_t b = 0; b < B; ++b)
            for (std::int64_t j = 0; j < k; ++j)
                if (chosen[sz(b * k + j)] == e) {
                    rows.push_back(b);
                    w.push_back(weight[sz(b * k + j)]);
                }
        if (rows.empty()) continue;
        const auto n = static_cast<std::int64_t>(rows.size());
        for (std::int64_t i = 0; i < n; ++i)
            std::copy_n(u_.data() + rows[sz(i)] * d, d, ue_.data() + i * d);
        const auto& ex = ffn.experts[sz(e)];
        multiply(*ex.w1, ue_.data(), n, a_.data());
        decode::gelu_inplace(a_.data(), n * F);
        multiply(*ex.w2, a_.data(), n, oe_.data());
        for (std::int64_t i = 0; i < n; ++i)
            decode::add_scaled(x_.data() + rows[sz(i)] * d, oe_.data() + i * d, w[sz(i)], d);
    }
}

}  // namespace itera
