// Autograd wrapper of kernels::scan_forward / scan_backward.

#include "model/ops.h"
#include "model/scan_kernel.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

kernels::ScanParams make_params(const Tensor& u, const Tensor& delta, const Tensor& bias,
                                const Tensor& A_t, const Tensor& Bm, const Tensor& Cm,
                                const Tensor& D) {
    TORCH_CHECK(u.dim() == 3 && delta.sizes() == u.sizes(),
                "selective_scan: u and delta must be (B, T, di)");
    TORCH_CHECK(Bm.dim() == 3 && Bm.sizes() == Cm.sizes() && Bm.size(0) == u.size(0) &&
                    Bm.size(1) == u.size(1),
                "selective_scan: B and C must be (B, T, N)");
    TORCH_CHECK(A_t.size(1) == u.size(2) && A_t.size(0) == Bm.size(2),
                "selective_scan: A must be (di, N)");
    TORCH_CHECK(bias.numel() == u.size(2) && D.numel() == u.size(2),
                "selective_scan: bias and D must be (di)");
    for (const Tensor* t : {&u, &delta, &bias, &A_t, &Bm, &Cm, &D}) {
        TORCH_CHECK(t->scalar_type() == torch::kFloat && t->is_contiguous(),
                    "selective_scan: inputs must be contiguous float32");
    }
    kernels::ScanParams p;
    p.batch = u.size(0);
    p.length = u.size(1);
    p.channels = u.size(2);
    p.state = Bm.size(2);
    p.u = u.data_ptr<float>();
    p.delta = delta.data_ptr<float>();
    p.delta_bias = bias.data_ptr<float>();
    p.A_t = A_t.data_ptr<float>();
    p.Bm = Bm.data_ptr<float>();
    p.Cm = Cm.data_ptr<float>();
    p.D = D.data_ptr<float>();
    return p;
}

Tensor transposed_A(const Tensor& A_log) {
    return (-A_log.detach().exp()).t().contiguous();
}

class SelectiveScanFn : public torch::autograd::Function<SelectiveScanFn> {
public:
    static Tensor forward(AutogradContext* ctx, Tensor u, Tensor delta, Tensor bias, Tensor A_log,
                          Tensor Bm, Tensor Cm, Tensor D, Tensor z) {
        OpTimerScope timer(OpKind::Scan);
        u = u.contiguous();
        delta = delta.contiguous();
        Bm = Bm.contiguous();
        Cm = Cm.contiguous();
        bias = bias.contiguous();
        D = D.contiguous();
        auto A_t = transposed_A(A_log);
        auto p = make_params(u, delta, bias, A_t, Bm, Cm, D);
        if (z.numel() > 0) {  // an empty z means "no gate" (apply() cannot take undefined tensors)
            z = z.contiguous();
            TORCH_CHECK(z.sizes() == u.sizes() && z.scalar_type() == torch::kFloat,
                        "selective_scan: z must be like u");
            p.z = z.data_ptr<float>();
        }
        auto y = torch::empty_like(u);
        kernels::scan_forward(p, y.data_ptr<float>(), nullptr);
        ctx->save_for_backward({u, delta, bias, A_log, Bm, Cm, D, z});
        return y;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        OpTimerScope timer(OpKind::Scan);
        auto s = ctx->get_saved_variables();
        const Tensor &u = s[0], &delta = s[1], &bias = s[2], &A_log = s[3], &Bm = s[4], &Cm = s[5],
                     &D = s[6], &z = s[7];
        auto dy = grads[0].contiguous();
        auto A_t = transposed_A(A_log);
        auto p = make_params(u, delta, bias, A_t, Bm, Cm, D);
        Tensor dz;
        if (z.numel() > 0) {
            p.z = z.data_ptr<float>();
            dz = torch::empty_like(z);
        }
        const auto B = p.batch, T = p.length, C = p.channels, N = p.state;
        const auto blocks = kernels::scan_channel_blocks(C);
        auto opts = u.options();
        auto du = torch::empty_like(u);
        auto ddelta = torch::empty_like(u);
        auto dA_t = torch::empty({B, N, C}, opts);
        auto dB = torch::empty({blocks, B, T, N}, opts);
        auto dC = torch::empty({blocks, B, T, N}, opts);
        auto dD = torch::empty({B, C}, opts);
        auto dbias = torch::empty({B, C}, opts);
        kernels::ScanGrads g{
            du.data_ptr<float>(),    ddelta.data_ptr<float>(),
            dA_t.data_ptr<float>(),  dB.data_ptr<float>(),
            dC.data_ptr<float>(),    dD.data_ptr<float>(),
            dbias.data_ptr<float>(), dz.defined() ? dz.data_ptr<float>() : nullptr};
        kernels::scan_backward(p, dy.data_ptr<float>(), g);
        // dL/dA_log = dL/dA · dA/dA_log = dL/dA · A, with A = -exp(A_log).
        auto dA = dA_t.sum(0).t();  // (C, N)
        auto dA_log = dA * (-A_log.exp());
        return {du, ddelta, dbias.sum(0), dA_log, dB.sum(0), dC.sum(0), dD.sum(0), dz};
    }
};

}  // namespace

Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& delta_bias,
                      const Tensor& A_log, const Tensor& Bm, const Tensor& Cm, const Tensor& D,
                      const Tensor& z) {
    return SelectiveScanFn::apply(u, delta, delta_bias, A_log, Bm, Cm, D,
                                  z.defined() ? z : torch::empty({0}));
}

Tensor selective_scan_stateful(const Tensor& u_in, const Tensor& delta_in, const Tensor& bias_in,
                               const Tensor& A_log, const Tensor& Bm_in, const Tensor& Cm_in,
                               const Tensor& D_in, Tensor& h, const Tensor& z_in) {
    torch::NoGradGuard no_grad;
    OpTimerScope timer(OpKind::Scan);
    auto u = u_in.contiguous(), delta = delta_in.contiguous(), bias = bias_in.contiguous();
    auto Bm = Bm_in.contiguous(), Cm = Cm_in.contiguous(), D = D_in.contiguous();
    auto A_t = transposed_A(A_log);
    auto p = make_params(u, delta, bias, A_t, Bm, Cm, D);
    TORCH_CHECK(
        h.dim() == 3 && h.size(0) == p.batch && h.size(1) == p.channels && h.size(2) == p.state,
        "selective_scan_stateful: state must be (B, di, N)");
    auto h0 = h.contiguous();
    p.h0 = h0.data_ptr<float>();
    Tensor z;
    if (z_in.defined()) {
        z = z_in.contiguous();
        TORCH_CHECK(z.sizes() == u.sizes(), "selective_scan_stateful: z must be like u");
        p.z = z.data_ptr<float>();
    }
    auto y = torch::empty_like(u);
    auto h_last = torch::empty_like(h0);
    kernels::scan_forward(p, y.data_ptr<float>(), h_last.data_ptr<float>());
    h = h_last;
    return y;
}

}  // namespace itera
