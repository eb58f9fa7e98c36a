// Sweeps (docs/sweeps.md): the spec's validation, the samplers, ASHA's rule on
// a synthetic objective, and the store's sweep tables.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "error_of.h"
#include "store/run_store.h"
#include "sweep/asha.h"
#include "sweep/samplers.h"
#include "sweep/sweep_spec.h"
#include "temp_dir.h"

namespace itera {
namespace {

using json = nlohmann::json;
using testing::error_of;

std::string spec_with(const json& patch) {
    json j = {{"base", {{"preset", "micro"}, {"steps", 100}}},
              {"parameters",
               {{"lr", {{"range", {1e-4, 1e-2}}, {"scale", "log"}}},
                {"dropout", {{"values", {0, 0.1, 0.2}}}}}},
              {"method", "random"},
              {"configurations", 8}};
    j.merge_patch(patch);
    return j.dump();
}

TEST(SweepSpec, ReadsAValidSpecAndNamesParametersCanonically) {
    const auto s = SweepSpec::from_json(spec_with(json::object()));
    ASSERT_EQ(s.parameters.size(), 2u);
    EXPECT_EQ(s.parameters[0].name, "model.dropout");  // in the order written (sorted here)
    EXPECT_EQ(s.parameters[1].name, "lr");
    EXPECT_TRUE(s.parameters[1].log);
    EXPECT_FALSE(s.parameters[1].integer);
    EXPECT_EQ(s.trial_count(), 8);
    EXPECT_EQ(s.metric, "val_bits_per_byte");
    EXPECT_FALSE(s.maximize);
    // What it stores reads back the same.
    const auto again = SweepSpec::from_json(s.to_json());
    EXPECT_EQ(again.to_json(), s.to_json());
}

TEST(SweepSpec, RefusesEveryKindOfBadSpecNamingWhatIsWrong) {
    const std::vector<std::pair<json, std::string>> bad = {
        {{{"colour", 1}}, "unknown key \"colour\""},
        {{{"method", "bayes"}}, "method must be"},
        {{{"configurations", 0}}, "configurations"},
        {{{"configurations", 1e9}}, "configurations"},
        {{{"parameters", {{"lr", {{"range", {0.01, 0.001}}}}}}}, "low must be below high"},
        {{{"parameters", {{"lr", {{"range", {0, 0.01}}, {"scale", "log"}}}}}},
         "log range needs low > 0"},
        {{{"parameters", {{"lr", {{"range", {1e-4, 20}}}}}}}, "lr must be in (0, 10]"},
        {{{"parameters", {{"dropout", {{"values", json::array()}}}}}}, "1 to 1000 values"},
        {{{"parameters", {{"dropout", {{"values", {0, 1.5}}}}}}}, "dropout"},
        {{{"parameters", {{"colour", {{"values", {1}}}}}}}, "not a training setting"},
        {{{"parameters", {{"seed", {{"values", {1, 2}}}}}}}, "\"seeds\""},
        {{{"parameters", {{"preset", {{"values", {"huge"}}}}}}}, "huge"},
        {{{"method", "grid"}}, "a grid needs \"values\""},
        {{{"early_stopping", {{"rungs", {50, 20}}}}}, "rungs must increase"},
        {{{"early_stopping", {{"rungs", {50}}, {"reduction", 1}}}}, "reduction"},
        {{{"base", {{"minutes", 5}, {"steps", nullptr}}}, {"early_stopping", {{"rungs", {5}}}}},
         "give the base \"steps\""},
        {{{"base", {{"batch_size", -3}}}}, "batch_size"},
        {{{"objective", {{"metric", "train_loss"}}}}, "objective.metric"},
        {{{"budget", {{"minutes", -1}}}}, "budget.minutes"},
        {{{"tpe", {{"gamma", 1.5}}}}, "tpe.gamma"},
    };
    for (const auto& [patch, expected] : bad) {
        const auto message = error_of([&] { SweepSpec::from_json(spec_with(patch)); });
        EXPECT_NE(message.find(expected), std::string::npos)
            << patch.dump() << " gave \"" << message << "\"";
    }
    for (const std::string text : {"", "{", "[1]", "null", "\"x\"", "{\"parameters\": 3}"})
        EXPECT_NE(error_of([&] { SweepSpec::from_json(text); }).find("sweep spec"),
                  std::string::npos)
            << text;
}

TEST(SweepSpec, TrialSettingsPutTheModelKeysOnThePresetsModel) {
    const json base = {{"preset", "micro"}, {"steps", 50}, {"model", {{"dropout", 0.05}}}};
    const auto s = trial_settings(base, {{"model.num_layers", 3}, {"lr", 0.004}}, 300);
    EXPECT_EQ(s["model"]["vocab_size"], 300);
    EXPECT_EQ(s["model"]["num_layers"], 3);
    EXPECT_DOUBLE_EQ(s["model"]["dropout"].get<double>(), 0.05);
    EXPECT_DOUBLE_EQ(s["lr"].get<double>(), 0.004);
    EXPECT_EQ(s["steps"], 50);
    EXPECT_EQ(s["preset"], "micro");
    // The point's preset wins, its model sized for the vocabulary.
    const auto m = trial_settings(base, {{"preset", "mini"}}, 300);
    EXPECT_EQ(m["preset"], "mini");
    EXPECT_EQ(m["model"]["hidden_size"],
              json::parse(ModelConfig::preset("mini", 300).to_json())["hidden_size"]);
}

TEST(SweepSpec, AnArchitectureIsAModelKeyAndPicksThePresetsModel) {
    const json base = {{"preset", "micro"}, {"steps", 50}};
    const auto t = trial_settings(base, {{"model.arch", "transformer"}, {"lr", 0.004}}, 300);
    EXPECT_EQ(t["model"],
              json::parse(ModelConfig::preset("micro", 300, {kTransformerArch}).to_json()));
    const auto i = trial_settings(base, {{"model.arch", "itera-lite-v2"}}, 300);
    EXPECT_EQ(i["model"]["ssm_state_size"], 8);
    const json tbase = {{"preset", "micro"}, {"steps", 50}, {"model", {{"arch", "transformer"}}}};
    EXPECT_EQ(trial_settings(tbase, {{"model.num_heads", 4}}, 300)["model"]["num_heads"], 4);
    // A spec sweeping both architectures validates each.
    EXPECT_NO_THROW(SweepSpec::from_json(
        spec_with({{"parameters", {{"arch", {{"values", {"itera-lite-v2", "transformer"}}}}}}})));
}

TEST(SweepSamplers, TheGridVisitsEveryPointOnceFirstParameterSlowest) {
    const auto spec = SweepSpec::from_json(
        spec_with({{"method", "grid"},
                   {"configurations", nullptr},
                   {"parameters",
                    {{"lr", {{"values", {0.001, 0.002}}, {"range", nullptr}, {"scale", nullptr}}},
                     {"dropout", {{"values", {0, 0.1, 0.2}}}}}}}));
    ASSERT_EQ(spec.configurations, 6);
    std::set<std::string> seen;
    for (std::int64_t i = 0; i < 6; ++i) seen.insert(grid_point(spec, i).dump());
    EXPECT_EQ(seen.size(), 6u);
    EXPECT_EQ(grid_point(spec, 0)["model.dropout"], 0);
    EXPECT_EQ(grid_point(spec, 1)["lr"], 0.002);  // the last parameter varies fastest
    EXPECT_EQ(grid_point(spec, 2)["model.dropout"], 0.1);
}

TEST(SweepSamplers, RandomPointsStayInTheirRangesAndALogRangeIsUniformInItsLogarithm) {
    auto spec = SweepSpec::from_json(
        spec_with({{"parameters", {{"layers", nullptr}, {"num_layers", {{"range", {1, 6}}}}}}}));
    SweepRng rng(1);
    const int n = 4000;
    int below_geometric_mean = 0;
    std::set<std::int64_t> layers;
    for (int i = 0; i < n; ++i) {
        const auto p = random_point(spec, rng);
        const double lr = p["lr"].get<double>();
        ASSERT_GE(lr, 1e-4);
        ASSERT_LE(lr, 1e-2);
        below_geometric_mean += lr < 1e-3;
        ASSERT_TRUE(p["model.num_layers"].is_number_integer());
        layers.insert(p["model.num_layers"].get<std::int64_t>());
    }
    // Log-uniform on [1e-4, 1e-2]: half below 1e-3. 4,000 draws: sd of the
    // share 0.8 %; 4 sd allowed.
    EXPECT_NEAR(below_geometric_mean / double(n), 0.5, 0.032);
    EXPECT_EQ(layers, (std::set<std::int64_t>{1, 2, 3, 4, 5, 6}));
    // Configuration i is a function of (seed, i): a resumed sweep draws the same.
    EXPECT_EQ(sample_configuration(spec, 5, {}), sample_configuration(spec, 5, {}));
    EXPECT_NE(sample_configuration(spec, 5, {}), sample_configuration(spec, 6, {}));
}

TEST(SweepSamplers, TpeProposesNearerTheOptimumThanRandomDoes) {
    // One log-scaled parameter; the objective is the distance to 1e-3 on the
    // log axis. After 8 random observations TPE's next proposals should land
    // closer than random ones on average.
    auto spec = SweepSpec::from_json(spec_with(
        {{"method", "tpe"}, {"configurations", 40}, {"parameters", {{"dropout", nullptr}}}}));
    auto distance = [](const json& p) {
        return std::abs(std::log10(p["lr"].get<double>()) - std::log10(1e-3));
    };
    std::vector<SweepObservation> seen;
    double tpe_total = 0, random_total = 0;
    for (std::int64_t i = 0; i < 40; ++i) {
        const auto p = sample_configuration(spec, i, seen);
        seen.push_back({p, distance(p)});
        if (i >= spec.tpe_startup) tpe_total += distance(p);
        SweepRng rng(1000 + i);
        if (i >= spec.tpe_startup) random_total += distance(random_point(spec, rng));
    }
    std::printf("mean distance: TPE %.3f, random %.3f decades\n", tpe_total / 32,
                random_total / 32);
    EXPECT_LT(tpe_total, 0.6 * random_total);
}

// A sequential sweep driven by ASHA over a synthetic objective that does not
// change with steps: trial i is worth `worth[i]` at every rung.
struct Simulation {
    std::vector<std::string> actions;  // "S" start, "P3>1" trial 3 promoted to rung 1
    std::vector<AshaTrial> trials;
};

Simulation simulate(const std::vector<double>& worth, std::int64_t reduction) {
    Simulation sim;
    const std::vector<std::int64_t> rungs = {1, 3};
    while (true) {
        const bool more = sim.trials.size() < worth.size();
        const auto a = asha_next(sim.trials, reduction, more);
        if (a.kind == AshaAction::Kind::Done) break;
        EXPECT_NE(a.kind, AshaAction::Kind::Wait);  // nothing runs between actions here
        if (a.kind == AshaAction::Kind::Start) {
            AshaTrial t;
            t.trial = static_cast<std::int64_t>(sim.trials.size());
            t.rung_steps = trial_rungs(rungs, 9);
            t.values = {worth[sim.trials.size()]};
            sim.trials.push_back(t);
            sim.actions.push_back("S");
        } else {
            auto& t = sim.trials[static_cast<std::size_t>(a.trial)];
            EXPECT_EQ(a.rung, t.reached());
            t.values.push_back(worth[static_cast<std::size_t>(a.trial)]);
            sim.actions.push_back("P" + std::to_string(a.trial) + ">" + std::to_string(a.rung));
        }
    }
    return sim;
}

TEST(Asha, StopsExactlyTheTrialsTheRuleSays) {
    // Worked by hand from the rule: a trial at rung k goes on once it ranks
    // within floor(n_k / 3) of the n_k trials that reached rung k; promotions
    // from the highest rung first, else a new trial.
    const auto sim = simulate({5, 3, 8, 1, 9, 2, 7, 4, 6}, 3);
    const std::vector<std::string> expected = {"S", "S",    "S",    "P1>1", "S", "P3>1", "S",
                                               "S", "P5>1", "P3>2", "S",    "S", "S"};
    EXPECT_EQ(sim.actions, expected);
    std::vector<std::int64_t> reached;
    for (const auto& t : sim.trials) reached.push_back(t.reached());
    EXPECT_EQ(reached, (std::vector<std::int64_t>{1, 2, 1, 3, 1, 2, 1, 1, 1}));
    // The rank that stopped trial 1 at rung 1: 3rd of 3, only 1 goes on.
    const auto r = asha_rank(sim.trials, 1, 1, 3);
    EXPECT_EQ(r.rank, 2);
    EXPECT_EQ(r.of, 3);
    EXPECT_EQ(r.kept(), 1);
}

TEST(Asha, AtTheEndTheBestShareOfEveryRungWentOn) {
    // The property behind the rule, over many random objectives and factors.
    SweepRng rng(3);
    for (int round = 0; round < 200; ++round) {
        std::vector<double> worth(2 + rng.next() % 30);
        for (auto& w : worth) w = rng.uniform();
        const std::int64_t reduction = 2 + static_cast<std::int64_t>(rng.next() % 3);
        const auto sim = simulate(worth, reduction);
        for (std::int64_t k = 0; k < 2; ++k)
            for (std::size_t i = 0; i < sim.trials.size(); ++i) {
                if (sim.trials[i].reached() <= k) continue;
                const auto r = asha_rank(sim.trials, i, k, reduction);
                if (r.rank < r.kept()) {
                    EXPECT_GT(sim.trials[i].reached(), k + 1)
                        << "round " << round << " trial " << i;
                }
            }
    }
}

TEST(Asha, TrialRungsEndAtTheTrialsLength) {
    EXPECT_EQ(trial_rungs({100, 300}, 1000), (std::vector<std::int64_t>{100, 300, 1000}));
    EXPECT_EQ(trial_rungs({100, 300}, 200), (std::vector<std::int64_t>{100, 200}));
    EXPECT_EQ(trial_rungs({}, 500), (std::vector<std::int64_t>{500}));
}

TEST(SweepStore, KeepsSweepsAndTrialsAndStopsOneWhoseProcessIsGone) {
    testing::TempDir dir;
    RunStore store(dir.path() / "s.sqlite");
    const auto id = store.create_sweep("lr", R"({"x":1})");
    store.claim_sweep(id);  // this process owns it already: fine
    TrialRecord t;
    t.sweep_id = id;
    t.trial = 0;
    t.params = R"({"lr":0.001,"seed":0})";
    t.status = "waiting";
    t.target_step = 100;
    store.put_trial(t);
    t.status = "stopped";
    t.reason = "stopped early";
    store.put_trial(t);  // replaces
    const auto trials = store.trials(id);
    ASSERT_EQ(trials.size(), 1u);
    EXPECT_EQ(trials[0].status, "stopped");
    EXPECT_EQ(trials[0].reason, "stopped early");
    EXPECT_FALSE(trials[0].run_id);
    EXPECT_EQ(store.request_sweep_stop(id), "stopping");  // its owner (this process) is alive
    store.set_sweep_status(id, "finished");
    EXPECT_EQ(store.request_sweep_stop(id), "finished");  // nothing to stop
    EXPECT_EQ(store.sweep(id).name, "lr");
    EXPECT_FALSE(store.sweep(id).ended_at.empty());
    EXPECT_NE(error_of([&] { store.sweep(99); }).find("no sweep 99"), std::string::npos);
    EXPECT_EQ(store.list_sweeps().size(), 1u);
}

}  // namespace
}  // namespace itera
