// The rotary embedding and windowed causal attention of docs/spec/transformer.md.
// Attention has its own forward and backward so that its share of a training
// step is timed (OpKind::Attention) apart from the projections (OpKind::Gemm).
// Its products stay FP32 under Bf16Gemms (T × T scores are small next to the
// projections at the sequence lengths trained here).

#include <cmath>
#include <limits>

#include "model/attention.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

/// True where query position q0+i may see key position k0+j.
Tensor visible(std::int64_t q0, std::int64_t Tq, std::int64_t k0, std::int64_t Tk,
               std::int64_t window) {
    auto qp = torch::arange(q0, q0 + Tq, torch::kLong).unsqueeze(1);
    auto kp = torch::arange(k0, k0 + Tk, torch::kLong).unsqueeze(0);
    return (kp <= qp) & (qp - kp < window);
}

class AttentionFn : public torch::autograd::Function<AttentionFn> {
public:
    static Tensor forward(AutogradContext* ctx, const Tensor& q, const Tensor& k, const Tensor& v,
                          std::int64_t q0, std::int64_t k0, std::int64_t window) {
        OpTimerScope timer(OpKind::Attention);
        const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
        auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;  // (B, H, Tq, Tk)
        scores.masked_fill_(visible(q0, q.size(2), k0, k.size(2), window).logical_not(),
                            -std::numeric_limits<float>::infinity());
        auto p = torch::softmax(scores, -1);
        ctx->save_for_backward({q, k, v, p});
        ctx->saved_data["scale"] = scale;
        return torch::matmul(p, v);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        OpTimerScope timer(OpKind::Attention);
        auto s = ctx->get_saved_variables();
        const Tensor &q = s[0], &k = s[1], &v = s[2], &p = s[3];
        const double scale = ctx->saved_data["scale"].toDouble();
        const Tensor& dout = grads[0];
        auto dv = torch::matmul(p.transpose(-2, -1), dout);
        auto dp = torch::matmul(dout, v.transpose(-2, -1));
        auto ds = p * (dp - (dp * p).sum(-1, true));  // softmax's backward; masked p are 0
        auto dq = torch::matmul(ds, k) * scale;
        auto dk = torch::matmul(ds.transpose(-2, -1), q) * scale;
        return {dq, dk, dv, Tensor(), Tensor(), Tensor()};
    }
};

}  // namespace

Tensor rotary_embedding(const Tensor& x, std::int64_t first, double theta) {
    const auto T = x.size(2), hd = x.size(3), half = hd / 2;
    // Angles in double, rounded once: long positions keep their precision.
    auto j = torch::arange(half, torch::kDouble);
    auto inv_freq = torch::pow(theta, -2.0 * j / static_cast<double>(hd));  // (hd/2)
    auto pos = torch::arange(first, first + T, torch::kDouble).unsqueeze(1);
    auto angle = pos * inv_freq.unsqueeze(0);  // (T, hd/2)
    auto cos = torch::cos(angle).to(torch::kFloat), sin = torch::sin(angle).to(torch::kFloat);
    auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
    return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

Tensor windowed_attention(const Tensor& q, const Tensor& k, const Tensor& v, std::int64_t q0,
                          std::int64_t k0, std::int64_t window) {
    TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && q.size(0) == k.size(0) &&
                    q.size(1) == k.size(1) && q.size(3) == k.size(3),
                "windowed_attention: q (B, H, Tq, hd), k and v (B, H, Tk, hd)");
    TORCH_CHECK(k0 + k.size(2) == q0 + q.size(2) && k0 <= q0,
                "windowed_attention: the keys must end at the last query's position");
    TORCH_CHECK(window >= 1, "windowed_attention: the window must be at least 1");
    return AttentionFn::apply(q, k, v, q0, k0, window);
}

}  // namespace itera
