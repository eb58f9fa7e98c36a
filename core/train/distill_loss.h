#pragma once
// Knowledge distillation's training loss (Hinton et al. 2015): the student
// matches the teacher's softened next-token distribution as well as the data.

#include <torch/torch.h>

#include "model/itera_model.h"

namespace itera {

struct DistillLossOutput {
    LossOutput lm;     ///< lm.loss is what to differentiate; lm.ce the plain CE (reported)
    torch::Tensor kl;  ///< mean over target tokens of KL(teacher_T ‖ student_T), no grad
};

/// For `sequence` (B, T+1): inputs [:, :T], targets [:, 1:] (the one shift).
/// loss = alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · CE(s)
///        + moe_aux_loss_weight · aux (training mode),
/// the KL averaged over target tokens, never summed over the sequence. The
/// teacher runs without autograd; it must share the student's vocabulary.
DistillLossOutput distillation_loss(IteraModel& student, IteraModel& teacher,
                                    const torch::Tensor& sequence, double alpha,
                                    double temperature);

}  // namespace itera
