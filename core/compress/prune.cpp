#include "compress/prune.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "model/ops.h"
#include "util/error.h"

namespace itera {
namespace {

using Dropped = std::set<std::pair<std::int64_t, std::int64_t>>;
constexpr std::int64_t kBatch = 16;

// Sums gathered by one calibration pass.
struct Stats {
    std::int64_t tokens = 0;
    std::vector<torch::Tensor> channel_sq;     ///< per layer, Σ (y ⊙ silu z)² per channel
    std::map<std::string, torch::Tensor> act;  ///< per FFN / expert, Σ gate · |gelu(w1 u)|
    std::map<std::string, double> act_weight;  ///< Σ gate (dense: tokens)
    std::vector<std::vector<double>> slots;    ///< per layer, assignments per expert (MoE)
};

std::string ffn_key(std::int64_t layer) {
    return "layers." + std::to_string(layer) + ".ffn";
}
std::string expert_key(std::int64_t layer, std::int64_t e) {
    return ffn_key(layer) + ".experts." + std::to_string(e);
}

void accumulate(std::map<std::string, torch::Tensor>& into, const std::string& key,
                const torch::Tensor& v) {
    auto it = into.find(key);
    if (it == into.end())
        into.emplace(key, v.clone());
    else
        it->second += v;
}

// The spec's MoE sublayer with `dropped` experts of this layer never routed to.
torch::Tensor moe_forward(MoeFfn& moe, const torch::Tensor& x, std::int64_t layer,
                          const Dropped& dropped, Stats* stats) {
    const auto d = moe.config.hidden_size, E = moe.config.num_experts, k = moe.config.top_k_experts;
    auto u = layer_norm(x, moe.norm, moe.config.norm_eps).reshape({-1, d});
    auto logits = linear_map(u, moe.router->weight);  // (M, E)
    for (const auto& [l, e] : dropped)
        if (l == layer) logits.select(1, e).fill_(-std::numeric_limits<float>::infinity());
    auto top = top_k_experts(logits, k);                    // (M, k)
    auto gates = torch::softmax(logits.gather(1, top), 1);  // (M, k)
    auto out = torch::zeros_like(u);
    for (std::int64_t e = 0; e < E; ++e) {
        auto hit = top == e;                             // (M, k), at most one per row
        auto rows = hit.any(1).nonzero().reshape({-1});  // tokens routed to e
        if (rows.numel() == 0) continue;
        auto g = (gates * hit).sum(1).index_select(0, rows);  // their gates
        auto h = torch::gelu(linear_map(u.index_select(0, rows), moe.experts[e]->w1->weight));
        out.index_add_(0, rows, linear_map(h, moe.experts[e]->w2->weight) * g.unsqueeze(1));
        if (stats) {
            accumulate(stats->act, expert_key(layer, e), (h.abs() * g.unsqueeze(1)).sum(0));
            stats->act_weight[expert_key(layer, e)] += g.sum().item<double>();
            stats->slots[layer][e] += static_cast<double>(rows.numel());
        }
    }
    return out.view(x.sizes());
}

// Σ cross-entropy over the targets of `seqs` (B, T+1), gathering `stats`.
double pass_loss_sum(IteraModel& model, const torch::Tensor& seqs, const Dropped& dropped,
                     Stats* stats) {
    const auto& cfg = model->config();
    const auto T = seqs.size(1) - 1;
    auto inputs = seqs.narrow(1, 0, T);
    auto targets = seqs.narrow(1, 1, T).reshape({-1});
    auto x = torch::embedding(model->embed->weight, inputs);
    for (std::size_t i = 0; i < model->layers.size(); ++i) {
        const auto layer = static_cast<std::int64_t>(i);
        auto& block = *model->layers[i];
        if (block.attn) {  // a Transformer: attention is kept whole
            x = x + block.attn->forward(x);
        } else {
            torch::Tensor gated;
            x = x + block.mixer->forward(x, nullptr, stats ? &gated : nullptr);
            if (stats) stats->channel_sq[i] += gated.square().sum(std::vector<std::int64_t>{0, 1});
        }
        if (auto* moe = dynamic_cast<MoeFfn*>(block.ffn.get())) {
            x = x + moe_forward(*moe, x, layer, dropped, stats);
        } else {
            auto& dense = dynamic_cast<DenseFfn&>(*block.ffn);
            auto u = layer_norm(x, dense.norm, cfg.norm_eps);
            auto h = torch::gelu(linear_map(u, dense.w1->weight));
            if (stats) {
                accumulate(stats->act, ffn_key(layer),
                           h.abs().sum(std::vector<std::int64_t>{0, 1}));
                stats->act_weight[ffn_key(layer)] += static_cast<double>(h.size(0) * h.size(1));
            }
            x = x + linear_map(h, dense.w2->weight);
        }
    }
    auto hidden = layer_norm(x, model->norm_f, cfg.norm_eps);
    auto logits = linear_map(hidden, model->embed->weight).reshape({-1, cfg.vocab_size});
    if (stats) stats->tokens += targets.numel();
    return torch::nn::functional::cross_entropy(
               logits, targets,
               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
        .item<double>();
}

// Mean loss over all calibration batches (and the stats when asked).
double calibration_loss(IteraModel& model, const torch::Tensor& seqs, const Dropped& dropped,
                        Stats* stats, const PruneProgress& progress, const std::string& phase) {
    torch::NoGradGuard no_grad;
    const auto& cfg = model->config();
    if (stats) {
        *stats = {};
        for (std::int64_t i = 0; i < cfg.num_layers; ++i) {
            stats->channel_sq.push_back(
                torch::zeros({cfg.is_transformer() ? 0 : cfg.inner_size()}));
            stats->slots.emplace_back(static_cast<std::size_t>(cfg.num_experts), 0.0);
        }
    }
    double sum = 0;
    const auto n = seqs.size(0);
    for (std::int64_t b = 0; b < n; b += kBatch) {
        if (progress.cancel && progress.cancel->load()) throw Error("cancelled");
        if (progress.report) progress.report(phase, double(b) / double(n));
        sum += pass_loss_sum(model, seqs.narrow(0, b, std::min(kBatch, n - b)), dropped, stats);
    }
    return sum / static_cast<double>(n * (seqs.size(1) - 1));
}

// Evenly spaced windows of seq_len + 1 tokens, about `tokens` targets in all.
torch::Tensor calibration_sequences(const TokenStream& s, const PruneOptions& o) {
    const auto width = static_cast<std::uint64_t>(o.seq_len + 1);
    if (s.size() < width)
        throw Error("pruning: the calibration text has " + std::to_string(s.size()) +
                    " tokens; one sequence needs " + std::to_string(width));
    const auto fit = static_cast<std::int64_t>(s.size() / width);
    const auto n = std::max<std::int64_t>(
        1, std::min(fit, (o.calibration_tokens + o.seq_len - 1) / o.seq_len));
    auto seqs = torch::empty({n, static_cast<std::int64_t>(width)}, torch::kLong);
    const std::uint64_t span = s.size() - width;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t start =
            n == 1 ? 0 : span * static_cast<std::uint64_t>(i) / static_cast<std::uint64_t>(n - 1);
        s.copy(start, width, seqs[i].data_ptr<std::int64_t>());
    }
    return seqs;
}

// The `keep` largest of `importance`, in their original order; and the share
// of the summed importance they carry.
std::pair<std::vector<std::int64_t>, double> keep_largest(const torch::Tensor& importance,
                                                          std::int64_t keep) {
    auto v = importance.to(torch::kDouble).contiguous();
    const auto* p = v.data_ptr<double>();
    std::vector<std::int64_t> order(static_cast<std::size_t>(v.numel()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return p[a] > p[b]; });
    order.resize(static_cast<std::size_t>(keep));
    std::sort(order.begin(), order.end());
    double kept = 0, total = 0;
    for (std::int64_t i = 0; i < v.numel(); ++i) total += p[i];
    for (auto i : order) kept += p[i];
    return {order, total > 0 ? kept / total : 1.0};
}

torch::Tensor column_norms(const torch::Tensor& w) {  // ‖w[:, j]‖ for each column j
    return w.square().sum(0).sqrt();
}

torch::Tensor index_tensor(const std::vector<std::int64_t>& v) {
    return torch::tensor(v, torch::kLong);
}

const std::vector<std::int64_t>& kept_of(const PrunePlan& plan, const std::string& key) {
    for (const auto& [k, v] : plan.kept_units)
        if (k == key) return v;
    throw Error("internal: the pruning plan has no entry for " + key);
}

}  // namespace

ModelConfig pruned_config(const ModelConfig& config, const PruneOptions& o) {
    auto c = config.resolved();
    if (!o.any())
        throw Error("pruning: nothing to prune; give --experts, --ffn-keep or --channels-keep");
    if (o.expert_criterion != "sensitivity" && o.expert_criterion != "load")
        throw Error("pruning: the expert criterion must be \"sensitivity\" or \"load\", got \"" +
                    o.expert_criterion + "\"");
    if (o.calibration_tokens < 256)
        throw Error("pruning: at least 256 calibration tokens are needed, got " +
                    std::to_string(o.calibration_tokens));
    if (o.experts) {
        bool any_moe = false;
        for (std::int64_t i = 0; i < c.num_layers; ++i) any_moe = any_moe || c.is_moe_layer(i);
        if (!any_moe) throw Error("--experts: this model has no MoE layer");
        if (*o.experts < c.top_k_experts || *o.experts > c.num_experts)
            throw Error("--experts " + std::to_string(*o.experts) +
                        ": must be between top_k_experts (" + std::to_string(c.top_k_experts) +
                        ", each token is routed to that many) " + "and num_experts (" +
                        std::to_string(c.num_experts) + ")");
        c.num_experts = *o.experts;
    }
    if (o.ffn_keep) {
        if (!(*o.ffn_keep > 0 && *o.ffn_keep <= 1))
            throw Error("--ffn-keep must be in (0, 1], got " + std::to_string(*o.ffn_keep));
        c.expert_size = std::max<std::int64_t>(
            1, static_cast<std::int64_t>(std::llround(*o.ffn_keep * double(c.expert_size))));
    }
    if (o.channels_keep && c.is_transformer())
        throw Error(
            "--channels-keep: a Transformer has no SSM channels (its FFN units can be "
            "pruned with --ffn-keep)");
    if (o.channels_keep) {
        const double keep = *o.channels_keep;
        const double expand = keep * double(c.ssm_expand);
        const auto rounded = std::llround(expand);
        if (!(keep > 0 && keep <= 1) || rounded < 1 || std::abs(expand - double(rounded)) > 1e-6) {
            std::string valid;
            for (std::int64_t e = 1; e <= c.ssm_expand; ++e) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%s%g (di %lld)", valid.empty() ? "" : ", ",
                              double(e) / double(c.ssm_expand),
                              static_cast<long long>(e * c.hidden_size));
                valid += buf;
            }
            char given[32];
            std::snprintf(given, sizeof given, "%g", keep);
            throw Error(std::string("--channels-keep ") + given +
                        ": the spec defines di = ssm_expand · hidden_size with an integer "
                        "ssm_expand (here " +
                        std::to_string(c.ssm_expand) + " · " + std::to_string(c.hidden_size) +
                        "), so the fractions a valid model can "
                        "keep are " +
                        valid);
        }
        c.ssm_expand = rounded;
    }
    c.validate();
    return c;
}

double loss_without_experts(IteraModel& model, const torch::Tensor& sequences,
                            const std::vector<std::pair<std::int64_t, std::int64_t>>& dropped) {
    return calibration_loss(model, sequences, Dropped(dropped.begin(), dropped.end()), nullptr, {},
                            "");
}

PrunePlan plan_pruning(IteraModel& model, const TokenStream& calibration, const PruneOptions& o,
                       const PruneProgress& progress) {
    PrunePlan plan;
    plan.before = model->config().resolved();
    plan.after = pruned_config(plan.before, o);
    plan.expert_criterion = o.experts ? o.expert_criterion : "";
    model->eval();
    const auto seqs = calibration_sequences(calibration, o);
    plan.calibration_tokens = seqs.size(0) * (seqs.size(1) - 1);
    const auto& c = plan.before;

    Stats stats;
    plan.calibration_loss =
        calibration_loss(model, seqs, {}, &stats, progress, "measuring activations");

    // Experts: load always, sensitivity when it decides.
    Dropped dropped;
    if (o.experts) {
        for (std::int64_t i = 0; i < c.num_layers; ++i) {
            if (!c.is_moe_layer(i)) continue;
            const double slots = std::accumulate(stats.slots[i].begin(), stats.slots[i].end(), 0.0);
            std::vector<ExpertStat> layer;
            for (std::int64_t e = 0; e < c.num_experts; ++e) {
                ExpertStat s;
                s.layer = i;
                s.expert = e;
                s.load = slots > 0 ? stats.slots[i][e] / slots : 0;
                if (o.expert_criterion == "sensitivity")
                    s.delta_loss = calibration_loss(model, seqs, {{i, e}}, nullptr, progress,
                                                    "removing expert " + std::to_string(e) +
                                                        " of layer " + std::to_string(i)) -
                                   plan.calibration_loss;
                layer.push_back(s);
            }
            std::vector<std::size_t> order(layer.size());
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return o.expert_criterion == "load" ? layer[a].load < layer[b].load
                                                    : layer[a].delta_loss < layer[b].delta_loss;
            });
            for (std::int64_t n = 0; n < c.num_experts - *o.experts; ++n) {
                layer[order[n]].kept = false;
                dropped.insert({i, layer[order[n]].expert});
            }
            plan.experts.insert(plan.experts.end(), layer.begin(), layer.end());
            std::vector<std::int64_t> kept;
            for (const auto& s : layer)
                if (s.kept) kept.push_back(s.expert);
            plan.kept_units.emplace_back(ffn_key(i) + ".router", kept);
        }
        // Unit and channel statistics as the pruned routing sees them.
        if (!dropped.empty() && (o.ffn_keep || o.channels_keep))
            calibration_loss(model, seqs, dropped, &stats, progress,
                             "measuring activations without the dropped experts");
    }

    // SSM channels.
    const auto di_after = plan.after.inner_size();
    for (std::int64_t i = 0; i < c.num_layers && !c.is_transformer(); ++i) {
        auto& mixer = *model->layers[i]->mixer;
        auto importance =
            (stats.channel_sq[i] / double(std::max<std::int64_t>(1, stats.tokens))).sqrt() *
            column_norms(mixer.out_proj->weight.detach());
        auto [kept, share] = keep_largest(importance, di_after);
        plan.kept_units.emplace_back("layers." + std::to_string(i) + ".mixer", kept);
        if (o.channels_keep)
            plan.channel_importance_kept.emplace_back("layers." + std::to_string(i) + ".mixer",
                                                      share);
    }

    // FFN and expert hidden units.
    const auto F_after = plan.after.expert_size;
    auto units = [&](const std::string& key, const torch::Tensor& w1, const torch::Tensor& w2) {
        torch::Tensor importance;
        auto it = stats.act.find(key);
        const double weight = stats.act_weight.count(key) ? stats.act_weight[key] : 0.0;
        if (it != stats.act.end() && weight > 0)
            importance = it->second / weight * column_norms(w2);
        else  // never routed to on the calibration text: weights alone
            importance = w1.square().sum(1).sqrt() * column_norms(w2);
        auto [kept, share] = keep_largest(importance, F_after);
        plan.kept_units.emplace_back(key, kept);
        if (o.ffn_keep) plan.ffn_importance_kept.emplace_back(key, share);
    };
    for (std::int64_t i = 0; i < c.num_layers; ++i) {
        auto& ffn = *model->layers[i]->ffn;
        if (auto* moe = dynamic_cast<MoeFfn*>(&ffn)) {
            for (std::int64_t e = 0; e < c.num_experts; ++e) {
                if (dropped.count({i, e})) continue;
                units(expert_key(i, e), moe->experts[e]->w1->weight.detach(),
                      moe->experts[e]->w2->weight.detach());
            }
        } else {
            auto& dense = dynamic_cast<DenseFfn&>(ffn);
            units(ffn_key(i), dense.w1->weight.detach(), dense.w2->weight.detach());
        }
    }
    return plan;
}

IteraModel apply_pruning(IteraModel& model, const PrunePlan& plan) {
    torch::NoGradGuard no_grad;
    IteraModel out(plan.after);
    const auto di = plan.before.inner_size();
    out->embed->weight.copy_(model->embed->weight);
    out->norm_f->weight.copy_(model->norm_f->weight);
    out->norm_f->bias.copy_(model->norm_f->bias);
    auto copy_norm = [](Weights& to, const Weights& from) {
        to->weight.copy_(from->weight);
        to->bias.copy_(from->bias);
    };
    for (std::size_t l = 0; l < model->layers.size(); ++l) {
        const auto i = static_cast<std::int64_t>(l);
        if (model->layers[l]->attn) {
            auto& from = *model->layers[l]->attn;
            auto& to = *out->layers[l]->attn;
            copy_norm(to.norm, from.norm);
            to.qkv_proj->weight.copy_(from.qkv_proj->weight);
            to.out_proj->weight.copy_(from.out_proj->weight);
        } else {
            auto& from = *model->layers[l]->mixer;
            auto& to = *out->layers[l]->mixer;
            const auto ch = index_tensor(kept_of(plan, "layers." + std::to_string(i) + ".mixer"));
            copy_norm(to.norm, from.norm);
            to.in_proj->weight.copy_(
                from.in_proj->weight.index_select(0, torch::cat({ch, ch + di})));  // x half, z half
            to.conv1d->weight.copy_(from.conv1d->weight.index_select(0, ch));
            to.conv1d->bias.copy_(from.conv1d->bias.index_select(0, ch));
            to.x_proj->weight.copy_(from.x_proj->weight.index_select(1, ch));
            to.dt_proj->weight.copy_(from.dt_proj->weight.index_select(0, ch));
            to.dt_proj->bias.copy_(from.dt_proj->bias.index_select(0, ch));
            to.A_log.copy_(from.A_log.index_select(0, ch));
            to.D.copy_(from.D.index_select(0, ch));
            to.out_proj->weight.copy_(from.out_proj->weight.index_select(1, ch));
        }

        auto copy_mlp = [&](Weights& w1, Weights& w2, const Weights& f1, const Weights& f2,
                            const std::string& key) {
            const auto u = index_tensor(kept_of(plan, key));
            w1->weight.copy_(f1->weight.index_select(0, u));
            w2->weight.copy_(f2->weight.index_select(1, u));
        };
        if (auto* moe = dynamic_cast<MoeFfn*>(model->layers[l]->ffn.get())) {
            auto& dst = dynamic_cast<MoeFfn&>(*out->layers[l]->ffn);
            copy_norm(dst.norm, moe->norm);
            std::vector<std::int64_t> experts(static_cast<std::size_t>(plan.before.num_experts));
            std::iota(experts.begin(), experts.end(), 0);
            for (const auto& [k, v] : plan.kept_units)
                if (k == ffn_key(i) + ".router") experts = v;
            dst.router->weight.copy_(moe->router->weight.index_select(0, index_tensor(experts)));
            for (std::size_t e = 0; e < experts.size(); ++e) {
                auto& src = *moe->experts[experts[e]];
                copy_mlp(dst.experts[e]->w1, dst.experts[e]->w2, src.w1, src.w2,
                         expert_key(i, experts[e]));
            }
        } else {
            auto& src = dynamic_cast<DenseFfn&>(*model->layers[l]->ffn);
            auto& dst = dynamic_cast<DenseFfn&>(*out->layers[l]->ffn);
            copy_norm(dst.norm, src.norm);
            copy_mlp(dst.w1, dst.w2, src.w1, src.w2, ffn_key(i));
        }
    }
    out->eval();
    return out;
}

std::string PrunePlan::to_json() const {
    nlohmann::ordered_json j;
    j["before"] = nlohmann::json::parse(before.to_json());
    j["after"] = nlohmann::json::parse(after.to_json());
    j["calibration"] = {
        {"split", "train"}, {"tokens", calibration_tokens}, {"loss", calibration_loss}};
    if (!experts.empty()) {
        j["expert_criterion"] = expert_criterion;
        auto arr = nlohmann::ordered_json::array();
        for (const auto& e : experts)
            arr.push_back({{"layer", e.layer},
                           {"expert", e.expert},
                           {"load", e.load},
                           {"delta_loss", e.delta_loss},
                           {"kept", e.kept}});
        j["experts"] = arr;
    }
    auto shares = [](const std::vector<std::pair<std::string, double>>& v) {
        auto o = nlohmann::ordered_json::object();
        for (const auto& [k, s] : v) o[k] = s;
        return o;
    };
    if (!ffn_importance_kept.empty()) j["ffn_importance_kept"] = shares(ffn_importance_kept);
    if (!channel_importance_kept.empty())
        j["channel_importance_kept"] = shares(channel_importance_kept);
    return j.dump();
}

PruningReport pruning_report(const PrunePlan& plan) {
    PruningReport r;
    r.before = plan.before;
    r.after = plan.after;
    r.expert_criterion = plan.experts.empty() ? std::string() : plan.expert_criterion;
    r.calibration_tokens = plan.calibration_tokens;
    r.calibration_loss = plan.calibration_loss;
    for (const auto& e : plan.experts)
        r.experts.push_back({e.layer, e.expert, e.load, e.delta_loss, e.kept});
    r.ffn_importance_kept = plan.ffn_importance_kept;
    r.channel_importance_kept = plan.channel_importance_kept;
    return r;
}

}  // namespace itera
