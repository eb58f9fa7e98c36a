#include "sweep/asha.h"

#include <algorithm>

namespace itera {

std::vector<std::int64_t> trial_rungs(const std::vector<std::int64_t>& rungs, std::int64_t steps) {
    std::vector<std::int64_t> out;
    for (auto r : rungs)
        if (r < steps) out.push_back(r);
    out.push_back(steps);
    return out;
}

std::int64_t AshaRank::kept() const {
    return of / reduction;
}

AshaRank asha_rank(const std::vector<AshaTrial>& trials, std::size_t which, std::int64_t rung,
                   std::int64_t reduction) {
    AshaRank r;
    r.reduction = reduction;
    const auto& me = trials[which];
    const auto k = static_cast<std::size_t>(rung);
    for (std::size_t i = 0; i < trials.size(); ++i) {
        const auto& t = trials[i];
        if (t.values.size() <= k) continue;
        ++r.of;
        if (i == which) continue;
        if (t.values[k] < me.values[k] || (t.values[k] == me.values[k] && t.trial < me.trial))
            ++r.rank;
    }
    return r;
}

AshaAction asha_next(const std::vector<AshaTrial>& trials, std::int64_t reduction, bool can_start) {
    std::int64_t top = -1;
    for (const auto& t : trials) top = std::max(top, t.reached() - 1);
    // The highest rung first: the trials closest to a result go on first.
    for (std::int64_t k = top; k >= 0; --k) {
        std::int64_t best = -1;
        for (std::size_t i = 0; i < trials.size(); ++i) {
            const auto& t = trials[i];
            if (t.running || t.failed || t.complete() || t.reached() != k + 1) continue;
            if (asha_rank(trials, i, k, reduction).rank >=
                asha_rank(trials, i, k, reduction).kept())
                continue;
            if (best < 0 ||
                t.values[static_cast<std::size_t>(k)] <
                    trials[static_cast<std::size_t>(best)].values[static_cast<std::size_t>(k)])
                best = static_cast<std::int64_t>(i);
        }
        if (best >= 0) return {AshaAction::Kind::Promote, best, k + 1};
    }
    if (can_start) return {AshaAction::Kind::Start, -1, 0};
    for (const auto& t : trials)
        if (t.running) return {AshaAction::Kind::Wait, -1, 0};
    return {AshaAction::Kind::Done, -1, 0};
}

}  // namespace itera
