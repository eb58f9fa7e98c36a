#include "train/optimizer.h"

#include <cmath>
#include <map>

#include "train/adamw_kernel.h"
#include "util/error.h"

namespace itera {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool receives_weight_decay(const std::string& name) {
    return !(ends_with(name, ".bias") || ends_with(name, "norm.weight") ||
             name == "norm_f.weight" || ends_with(name, ".A_log") || ends_with(name, ".D"));
}

AdamW::AdamW(const IteraModel& model, const AdamWSettings& s) : settings_(s) {
    if (!(s.lr >= 0) || !(s.beta1 >= 0 && s.beta1 < 1) || !(s.beta2 >= 0 && s.beta2 < 1) ||
        !(s.eps > 0) || !(s.weight_decay >= 0))
        throw Error("AdamW: need lr >= 0, betas in [0, 1), eps > 0 and weight decay >= 0");
    for (const auto& [name, p] : model->spec_parameters()) {
        if (p.scalar_type() != torch::kFloat || !p.is_contiguous())
            throw Error("AdamW: parameter " + name + " is not a contiguous float32 tensor");
        slots_.push_back(
            {name, p, torch::zeros_like(p), torch::zeros_like(p), receives_weight_decay(name)});
    }
}

void AdamW::zero_grad() {
    for (auto& s : slots_) s.param.mutable_grad() = torch::Tensor();
}

double AdamW::step(double lr, double max_grad_norm) {
    double squares = 0;
    for (auto& s : slots_) {
        const auto& g = s.param.grad();
        if (g.defined())
            squares += kernels::sum_of_squares(g.contiguous().data_ptr<float>(), g.numel());
    }
    const double norm = std::sqrt(squares);
    if (!std::isfinite(norm)) return norm;
    ++steps_;
    kernels::AdamWStep k;
    k.lr = static_cast<float>(lr);
    k.beta1 = static_cast<float>(settings_.beta1);
    k.beta2 = static_cast<float>(settings_.beta2);
    k.eps = static_cast<float>(settings_.eps);
    k.grad_scale = max_grad_norm > 0 && norm > max_grad_norm
                       ? static_cast<float>(max_grad_norm / (norm + 1e-6))
                       : 1.0f;
    k.bias_correction1 =
        static_cast<float>(1.0 - std::pow(settings_.beta1, static_cast<double>(steps_)));
    k.bias_correction2 =
        static_cast<float>(1.0 - std::pow(settings_.beta2, static_cast<double>(steps_)));
    torch::NoGradGuard no_grad;
    for (auto& s : slots_) {
        auto g = s.param.grad();
        if (!g.defined()) continue;  // a parameter that took no part (e.g. an unused expert)
        g = g.contiguous();
        k.weight_decay = s.decay ? static_cast<float>(settings_.weight_decay) : 0.0f;
        kernels::adamw_update(s.param.data_ptr<float>(), g.data_ptr<float>(),
                              s.exp_avg.data_ptr<float>(), s.exp_avg_sq.data_ptr<float>(),
                              s.param.numel(), k);
    }
    return norm;
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& s : slots_) {
        out.emplace_back(s.name + ".exp_avg", s.exp_avg);
        out.emplace_back(s.name + ".exp_avg_sq", s.exp_avg_sq);
    }
    return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& moments,
                       std::int64_t steps_taken) {
    std::map<std::string, torch::Tensor> by_name(moments.begin(), moments.end());
    auto restore = [&](const std::string& name, torch::Tensor& into) {
        auto it = by_name.find(name);
        if (it == by_name.end()) throw Error("optimizer state: missing \"" + name + "\"");
        if (!it->second.sizes().equals(into.sizes()))
            throw Error("optimizer state: \"" + name + "\" has the wrong shape");
        into.copy_(it->second);
        by_name.erase(it);
    };
    torch::NoGradGuard no_grad;
    for (auto& s : slots_) {
        restore(s.name + ".exp_avg", s.exp_avg);
        restore(s.name + ".exp_avg_sq", s.exp_avg_sq);
    }
    if (!by_name.empty())
        throw Error("optimizer state: unexpected \"" + by_name.begin()->first + "\"");
    steps_ = steps_taken;
}

}  // namespace itera
