// The tied head and the cross-entropy fused and chunked over rows: logits are
// produced 256 rows at a time (a cache-sized block), turned into their
// gradient in place, and immediately multiplied back into dL/dx and dL/dW.
// The full (tokens × vocabulary) logits tensor never exists, which saves its
// memory traffic (32 MB written and read five times per step at 16×128 tokens,
// V = 4096) and its memory.

#include <ATen/Parallel.h>

#include "model/cross_entropy_kernel.h"
#include "model/ops.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

std::int64_t chunk_rows(std::int64_t V) {
    return std::max<std::int64_t>(32, (1 << 20) / std::max<std::int64_t>(V, 1));
}

class HeadLossFn : public torch::autograd::Function<HeadLossFn> {
public:
    static Tensor forward(AutogradContext* ctx, Tensor x, Tensor W, const Tensor& targets,
                          std::int64_t ignore_index, std::int64_t count, bool with_grad) {
        x = x.contiguous();
        W = W.contiguous();
        const auto M = x.size(0), V = W.size(0);
        const auto R = chunk_rows(V);
        auto row_loss = torch::empty({M}, x.options());
        auto lse = torch::empty({R}, x.options());
        auto logits = torch::empty({R, V}, x.options());
        Tensor dx, dW;
        if (with_grad) {
            dx = torch::empty_like(x);
            dW = torch::zeros_like(W);
        }
        const float scale = 1.0f / static_cast<float>(count);
        const auto* tgt = targets.data_ptr<std::int64_t>();
        // BF16 products (in a Bf16Gemms scope): inputs rounded to BF16, the
        // logits and the cross-entropy in FP32.
        const bool bf16 = Bf16Gemms::active();
        Tensor xb, Wb;
        if (bf16) {
            xb = x.to(torch::kBFloat16);
            Wb = W.to(torch::kBFloat16);
        }
        for (std::int64_t r0 = 0; r0 < M; r0 += R) {
            const auto n = std::min(R, M - r0);
            auto xc = x.narrow(0, r0, n);
            auto lc = logits.narrow(0, 0, n);
            {
                OpTimerScope timer(OpKind::Gemm);
                if (bf16)
                    lc.copy_(xb.narrow(0, r0, n).mm(Wb.t()));
                else
                    torch::mm_out(lc, xc, W.t());
            }
            kernels::cross_entropy_forward(lc.data_ptr<float>(), n, V, tgt + r0, ignore_index,
                                           lse.data_ptr<float>(), row_loss.data_ptr<float>() + r0);
            if (!with_grad) continue;
            kernels::cross_entropy_backward(lc.data_ptr<float>(), n, V, tgt + r0, ignore_index,
                                            lse.data_ptr<float>(), scale, lc.data_ptr<float>());
            OpTimerScope timer(OpKind::Gemm);
            auto dxc = dx.narrow(0, r0, n);
            if (bf16) {
                auto gb = lc.to(torch::kBFloat16);
                dxc.copy_(gb.mm(Wb));
                dW.add_(gb.t().mm(xb.narrow(0, r0, n)));
            } else {
                torch::mm_out(dxc, lc, W);
                dW.addmm_(lc.t(), xc);
            }
        }
        if (with_grad) ctx->save_for_backward({dx, dW});
        return (row_loss.to(torch::kDouble).sum() / static_cast<double>(count)).to(torch::kFloat);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        auto s = ctx->get_saved_variables();
        TORCH_CHECK(s.size() == 2 && s[0].defined(), "head loss: backward without gradients saved");
        auto g = grads[0];
        return {s[0] * g, s[1] * g, Tensor(), Tensor(), Tensor(), Tensor()};
    }
};

}  // namespace

Tensor tied_head_cross_entropy(const Tensor& x, const Tensor& W, const Tensor& targets_in,
                               std::int64_t ignore_index) {
    TORCH_CHECK(x.dim() == 2 && W.dim() == 2 && x.size(1) == W.size(1),
                "head loss: x (M, d) and W (V, d) expected");
    auto targets = targets_in.to(torch::kLong).contiguous().view({-1});
    TORCH_CHECK(targets.size(0) == x.size(0), "head loss: one target per row");
    const auto count = count_targets(targets, W.size(0), ignore_index);
    const bool with_grad =
        torch::GradMode::is_enabled() && (x.requires_grad() || W.requires_grad());
    return HeadLossFn::apply(x, W, targets, ignore_index, count, with_grad);
}

}  // namespace itera
