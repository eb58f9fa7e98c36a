#include "report/sweep_view.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace itera {

using json = nlohmann::json;

std::optional<std::pair<double, std::int64_t>> run_objective(RunStore& store, std::int64_t run_id,
                                                             const std::string& metric,
                                                             bool maximize, std::int64_t up_to) {
    std::optional<std::pair<double, std::int64_t>> best;
    for (const auto& p : store.metrics(run_id, metric)) {
        if (up_to >= 0 && p.step > up_to) break;
        if (!std::isfinite(p.value)) continue;
        if (!best || (maximize ? p.value > best->first : p.value < best->first))
            best = {{p.value, p.step}};
    }
    return best;
}

SweepView sweep_view(RunStore& store, std::int64_t id) {
    SweepView v;
    v.record = store.sweep(id);
    v.spec = SweepSpec::from_json(v.record.spec);
    for (auto& t : store.trials(id)) {
        TrialView tv;
        tv.record = t;
        tv.params = json::parse(t.params);
        tv.seed = tv.params.value("seed", std::int64_t{0});
        tv.params.erase("seed");
        if (t.run_id) {
            if (const auto run = store.find_run(*t.run_id)) {
                tv.run_status = run_status_name(run->status);
                if (auto o = run_objective(store, run->id, v.spec.metric, v.spec.maximize)) {
                    tv.objective = o->first;
                    tv.best_step = o->second;
                }
                const auto latest = store.latest_metrics(run->id);
                if (auto it = latest.find("train_loss"); it != latest.end())
                    tv.steps_done = it->second.step;
            }
        }
        v.trials.push_back(std::move(tv));
    }
    for (std::size_t i = 0; i < v.trials.size(); ++i) {
        if (!v.trials[i].objective) continue;
        if (!v.best || (v.spec.maximize ? *v.trials[i].objective > *v.trials[*v.best].objective
                                        : *v.trials[i].objective < *v.trials[*v.best].objective))
            v.best = i;
    }
    return v;
}

std::vector<ConfigurationSummary> summarize_configurations(const SweepView& view) {
    std::vector<ConfigurationSummary> out;
    for (std::size_t i = 0; i < view.trials.size(); ++i) {
        const auto& t = view.trials[i];
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& c) { return c.params == t.params; });
        if (it == out.end()) {
            out.push_back({t.params, {}, 0, 0, 0});
            it = out.end() - 1;
        }
        it->trials.push_back(i);
    }
    for (auto& c : out) {
        std::vector<double> v;
        for (auto i : c.trials)
            if (view.trials[i].objective) v.push_back(*view.trials[i].objective);
        c.measured = v.size();
        if (v.empty()) continue;
        double sum = 0;
        for (double x : v) sum += x;
        c.mean = sum / static_cast<double>(v.size());
        double ss = 0;
        for (double x : v) ss += (x - c.mean) * (x - c.mean);
        c.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
    }
    return out;
}

std::string parameter_text(const json& v) {
    if (v.is_number_float()) return number_text(v.get<double>());
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

std::string parameter_label(const std::string& name) {
    return name.rfind("model.", 0) == 0 ? name.substr(6) : name;
}

}  // namespace itera
