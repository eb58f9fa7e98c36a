#include "infer/decoder.h"

#include <omp.h>

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

// With several threads a step runs inside one OpenMP parallel region: the
// matrix products and the scan are split across the team, the small per-token
// pieces run on thread 0, and barriers separate the phases. (A parallel
// region per product would cost a fork/join each, ~25 per token.) Outside a
// region these helpers degrade to the single-thread case.

bool first_thread() {
    return omp_get_thread_num() == 0;
}

void sync(){
#pragma omp barrier
}

/// This thread's share [begin, end) of n items in blocks of `align`.
std::pair<std::int64_t, std::int64_t> share(std::int64_t n, std::int64_t align) {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const std::int64_t chunk = ((n + nt - 1) / nt + align - 1) / align * align;
    const std::int64_t b = std::min(n, t * chunk);
    return {b, std::min(n, b + chunk)};
}

/// y = x · mᵀ for `rows` vectors, split across the team when the product is
/// large enough to pay for it; `after(y row range)` runs on the rows this
/// thread produced (e.g. the GELU). Ends with a barrier.
template <class After>
void product(const Matrix& m, const float* x, std::int64_t rows, float* y, After after) {
    const std::int64_t out = m.rows();
    const bool split = omp_get_num_threads() > 1 && out * m.cols() >= 16384 && out >= 32;
    if (split) {
        auto [r0, r1] = share(out, 16);
        if (r0 < r1) {
            m.multiply(x, rows, y, r0, r1);
            for (std::int64_t b = 0; b < rows; ++b) after(y + b * out + r0, r1 - r0);
        }
    } else if (first_thread()) {
        m.multiply(x, rows, y, 0, out);
        after(y, rows * out);
    }
    sync();
}

void product(const Matrix& m, const float* x, std::int64_t rows, float* y) {
    product(m, x, rows, y, [](float*, std::int64_t) {});
}

}  // namespace

Decoder::Decoder(std::shared_ptr<const DecodeModel> model, std::int64_t batch, int threads)
    : model_(std::move(model)), batch_(batch), threads_(std::max(1, threads)) {
    if (!model_) throw Error("decoder: no model");
    if (batch < 1) throw Error("decoder: batch must be at least 1, got " + std::to_string(batch));
    const auto& c = model_->config;
    const auto L = c.num_layers, di = c.inner_size(), N = c.ssm_state_size;
    const auto K = c.ssm_conv_kernel;
    positions_.assign(sz(batch), 0);
    all_.resize(sz(batch));
    if (c.is_transformer()) {
        keys_.resize(sz(L * batch));
        values_.resize(sz(L * batch));
        scores_.resize(sz(threads_ * c.context_length));
    } else {
        conv_.assign(sz(L * batch * (K - 1) * di), 0.0f);
        h_.assign(sz(L * batch * di * N), 0.0f);
    }
    reserve_rows(batch);
}

void Decoder::reserve_rows(std::int64_t rows) {
    if (rows <= capacity_) return;
    const auto& c = model_->config;
    const auto d = c.hidden_size, di = c.inner_size(), N = c.ssm_state_size;
    const auto R = c.ssm_dt_rank, k = c.top_k_experts;
    x_.resize(sz(rows * d));
    u_.resize(sz(rows * d));
    xz_.resize(sz(rows * 2 * di));
    xs_.resize(sz(rows * di));
    dbc_.resize(sz(rows * (R + 2 * N)));
    dtl_.resize(sz(rows * R));
    dt_.resize(sz(rows * di));
    y_.resize(sz(rows * di));
    o_.resize(sz(rows * d));
    a_.resize(sz(rows * k * c.expert_size));
    g_.resize(sz(rows * c.num_experts));
    logits_.resize(sz(rows * c.vocab_size));
    ue_.resize(sz(rows * k * d));
    oe_.resize(sz(rows * k * d));
    chosen_.resize(sz(rows * k));
    weight_.resize(sz(rows * k));
    if (c.is_transformer()) {
        qkv_.resize(sz(rows * 3 * d));
        att_.resize(sz(rows * d));
        cos_.resize(sz(rows * c.head_size() / 2));
        sin_.resize(sz(rows * c.head_size() / 2));
        row_key_.resize(sz(rows));
    }
    capacity_ = rows;
}

void Decoder::reset(std::int64_t b) {
    const auto& c = model_->config;
    positions_[sz(b)] = 0;
    if (c.is_transformer()) {
        for (std::int64_t l = 0; l < c.num_layers; ++l) {
            std::vector<float>().swap(keys(l, b));  // the memory goes back too
            std::vector<float>().swap(values(l, b));
        }
        return;
    }
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        std::fill_n(conv_tail(l, b), (c.ssm_conv_kernel - 1) * c.inner_size(), 0.0f);
        std::fill_n(scan_state(l, b), c.inner_size() * c.ssm_state_size, 0.0f);
    }
    positions_[sz(b)] = 0;
}

std::size_t Decoder::state_bytes(std::int64_t b) const {
    const auto& c = model_->config;
    if (!c.is_transformer())
        return sz(c.num_layers *
                  ((c.ssm_conv_kernel - 1) * c.inner_size() + c.inner_size() * c.ssm_state_size)) *
               sizeof(float);
    std::size_t n = 0;
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        n += keys_[sz(l * batch_ + b)].size() + values_[sz(l * batch_ + b)].size();
    return n * sizeof(float);
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

const float* Decoder::step(const std::int32_t* tokens) {
    for (std::int64_t b = 0; b < batch_; ++b) all_[sz(b)] = b;
    return step_sequences(all_.data(), tokens, batch_);
}

const float* Decoder::step_sequences(const std::int64_t* seqs, const std::int32_t* tokens,
                                     std::int64_t n) {
    if (n < 1 || n > batch_)
        throw Error("decoder: " + std::to_string(n) + " sequences in a batch of " +
                    std::to_string(batch_));
    for (std::int64_t i = 0; i < n; ++i) {
        if (seqs[i] < 0 || seqs[i] >= batch_)
            throw Error("decoder: no sequence " + std::to_string(seqs[i]));
        for (std::int64_t j = 0; j < i; ++j)
            if (seqs[j] == seqs[i])
                throw Error("decoder: sequence " + std::to_string(seqs[i]) + " given twice");
    }
    check_tokens(tokens, n);
    if (threads_ == 1) {
        run(seqs, tokens, n, 0);
    } else {
#pragma omp parallel num_threads(threads_)
        run(seqs, tokens, n, 0);
    }
    for (std::int64_t i = 0; i < n; ++i) ++positions_[sz(seqs[i])];
    return logits_.data();
}

void Decoder::check_tokens(const std::int32_t* tokens, std::int64_t n) const {
    const auto V = model_->config.vocab_size;
    for (std::int64_t i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= V)
            throw Error("decoder: token id " + std::to_string(tokens[i]) + " is outside [0, " +
                        std::to_string(V) + ")");
}

const float* Decoder::absorb(std::int64_t b, const std::int32_t* tokens, std::int64_t n,
                             const LogitsSink& each) {
    if (b < 0 || b >= batch_) throw Error("decoder: no sequence " + std::to_string(b));
    if (n < 1) throw Error("decoder: no tokens to absorb");
    check_tokens(tokens, n);
    const auto V = model_->config.vocab_size;
    reserve_rows(std::min(n, kAbsorbChunk));
    std::vector<std::int64_t> seqs(sz(std::min(n, kAbsorbChunk)), b);
    const float* last = nullptr;
    for (std::int64_t start = 0; start < n; start += kAbsorbChunk) {
        const std::int64_t rows = std::min(kAbsorbChunk, n - start);
        // The conv and scan step the rows in order: rows of one sequence
        // follow each other exactly as separate steps would.
        const std::int64_t head_from = each ? 0 : rows - 1;
        if (threads_ == 1) {
            run(seqs.data(), tokens + start, rows, head_from);
        } else {
#pragma omp parallel num_threads(threads_)
            run(seqs.data(), tokens + start, rows, head_from);
        }
        positions_[sz(b)] += rows;
        if (each) each(start, rows, logits_.data());
        last = logits_.data() + (rows - 1 - head_from) * V;
    }
    return last;
}

void Decoder::run(const std::int64_t* seqs, const std::int32_t* tokens, std::int64_t B,
                  std::int64_t head_from) {
    const auto& m = *model_;
    const auto& c = m.config;
    const auto d = c.hidden_size;
    const auto eps = static_cast<float>(c.norm_eps);
    if (first_thread()) {
        for (std::int64_t b = 0; b < B; ++b) m.embed->row(tokens[b], x_.data() + b * d);
        if (c.is_transformer()) rope_tables(seqs, B);
    }
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        if (c.is_transformer())
            attention_step(l, seqs, B);
        else
            mixer_step(l, seqs, B);
        feed_forward(m.layers[sz(l)].ffn, B);
    }
    if (first_thread())
        for (std::int64_t b = 0; b < B; ++b)
            decode::layer_norm(x_.data() + b * d, d, m.norm_f_w.data(), m.norm_f_b.data(), eps,
                               u_.data() + b * d);
    sync();
    product(*m.embed, u_.data() + head_from * d, B - head_from, logits_.data());  // tied head
}

void Decoder::mixer_step(std::int64_t l, const std::int64_t* seqs, std::int64_t B) {
    const auto& c = model_->config;
    const auto d = c.hidden_size, di = c.inner_size();
    const auto N = c.ssm_state_size, K = c.ssm_conv_kernel, R = c.ssm_dt_rank;
    const auto eps = static_cast<float>(c.norm_eps);
    const auto& mx = model_->layers[sz(l)].mixer;
    if (first_thread())
        for (std::int64_t b = 0; b < B; ++b)
            decode::layer_norm(x_.data() + b * d, d, mx.norm_w.data(), mx.norm_b.data(), eps,
                               u_.data() + b * d);
    sync();
    product(*mx.in_proj, u_.data(), B, xz_.data());  // (B, 2·di)
    if (first_thread()) {                            // conv, then the small projections to dt, B, C
        for (std::int64_t b = 0; b < B; ++b)
            decode::conv_silu_step(xz_.data() + b * 2 * di, conv_tail(l, seqs[b]), mx.conv_w.data(),
                                   mx.conv_b.data(), di, K, xs_.data() + b * di);
        mx.x_proj->multiply(xs_.data(), B, dbc_.data(), 0, R + 2 * N);  // (B, R + 2N)
        for (std::int64_t b = 0; b < B; ++b)
            std::copy_n(dbc_.data() + b * (R + 2 * N), R, dtl_.data() + b * R);
        mx.dt_proj->multiply(dtl_.data(), B, dt_.data(), 0, di);  // (B, di)
    }
    sync();
    auto [c0, c1] = share(di, 16);  // the scan, split over channels
    for (std::int64_t b = 0; c0 < c1 && b < B; ++b) {
        const float* dbc = dbc_.data() + b * (R + 2 * N);
        decode::scan_step(xs_.data() + b * di + c0, dt_.data() + b * di + c0,
                          mx.dt_bias.data() + c0, mx.A.data() + c0, dbc + R, dbc + R + N,
                          mx.D.data() + c0, xz_.data() + b * 2 * di + di + c0,
                          scan_state(l, seqs[b]) + c0, c1 - c0, N, di, y_.data() + b * di + c0);
    }
    sync();
    product(*mx.out_proj, y_.data(), B, o_.data());  // (B, d)
    if (first_thread()) decode::add_scaled(x_.data(), o_.data(), 1.0f, B * d);
}

void Decoder::rope_tables(const std::int64_t* seqs, std::int64_t B) {
    const auto& inv_freq = model_->rope_inv_freq;
    const auto half = static_cast<std::int64_t>(inv_freq.size());
    for (std::int64_t b = 0; b < B; ++b) {
        // Rows of one sequence (absorb) follow each other: each is one position on.
        std::int64_t pos = positions_[sz(seqs[b])];
        for (std::int64_t e = 0; e < b; ++e) pos += seqs[e] == seqs[b];
        for (std::int64_t j = 0; j < half; ++j) {
            const double angle = static_cast<double>(pos) * inv_freq[sz(j)];
            cos_[sz(b * half + j)] = static_cast<float>(std::cos(angle));
            sin_[sz(b * half + j)] = static_cast<float>(std::sin(angle));
        }
    }
}

void Decoder::attention_step(std::int64_t l, const std::int64_t* seqs, std::int64_t B) {
    const auto& c = model_->config;
    const auto d = c.hidden_size, H = c.num_heads, hd = c.head_size(), W = c.context_length;
    const auto half = hd / 2;
    const auto eps = static_cast<float>(c.norm_eps);
    const auto& at = model_->layers[sz(l)].attn;
    // A sequence's cache is trimmed to the last W-1 positions once it holds this many
    // (amortised O(1) per token); absorbing a chunk may add kAbsorbChunk more.
    const auto trim_at = W - 1 + std::max<std::int64_t>(W, kAbsorbChunk);
    if (first_thread())
        for (std::int64_t b = 0; b < B; ++b)
            decode::layer_norm(x_.data() + b * d, d, at.norm_w.data(), at.norm_b.data(), eps,
                               u_.data() + b * d);
    sync();
    product(*at.qkv_proj, u_.data(), B, qkv_.data());  // (B, 3d)
    if (first_thread()) {
        // Rotate each row's query and key, then append its key and value to its
        // sequence's cache, in row order (an absorbed chunk's rows see each other).
        for (std::int64_t b = 0; b < B; ++b) {
            float* q = qkv_.data() + b * 3 * d;
            for (std::int64_t h = 0; h < H; ++h) {
                decode::rotate_pairs(q + h * hd, cos_.data() + b * half, sin_.data() + b * half,
                                     half);
                decode::rotate_pairs(q + d + h * hd, cos_.data() + b * half, sin_.data() + b * half,
                                     half);
            }
            auto& K = keys(l, seqs[b]);
            auto& V = values(l, seqs[b]);
            bool first_row = true;
            for (std::int64_t e = 0; e < b; ++e) first_row = first_row && seqs[e] != seqs[b];
            auto rows = static_cast<std::int64_t>(V.size()) / d;
            auto cap = static_cast<std::int64_t>(K.size()) / d;
            if (first_row && rows >= trim_at) {  // keep the last W-1
                const auto drop = rows - (W - 1);
                V.erase(V.begin(), V.begin() + static_cast<std::ptrdiff_t>(drop * d));
                for (std::int64_t r = 0; r < d; ++r)  // each of K's d rows of cap positions
                    std::copy(K.begin() + r * cap + drop, K.begin() + r * cap + rows,
                              K.begin() + r * cap);
                rows -= drop;
            }
            if (rows == cap) {  // grow, keeping the transposed layout: d rows of the new cap
                const auto grown =
                    std::min(std::max<std::int64_t>(64, 2 * cap), trim_at + kAbsorbChunk);
                std::vector<float> wider(static_cast<std::size_t>(d * grown));
                for (std::int64_t r = 0; r < d; ++r)
                    std::copy_n(K.begin() + r * cap, rows, wider.begin() + r * grown);
                K.swap(wider);
                cap = grown;
            }
            for (std::int64_t r = 0; r < d; ++r)
                K[static_cast<std::size_t>(r * cap + rows)] = q[d + r];
            V.insert(V.end(), q + 2 * d, q + 3 * d);
            row_key_[sz(b)] = rows;
        }
    }
    sync();
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    float* scores = scores_.data() + omp_get_thread_num() * W;
    auto [p0, p1] = share(B * H, 1);  // (row, head) pairs, split over the team
    for (std::int64_t p = p0; p < p1; ++p) {
        const auto b = p / H, h = p % H;
        const auto& K = keys_[sz(l * batch_ + seqs[b])];
        const auto& V = values_[sz(l * batch_ + seqs[b])];
        const auto own = row_key_[sz(b)], lo = std::max<std::int64_t>(0, own - W + 1);
        const auto cap = static_cast<std::int64_t>(K.size()) / d;
        decode::attend(qkv_.data() + b * 3 * d + h * hd, K.data() + h * hd * cap + lo, cap,
                       V.data() + lo * d + h * hd, d, own - lo + 1, hd, scale, scores,
                       att_.data() + b * d + h * hd);
    }
    sync();
    product(*at.out_proj, att_.data(), B, o_.data());  // (B, d)
    if (first_thread()) decode::add_scaled(x_.data(), o_.data(), 1.0f, B * d);
}

void Decoder::feed_forward(const DecodeFfn& ffn, std::int64_t B) {
    const auto& c = model_->config;
    const auto d = c.hidden_size, E = c.num_experts, k = c.top_k_experts;
    const auto eps = static_cast<float>(c.norm_eps);
    auto gelu = [](float* y, std::int64_t n) { decode::gelu_inplace(y, n); };
    if (first_thread())
        for (std::int64_t b = 0; b < B; ++b)
            decode::layer_norm(x_.data() + b * d, d, ffn.norm_w.data(), ffn.norm_b.data(), eps,
                               u_.data() + b * d);
    sync();
    if (!ffn.router) {
        const auto& e = ffn.experts[0];
        product(*e.w1, u_.data(), B, a_.data(), gelu);  // (B, F)
        product(*e.w2, a_.data(), B, o_.data());        // (B, d)
        if (first_thread()) decode::add_scaled(x_.data(), o_.data(), 1.0f, B * d);
        return;  // the next reader of x_ is thread 0 itself
    }
    if (first_thread()) {
        // Per row: the top-k router logits (ties to the lower index), softmax over them.
        ffn.router->multiply(u_.data(), B, g_.data(), 0, E);  // (B, E)
        for (std::int64_t b = 0; b < B; ++b) {
            const float* g = g_.data() + b * E;
            std::int64_t* chosen = chosen_.data() + b * k;
            for (std::int64_t j = 0; j < k; ++j) {
                std::int64_t best = -1;
                for (std::int64_t e = 0; e < E; ++e)
                    if (std::find(chosen, chosen + j, e) == chosen + j &&
                        (best < 0 || g[e] > g[best]))
                        best = e;
                chosen[j] = best;
            }
            float* w = weight_.data() + b * k;
            float total = 0;
            for (std::int64_t j = 0; j < k; ++j)
                total += w[j] = std::exp(g[chosen[j]] - g[chosen[0]]);
            for (std::int64_t j = 0; j < k; ++j) w[j] /= total;
        }
    }
    sync();
    // Per expert: the rows routed to it, gathered into one batched product pair.
    for (std::int64_t e = 0; e < E; ++e) {
        std::int64_t n = 0;
        for (std::int64_t i = 0; i < B * k; ++i) n += chosen_[sz(i)] == e;
        if (n == 0) continue;  // every thread sees the same routing: same branch
        if (first_thread()) {
            std::int64_t r = 0;
            for (std::int64_t i = 0; i < B * k; ++i)
                if (chosen_[sz(i)] == e)
                    std::copy_n(u_.data() + (i / k) * d, d, ue_.data() + r++ * d);
        }
        sync();
        const auto& ex = ffn.experts[sz(e)];
        product(*ex.w1, ue_.data(), n, a_.data(), gelu);
        product(*ex.w2, a_.data(), n, oe_.data());
        if (first_thread()) {
            std::int64_t r = 0;
            for (std::int64_t i = 0; i < B * k; ++i)
                if (chosen_[sz(i)] == e)
                    decode::add_scaled(x_.data() + (i / k) * d, oe_.data() + r++ * d,
                                       weight_[sz(i)], d);
        }
    }
}

}  // namespace itera
