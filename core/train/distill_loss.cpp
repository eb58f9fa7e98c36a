#include "train/distill_loss.h"

#include "util/error.h"

namespace itera {

DistillLossOutput distillation_loss(IteraModel& student, IteraModel& teacher,
                                    const torch::Tensor& sequence, double alpha,
                                    double temperature) {
    if (sequence.dim() != 2 || sequence.size(1) < 2)
        throw Error("a training sequence needs shape (batch, T+1) with T >= 1");
    const auto V = student->config().vocab_size;
    if (teacher->config().vocab_size != V)
        throw Error("the teacher's vocab_size (" + std::to_string(teacher->config().vocab_size) +
                    ") differs from the student's (" + std::to_string(V) + ")");
    const auto T = sequence.size(1) - 1;
    auto inputs = sequence.narrow(1, 0, T);
    auto targets = sequence.narrow(1, 1, T).reshape({-1});

    torch::Tensor teacher_logits;
    {
        torch::NoGradGuard no_grad;
        teacher_logits = teacher->forward(inputs).logits.reshape({-1, V});
    }
    auto fwd = student->forward(inputs);
    auto logits = fwd.logits.reshape({-1, V});

    DistillLossOutput out;
    out.lm.target_tokens = targets.numel();
    out.lm.ce = torch::nn::functional::cross_entropy(logits, targets);
    auto log_p_teacher = torch::log_softmax(teacher_logits / temperature, 1);
    auto log_p_student = torch::log_softmax(logits / temperature, 1);
    auto kl = (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(1).mean();
    out.kl = kl.detach();
    out.lm.aux = fwd.aux_loss;
    auto loss = alpha * temperature * temperature * kl + (1.0 - alpha) * out.lm.ce;
    const double w = student->config().moe_aux_loss_weight;
    out.lm.loss = student->is_training() && w > 0 ? loss + w * out.lm.aux : loss;
    out.lm.expert_load = std::move(fwd.expert_load);
    return out;
}

}  // namespace itera
