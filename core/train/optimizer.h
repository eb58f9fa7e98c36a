#pragma once
// AdamW with decoupled weight decay, fused into one pass per parameter, with
// gradient clipping folded into the same pass. No weight decay on norms,
// biases, A_log and D (decaying them pulls the norms' gains and the SSM's
// dynamics toward zero). State is plain tensors so the trainer can save it.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "model/itera_model.h"
#include "train/optimizer_settings.h"

namespace itera {

/// True for parameters that receive weight decay.
bool receives_weight_decay(const std::string& spec_name);

class AdamW {
public:
    AdamW(const IteraModel& model, const AdamWSettings& settings);

    /// Drops the gradients (the next backward allocates fresh ones).
    void zero_grad();

    /// One update at learning rate `lr`. Gradients are scaled so that their
    /// global L2 norm is at most `max_grad_norm` (<= 0: no clipping). Returns
    /// the global gradient norm before clipping; a non-finite norm skips the
    /// update and is returned as is.
    double step(double lr, double max_grad_norm);

    std::int64_t steps_taken() const { return steps_; }

    /// Moments by parameter name ("<name>.exp_avg", "<name>.exp_avg_sq"), for saving and restoring.
    std::vector<std::pair<std::string, torch::Tensor>> state() const;
    /// Restores moments saved by state(); every name must be present with its shape.
    void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& moments,
                    std::int64_t steps_taken);

private:
    struct Slot {
        std::string name;
        torch::Tensor param, exp_avg, exp_avg_sq;
        bool decay;
    };
    std::vector<Slot> slots_;
    AdamWSettings settings_;
    std::int64_t steps_ = 0;
};

}  // namespace itera
