#pragma once
// Asynchronous successive halving (ASHA; Li et al., 2018), the sweep's early
// stopping (docs/sweeps.md). Trials run to rungs (step counts); a trial that
// reached rung k goes on to rung k+1 once it ranks among the best
// floor(n_k / reduction) of the n_k trials that have reached rung k. A free
// worker takes the promotion from the highest rung first, else starts a new
// trial; a trial that is never promoted stays stopped at its rung. Pure
// decisions on plain data: the sweep reads the values from the stored
// validation metrics, and a test can feed a synthetic objective.

#include <cstdint>
#include <string>
#include <vector>

namespace itera {

/// What the scheduler knows of one trial.
struct AshaTrial {
    std::int64_t trial = 0;                ///< the trial's index (ties go to the lower)
    std::vector<std::int64_t> rung_steps;  ///< its rungs; the last is its full length
    std::vector<double> values;            ///< the objective at each rung reached, lower better
    bool running = false;                  ///< a segment is in flight
    bool failed = false;
    std::int64_t reached() const { return static_cast<std::int64_t>(values.size()); }
    bool complete() const { return values.size() >= rung_steps.size(); }
};

struct AshaAction {
    enum class Kind {
        Promote,  ///< run `trial` on to rung `rung`
        Start,    ///< start the next new trial
        Wait,     ///< nothing to do until a running trial reports
        Done      ///< nothing runs and nothing can: the sweep is over
    };
    Kind kind = Kind::Done;
    std::int64_t trial = -1;  ///< the index into the trials given (Promote)
    std::int64_t rung = 0;    ///< the rung index to reach (Promote)
};

/// The rungs of a trial of `steps` steps: those of `rungs` below it, then
/// `steps` itself (with no rungs: just `steps`).
std::vector<std::int64_t> trial_rungs(const std::vector<std::int64_t>& rungs, std::int64_t steps);

/// A trial's place at rung `rung`: 0-based rank among the trials that reached
/// it (by value, then index) and their number.
struct AshaRank {
    std::int64_t rank = 0, of = 0;
    std::int64_t kept() const;  ///< how many of them may go on: floor(of / reduction)
    std::int64_t reduction = 3;
};
AshaRank asha_rank(const std::vector<AshaTrial>& trials, std::size_t which, std::int64_t rung,
                   std::int64_t reduction);

/// The next action for a free worker. `can_start`: new trials remain and the
/// budget allows one.
AshaAction asha_next(const std::vector<AshaTrial>& trials, std::int64_t reduction, bool can_start);

}  // namespace itera
