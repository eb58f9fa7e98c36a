#include "sweep/samplers.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace itera {
namespace {

using json = nlohmann::json;

constexpr double kPi = 3.14159265358979323846;

// A range's value at position u in [0, 1] of its (log) axis.
json range_value(const SweepParameter& p, double u) {
    u = std::clamp(u, 0.0, 1.0);
    double v = p.log ? std::exp(std::log(p.lo) + u * (std::log(p.hi) - std::log(p.lo)))
                     : p.lo + u * (p.hi - p.lo);
    if (p.integer) {
        v = std::clamp(std::round(v), std::ceil(p.lo), std::floor(p.hi));
        return static_cast<std::int64_t>(v);
    }
    return std::clamp(v, p.lo, p.hi);
}

std::size_t value_index(const SweepParameter& p, const json& v) {
    for (std::size_t i = 0; i < p.values.size(); ++i)
        if (p.values[i] == v) return i;
    return p.values.size();  // not one of them (an edited spec): counts for none
}

double normal_cdf(double z) {
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// A mixture of Gaussians on [0, 1], each truncated to it, plus a flat prior of
// one kernel's weight: the Parzen density of TPE for one range parameter.
struct Parzen {
    std::vector<double> mu;
    double sigma = 1;

    explicit Parzen(std::vector<double> points) : mu(std::move(points)) {
        // Scott's rule on the unit axis, kept between 1/20 of it and all of it.
        const double n = static_cast<double>(mu.size());
        double mean = 0, var = 0;
        for (double x : mu) mean += x / n;
        for (double x : mu) var += (x - mean) * (x - mean) / n;
        sigma = n > 0 ? std::clamp(1.06 * std::sqrt(var) * std::pow(n, -0.2), 0.05, 1.0) : 1.0;
    }
    double density(double x) const {
        double d = 1.0;  // the prior: uniform on [0, 1]
        for (double m : mu) {
            const double mass = normal_cdf((1 - m) / sigma) - normal_cdf(-m / sigma);
            const double z = (x - m) / sigma;
            d += std::exp(-0.5 * z * z) / (sigma * std::sqrt(2 * kPi)) / mass;
        }
        return d / (static_cast<double>(mu.size()) + 1);
    }
    double sample(SweepRng& rng) const {
        const auto k = static_cast<std::size_t>(rng.uniform() * (mu.size() + 1));
        if (k >= mu.size()) return rng.uniform();
        for (int tries = 0; tries < 64; ++tries) {
            const double x = mu[k] + sigma * rng.normal();
            if (x >= 0 && x <= 1) return x;
        }
        return std::clamp(mu[k], 0.0, 1.0);
    }
};

// Category weights of the points, with one pseudo-count spread over all values.
std::vector<double> category_weights(const SweepParameter& p, const std::vector<json>& points) {
    const double k = static_cast<double>(p.values.size());
    std::vector<double> w(p.values.size(), 1.0 / k);
    for (const auto& pt : points) {
        const auto i = value_index(p, pt.at(p.name));
        if (i < w.size()) w[i] += 1;
    }
    double sum = 0;
    for (double x : w) sum += x;
    for (double& x : w) x /= sum;
    return w;
}

}  // namespace

std::uint64_t SweepRng::next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double SweepRng::uniform() {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double SweepRng::normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: the logarithm is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
}

json grid_point(const SweepSpec& spec, std::int64_t index) {
    json point = json::object();
    for (auto it = spec.parameters.rbegin(); it != spec.parameters.rend(); ++it) {
        const auto n = static_cast<std::int64_t>(it->values.size());
        point[it->name] = it->values[static_cast<std::size_t>(index % n)];
        index /= n;
    }
    return point;
}

json random_point(const SweepSpec& spec, SweepRng& rng) {
    json point = json::object();
    for (const auto& p : spec.parameters) {
        if (p.is_range()) {
            point[p.name] = range_value(p, rng.uniform());
        } else {
            const auto i = static_cast<std::size_t>(rng.uniform() * p.values.size());
            point[p.name] = p.values[std::min(i, p.values.size() - 1)];
        }
    }
    return point;
}

double axis_position(const SweepParameter& p, const json& value) {
    if (!p.is_range()) {
        const auto n = p.values.size();
        return n < 2 ? 0.5 : static_cast<double>(value_index(p, value)) / (n - 1);
    }
    if (!value.is_number()) return 0;
    const double v = value.get<double>();
    if (p.log)
        return (std::log(std::max(v, p.lo)) - std::log(p.lo)) / (std::log(p.hi) - std::log(p.lo));
    return (v - p.lo) / (p.hi - p.lo);
}

json tpe_point(const SweepSpec& spec, const std::vector<SweepObservation>& seen, SweepRng& rng) {
    if (seen.size() < 2) return random_point(spec, rng);
    std::vector<SweepObservation> sorted = seen;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.value < b.value; });
    const auto n_good = std::max<std::size_t>(
        1,
        static_cast<std::size_t>(std::ceil(spec.tpe_gamma * static_cast<double>(sorted.size()))));
    std::vector<json> good, bad;
    for (std::size_t i = 0; i < sorted.size(); ++i)
        (i < n_good ? good : bad).push_back(sorted[i].point);

    json best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::int64_t c = 0; c < spec.tpe_candidates; ++c) {
        json point = json::object();
        double score = 0;
        for (const auto& p : spec.parameters) {
            if (p.is_range()) {
                auto positions = [&](const std::vector<json>& pts) {
                    std::vector<double> out;
                    for (const auto& pt : pts) out.push_back(axis_position(p, pt.at(p.name)));
                    return out;
                };
                const Parzen l(positions(good)), g(positions(bad));
                const double u = l.sample(rng);
                point[p.name] = range_value(p, u);
                const double x = axis_position(p, point[p.name]);  // after rounding
                score += std::log(l.density(x)) - std::log(g.density(x));
            } else {
                const auto wl = category_weights(p, good), wg = category_weights(p, bad);
                double r = rng.uniform();
                std::size_t i = 0;
                while (i + 1 < wl.size() && r >= wl[i]) r -= wl[i++];
                point[p.name] = p.values[i];
                score += std::log(wl[i]) - std::log(wg[i]);
            }
        }
        if (score > best_score) {
            best_score = score;
            best = point;
        }
    }
    return best;
}

json sample_configuration(const SweepSpec& spec, std::int64_t index,
                          const std::vector<SweepObservation>& seen) {
    if (spec.method == SweepMethod::Grid) return grid_point(spec, index);
    SweepRng rng(spec.seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(index) + 1);
    if (spec.method == SweepMethod::Tpe && index >= spec.tpe_startup)
        return tpe_point(spec, seen, rng);
    return random_point(spec, rng);
}

}  // namespace itera
