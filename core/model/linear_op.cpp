// A linear map whose forward and backward GEMMs are timed (OpKind::Gemm), so
// the training benchmark can split a step into scan / GEMM / the rest; in a
// Bf16Gemms scope its products take BF16 inputs (oneDNN's AVX-512 BF16 GEMMs
// run 2–2.5× faster than FP32 here) and return FP32.

#include "model/ops.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

thread_local bool bf16_gemms = false;

class LinearFn : public torch::autograd::Function<LinearFn> {
public:
    static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight) {
        OpTimerScope timer(OpKind::Gemm);
        auto x2 = x.reshape({-1, x.size(-1)});
        const bool bf16 = bf16_gemms;
        ctx->saved_data["bf16"] = bf16;
        ctx->saved_data["x_sizes"] = x.sizes().vec();
        Tensor y;
        if (bf16) {  // the BF16 copies are what the backward needs: half the memory
            auto xb = x2.to(torch::kBFloat16), wb = weight.to(torch::kBFloat16);
            y = xb.mm(wb.t()).to(torch::kFloat);
            ctx->save_for_backward({xb, wb});
        } else {
            y = x2.mm(weight.t());
            ctx->save_for_backward({x2, weight});
        }
        auto shape = x.sizes().vec();
        shape.back() = weight.size(0);
        return y.view(shape);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        OpTimerScope timer(OpKind::Gemm);
        auto s = ctx->get_saved_variables();
        const Tensor &x2 = s[0], &weight = s[1];
        const bool bf16 = ctx->saved_data["bf16"].toBool();
        const auto x_sizes = ctx->saved_data["x_sizes"].toIntVector();
        auto g = grads[0].reshape({-1, weight.size(0)});
        if (bf16) g = g.to(torch::kBFloat16);
        Tensor dx, dw;
        if (ctx->needs_input_grad(0)) dx = g.mm(weight).to(torch::kFloat).view(x_sizes);
        if (ctx->needs_input_grad(1)) dw = g.t().mm(x2).to(torch::kFloat);
        return {dx, dw};
    }
};

}  // namespace

Bf16Gemms::Bf16Gemms(bool on) : previous_(bf16_gemms) {
    bf16_gemms = on;
}

Bf16Gemms::~Bf16Gemms() {
    bf16_gemms = previous_;
}

bool Bf16Gemms::active() {
    return bf16_gemms;
}

Tensor linear_map(const Tensor& x, const Tensor& weight) {
    TORCH_CHECK(x.size(-1) == weight.size(1), "linear_map: input has ", x.size(-1),
                " features, weight expects ", weight.size(1));
    return LinearFn::apply(x, weight);
}

}  // namespace itera
