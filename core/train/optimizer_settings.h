#pragma once
// AdamW hyperparameters (torch-free, so settings code need not include LibTorch).

namespace itera {

struct AdamWSettings {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double eps = 1e-8;
    double weight_decay = 0.1;
};

}  // namespace itera
