// Autograd wrapper of kernels::conv_silu_forward / conv_silu_backward.

#include "model/conv_kernel.h"
#include "model/ops.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Row-strided (B, T, C) views (e.g. the first half of in_proj's output) are
// read in place; anything else is made contiguous first.
Tensor rows_readable(const Tensor& x) {
    TORCH_CHECK(x.dim() == 3 && x.scalar_type() == torch::kFloat,
                "causal_conv_silu: x must be float (B, T, C)");
    if (x.stride(2) == 1 && (x.size(1) == 1 || x.stride(0) == x.size(1) * x.stride(1))) return x;
    return x.contiguous();
}

kernels::ConvParams make_params(const Tensor& x, const Tensor& w_t, const Tensor& bias) {
    TORCH_CHECK(w_t.size(1) == x.size(2) && bias.numel() == x.size(2),
                "causal_conv_silu: weight must be (C, 1, K) and bias (C)");
    kernels::ConvParams p;
    p.batch = x.size(0);
    p.length = x.size(1);
    p.channels = x.size(2);
    p.kernel = w_t.size(0);
    p.x = x.data_ptr<float>();
    // With T = 1 the time stride is meaningless; consecutive rows are batches.
    p.x_row_stride = x.size(1) > 1 ? x.stride(1) : x.stride(0);
    p.w_t = w_t.data_ptr<float>();
    p.bias = bias.data_ptr<float>();
    return p;
}

Tensor transposed_weight(const Tensor& weight) {
    TORCH_CHECK(weight.dim() == 3 && weight.size(1) == 1,
                "causal_conv_silu: weight must be (C, 1, K)");
    return weight.detach().squeeze(1).t().contiguous();  // (K, C)
}

class CausalConvSiluFn : public torch::autograd::Function<CausalConvSiluFn> {
public:
    static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias) {
        OpTimerScope timer(OpKind::Conv);
        x = rows_readable(x);
        bias = bias.contiguous();
        auto w_t = transposed_weight(weight);
        auto p = make_params(x, w_t, bias);
        auto out = torch::empty({p.batch, p.length, p.channels}, x.options());
        kernels::conv_silu_forward(p, out.data_ptr<float>());
        ctx->save_for_backward({x, weight, bias});
        return out;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        OpTimerScope timer(OpKind::Conv);
        auto s = ctx->get_saved_variables();
        auto w_t = transposed_weight(s[1]);
        auto p = make_params(s[0], w_t, s[2]);
        auto dout = grads[0].contiguous();
        auto dx = torch::empty({p.batch, p.length, p.channels}, dout.options());
        auto dw = torch::empty({p.batch, p.kernel, p.channels}, dout.options());
        auto dbias = torch::empty({p.batch, p.channels}, dout.options());
        kernels::conv_silu_backward(p, dout.data_ptr<float>(), dx.data_ptr<float>(),
                                    dw.data_ptr<float>(), dbias.data_ptr<float>());
        auto dweight = dw.sum(0).t().unsqueeze(1).contiguous();  // (C, 1, K)
        return {dx, dweight, dbias.sum(0)};
    }
};

}  // namespace

Tensor causal_conv_silu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    return CausalConvSiluFn::apply(x, weight, bias);
}

Tensor causal_conv_silu_stateful(const Tensor& x_in, const Tensor& weight, const Tensor& bias_in,
                                 Tensor& tail) {
    torch::NoGradGuard no_grad;
    OpTimerScope timer(OpKind::Conv);
    auto x = rows_readable(x_in);
    auto bias = bias_in.contiguous();
    auto w_t = transposed_weight(weight);
    auto p = make_params(x, w_t, bias);
    const auto K = p.kernel;
    TORCH_CHECK(tail.dim() == 3 && tail.size(0) == p.batch && tail.size(1) == K - 1 &&
                    tail.size(2) == p.channels,
                "causal_conv_silu_stateful: tail must be (B, K-1, C)");
    auto tail_c = tail.contiguous();
    p.tail = tail_c.data_ptr<float>();
    auto out = torch::empty({p.batch, p.length, p.channels}, x.options());
    kernels::conv_silu_forward(p, out.data_ptr<float>());
    if (K > 1) {
        auto all = torch::cat({tail_c, x.narrow(2, 0, p.channels)}, 1);  // (B, K-1+T, C)
        tail = all.narrow(1, all.size(1) - (K - 1), K - 1).contiguous();
    }
    return out;
}

}  // namespace itera
