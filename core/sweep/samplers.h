#pragma once
// Choosing a sweep's configurations (docs/sweeps.md): the grid in order,
// uniform random points, and TPE, a tree-structured Parzen estimator written
// from Bergstra et al. (2011) and Optuna's independent sampler. Configuration
// i draws from its own random stream, a function of (spec seed, i), so a
// resumed sweep samples what it would have sampled; TPE's other input is the
// observations, which are stored.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/sweep_spec.h"

namespace itera {

/// A uniform random source (SplitMix64): the same numbers on every platform,
/// which std::uniform_real_distribution does not promise.
class SweepRng {
public:
    explicit SweepRng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next();
    double uniform();  ///< in [0, 1)
    double normal();   ///< standard normal (Box–Muller)

private:
    std::uint64_t state_;
};

/// A configuration seen with its objective, signed so that lower is better.
struct SweepObservation {
    nlohmann::json point;
    double value = 0;
};

/// The grid's configuration `index`, the first parameter varying slowest.
nlohmann::json grid_point(const SweepSpec& spec, std::int64_t index);

/// Every parameter drawn uniformly (a range in its logarithm when log-scaled).
nlohmann::json random_point(const SweepSpec& spec, SweepRng& rng);

/// TPE: the observations are split at the best `gamma` share; for each
/// parameter a Parzen density of the good ones, l(x), and of the rest, g(x),
/// each with a broad prior, are fitted; `candidates` points drawn from l are
/// scored by the sum over parameters of log l(x) − log g(x), and the best is
/// returned. Fewer than two observations: a random point.
nlohmann::json tpe_point(const SweepSpec& spec, const std::vector<SweepObservation>& seen,
                         SweepRng& rng);

/// Configuration `index` as the spec's method chooses it: the grid's point,
/// a random point, or (TPE, past its `tpe_startup` random ones) TPE's.
nlohmann::json sample_configuration(const SweepSpec& spec, std::int64_t index,
                                    const std::vector<SweepObservation>& seen);

/// Where a value lies on its parameter's axis, in [0, 1] (log axis for log
/// ranges; a list's values are evenly spaced in their order). For charts.
double axis_position(const SweepParameter& p, const nlohmann::json& value);

}  // namespace itera
