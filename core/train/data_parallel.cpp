#include "train/data_parallel.h"

#include <string>
#include <utility>

namespace itera {

void copy_start_from_rank0(Collective& group, IteraModel& model, AdamW& optimizer,
                           TrainerState& st) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> tensors;
    for (const auto& [name, t] : model->spec_parameters()) {
        if (!t.is_contiguous())
            throw Error("distributed: parameter " + name + " is not contiguous");
        tensors.push_back(t);
    }
    // The optimizer's state() tensors are its live moments: filled in place.
    auto moments = optimizer.state();
    for (const auto& [name, t] : moments) tensors.push_back(t);
    auto ints =
        torch::tensor({st.step, st.tokens, st.total_steps, st.best_step,
                       st.evals_without_improvement, st.schedule.step, optimizer.steps_taken()},
                      torch::kLong);
    auto reals = torch::tensor({st.wall_s, st.best_val_loss, st.schedule.progress}, torch::kDouble);
    tensors.push_back(ints);
    tensors.push_back(reals);
    group.broadcast(tensors);
    const auto* i = ints.data_ptr<std::int64_t>();
    const auto* r = reals.data_ptr<double>();
    st.step = i[0];
    st.tokens = i[1];
    st.total_steps = i[2];
    st.best_step = i[3];
    st.evals_without_improvement = i[4];
    st.schedule.step = i[5];
    st.wall_s = r[0];
    st.best_val_loss = r[1];
    st.schedule.progress = r[2];
    optimizer.load_state(moments, i[6]);  // the same tensors: sets the step count
}

void sum_gradients(Collective& group, IteraModel& model, std::int64_t bucket_bytes) {
    torch::NoGradGuard no_grad;
    auto params = model->parameters();
    // Which gradients exist anywhere: a count per parameter.
    auto defined = torch::zeros({static_cast<std::int64_t>(params.size())}, torch::kFloat);
    auto* d = defined.data_ptr<float>();
    for (std::size_t i = 0; i < params.size(); ++i) d[i] = params[i].grad().defined() ? 1.f : 0.f;
    std::vector<torch::Tensor> one = {defined};
    group.sum(one);

    std::vector<torch::Tensor> grads;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (d[i] == 0) continue;
        auto& p = params[i];
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
    }
    // Buckets: consecutive gradients flattened into one buffer each, all in
    // flight at once, then copied back.
    const std::int64_t bucket_elements = std::max<std::int64_t>(1, bucket_bytes / 4);
    std::vector<torch::Tensor> buckets;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (std::size_t first = 0, last = 0; first < grads.size(); first = last) {
        std::int64_t n = 0;
        while (last < grads.size() && (last == first || n + grads[last].numel() <= bucket_elements))
            n += grads[last++].numel();
        std::vector<torch::Tensor> parts;
        for (std::size_t k = first; k < last; ++k) parts.push_back(grads[k].reshape({-1}));
        buckets.push_back(torch::cat(parts));
        ranges.emplace_back(first, last);
    }
    group.sum(buckets);
    for (std::size_t b = 0; b < buckets.size(); ++b) {
        std::int64_t at = 0;
        for (std::size_t k = ranges[b].first; k < ranges[b].second; ++k) {
            const auto numel = grads[k].numel();
            grads[k].copy_(buckets[b].narrow(0, at, numel).view(grads[k].sizes()));
            at += numel;
        }
    }
}

double rank0_value(Collective& group, double value) {
    std::vector<double> v = {group.rank() == 0 ? value : 0.0};
    sum_values(group, v);
    return v[0];
}

void sum_values(Collective& group, std::vector<double>& values) {
    if (values.empty()) return;
    std::vector<torch::Tensor> t = {torch::from_blob(
        values.data(), {static_cast<std::int64_t>(values.size())}, torch::kDouble)};
    group.sum(t);
}

}  // namespace itera
