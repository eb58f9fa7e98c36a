#include "train/optimizer.h"

namespace itera {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool receives_weight_decay(const std::string& name) {
    return !(ends_with(name, ".bias") || ends_with(name, "norm.weight") || name == "norm_f.weight" ||
             ends_with(name, ".A_log") || ends_with(name, ".D"));
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const IteraModel& model, const AdamWSettings& s) {
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& [name, p] : model->spec_parameters())
        (receives_weight_decay(name) ? decay : no_decay).push_back(p);
    auto opts = [&](double wd) {
        return std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(s.lr).betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, opts(s.weight_decay));
    groups.emplace_back(no_decay, opts(0.0));
    return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(s.lr));
}

}  // namespace itera
