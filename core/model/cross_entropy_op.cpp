// Autograd wrapper of the fused cross-entropy kernel.

#include "model/cross_entropy_kernel.h"
#include "model/ops.h"
#include "util/error.h"

namespace itera {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class CrossEntropyFn : public torch::autograd::Function<CrossEntropyFn> {
public:
    static Tensor forward(AutogradContext* ctx, Tensor logits, const Tensor& targets,
                          std::int64_t ignore_index, std::int64_t count) {
        logits = logits.contiguous();
        const auto M = logits.size(0), V = logits.size(1);
        auto lse = torch::empty({M}, logits.options());
        auto row_loss = torch::empty({M}, logits.options());
        kernels::cross_entropy_forward(logits.data_ptr<float>(), M, V,
                                       targets.data_ptr<std::int64_t>(), ignore_index,
                                       lse.data_ptr<float>(), row_loss.data_ptr<float>());
        ctx->save_for_backward({logits, targets, lse});
        ctx->saved_data["ignore_index"] = ignore_index;
        ctx->saved_data["count"] = count;
        // Sum in double, in a fixed order: the loss is reproducible bit for bit.
        return (row_loss.to(torch::kDouble).sum() / static_cast<double>(count)).to(torch::kFloat);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        auto s = ctx->get_saved_variables();
        const Tensor &logits = s[0], &targets = s[1], &lse = s[2];
        const auto ignore_index = ctx->saved_data["ignore_index"].toInt();
        const auto count = ctx->saved_data["count"].toInt();
        const float scale = grads[0].item<float>() / static_cast<float>(count);
        auto grad = torch::empty_like(logits);
        kernels::cross_entropy_backward(logits.data_ptr<float>(), logits.size(0), logits.size(1),
                                        targets.data_ptr<std::int64_t>(), ignore_index,
                                        lse.data_ptr<float>(), scale, grad.data_ptr<float>());
        return {grad, Tensor(), Tensor(), Tensor()};
    }
};

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets_in, std::int64_t ignore_index) {
    TORCH_CHECK(logits.dim() == 2 && logits.scalar_type() == torch::kFloat,
                "cross_entropy: logits must be float (M, V)");
    auto targets = targets_in.to(torch::kLong).contiguous().view({-1});
    TORCH_CHECK(targets.size(0) == logits.size(0), "cross_entropy: one target per row");
    const auto count = count_targets(targets, logits.size(1), ignore_index);
    return CrossEntropyFn::apply(logits, targets, ignore_index, count);
}

std::int64_t count_targets(const Tensor& targets, std::int64_t V, std::int64_t ignore_index) {
    auto valid = targets != ignore_index;
    const auto count = valid.sum().item<std::int64_t>();
    if (count == 0) throw Error("cross-entropy over a batch with no non-padding targets");
    auto bad = valid & ((targets < 0) | (targets >= V));
    if (bad.any().item<bool>()) {
        auto id = targets.masked_select(bad)[0].item<std::int64_t>();
        throw Error("target id " + std::to_string(id) + " is outside the vocabulary 0.." +
                    std::to_string(V - 1));
    }
    return count;
}

}  // namespace itera
