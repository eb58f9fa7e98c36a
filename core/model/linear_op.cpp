// A linear map whose forward and backward GEMMs are timed (OpKind::Gemm), so
// the training benchmark can split a step into scan / GEMM / the rest.

#include "model/ops.h"
#include "util/op_timer.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class LinearFn : public torch::autograd::Function<LinearFn> {
public:
    static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight) {
        OpTimerScope timer(OpKind::Gemm);
        auto x2 = x.reshape({-1, x.size(-1)});
        auto y = x2.mm(weight.t());
        ctx->save_for_backward({x, weight});
        auto shape = x.sizes().vec();
        shape.back() = weight.size(0);
        return y.view(shape);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        OpTimerScope timer(OpKind::Gemm);
        auto s = ctx->get_saved_variables();
        const Tensor &x = s[0], &weight = s[1];
        auto g = grads[0].reshape({-1, weight.size(0)});
        Tensor dx, dw;
        if (ctx->needs_input_grad(0)) dx = g.mm(weight).view(x.sizes());
        if (ctx->needs_input_grad(1)) dw = g.t().mm(x.reshape({-1, x.size(-1)}));
        return {dx, dw};
    }
};

}  // namespace

Tensor linear_map(const Tensor& x, const Tensor& weight) {
    TORCH_CHECK(x.size(-1) == weight.size(1), "linear_map: input has ", x.size(-1),
                " features, weight expects ", weight.size(1));
    return LinearFn::apply(x, weight);
}

}  // namespace itera
