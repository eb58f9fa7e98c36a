// Splitting the last dimension into contiguous pieces. Narrowed views would
// cost, in the backward, a zero-filled full-size buffer per piece plus their
// sum; here the backward is one concatenation.

#include "model/ops.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class SplitLastFn : public torch::autograd::Function<SplitLastFn> {
public:
    static tensor_list forward(AutogradContext* ctx, const Tensor& x,
                               std::vector<std::int64_t> sizes) {
        tensor_list out;
        std::int64_t offset = 0;
        for (auto n : sizes) {
            out.push_back(x.narrow(-1, offset, n).contiguous());
            offset += n;
        }
        ctx->saved_data["sizes"] = sizes;
        return out;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        auto sizes = ctx->saved_data["sizes"].toIntVector();
        for (std::size_t i = 0; i < grads.size(); ++i) {
            if (grads[i].defined()) continue;
            // A piece that did not reach the loss: its gradient is zero.
            for (const auto& g : grads)
                if (g.defined()) {
                    auto shape = g.sizes().vec();
                    shape.back() = sizes[i];
                    grads[i] = torch::zeros(shape, g.options());
                    break;
                }
        }
        return {torch::cat(grads, -1), Tensor()};
    }
};

}  // namespace

std::vector<Tensor> split_last(const Tensor& x, const std::vector<std::int64_t>& sizes) {
    std::int64_t total = 0;
    for (auto n : sizes) total += n;
    TORCH_CHECK(total == x.size(-1), "split_last: sizes add up to ", total, ", last dimension is ",
                x.size(-1));
    return SplitLastFn::apply(x, sizes);
}

}  // namespace itera
