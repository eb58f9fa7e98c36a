#pragma once
// AdamW with the usual exclusions: no weight decay on norms, biases, A_log and D
// (decaying them pulls the SSM's dynamics and the norms' gains toward zero).

#include <torch/torch.h>

#include <memory>
#include <string>

#include "model/itera_model.h"

namespace itera {

struct AdamWSettings {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double eps = 1e-8;
    double weight_decay = 0.1;
};

/// True for parameters that receive weight decay.
bool receives_weight_decay(const std::string& spec_name);

/// AdamW over the model's parameters in two groups (decay / no decay).
std::unique_ptr<torch::optim::AdamW> make_adamw(const IteraModel& model, const AdamWSettings& s);

}  // namespace itera
