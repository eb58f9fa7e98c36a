// The report generator on a fixed run store, compared with golden Markdown
// files (tests/golden/report_*.md). Set ITERA_UPDATE_GOLDEN=1 to rewrite them
// after an intended change, and review the diff.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "model/config.h"
#include "png_decode.h"
#include "report/png.h"
#include "report/report.h"
#include "store/run_store.h"
#include "temp_dir.h"
#include "util/error.h"

namespace itera {
namespace {

ReportEnvironment fixed_environment() {
    ReportEnvironment env;
    env.generated_at = "2026-11-27 12:00 UTC";
    env.cpu = "Test CPU @ 1.00GHz";
    env.cores = 2;
    env.blas = "OpenBLAS (openmp)";
    env.versions = "itera 0.1.0; libtorch 1.13.0; sqlite 3.40.1";
    env.git_revision = "0123456789ab";
    return env;
}

void touch(const std::filesystem::path& p, std::size_t bytes) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << std::string(bytes, 'x');
}

std::int64_t make_run(RunStore& store, const std::string& name, double lr, double speed) {
    NewRun r;
    r.name = name;
    auto config = nlohmann::ordered_json::parse(ModelConfig::preset("micro", 256).to_json());
    r.config_json =
        nlohmann::ordered_json{{"model", config},   {"preset", "micro"}, {"batch_size", 4},
                               {"seq_len", 32},     {"lr", lr},          {"steps", 40},
                               {"warmup_steps", 5}, {"threads", 0}}
            .dump(2);
    r.preset = "micro";
    r.dataset = nlohmann::ordered_json{
        {"corpus", "tiny-stories-sample"},
        {"format", "text"},
        {"tokenizer", "byte"},
        {"vocab_size", 256},
        {"validation_fraction", 0.1},
        {"split_seed", 0},
        {"train_tokens", 51200},
        {"validation_tokens", 5120},
        {"validation_bytes",
         5120}}.dump();
    r.tokenizer = "bytes-v1";
    r.seed = 7;
    r.library_versions = "itera 0.1.0; libtorch 1.13.0; sqlite 3.40.1";
    r.git_revision = "fedcba987654";
    const auto id = store.create_run(r);
    store.start_run(id);
    std::vector<MetricPoint> points;
    for (int step = 1; step <= 40; ++step) {
        const std::int64_t tokens = step * 128;
        const double wall = step * 128 / speed;
        const double loss =
            5.5 * std::exp(-step / (30.0 * lr / 0.002)) + 1.0 + 0.05 * std::sin(step);
        points.push_back({step, tokens, wall, "train_loss", loss});
        points.push_back({step, tokens, wall, "lr", lr * std::min(1.0, step / 5.0)});
        points.push_back({step, tokens, wall, "tokens_per_s", speed + step % 3});
        if (step % 10 == 0) {
            const double val = loss + 0.2 + (step == 40 ? 0.1 : 0.0);
            points.push_back({step, tokens, wall, "val_loss", val});
            points.push_back({step, tokens, wall, "val_perplexity", std::exp(val)});
            points.push_back({step, tokens, wall, "val_bits_per_byte", val / std::log(2.0)});
        }
    }
    store.append_metrics(id, points);
    store.set_status(id, RunStatus::Finished);
    return id;
}

struct Fixture {
    testing::TempDir dir;
    std::filesystem::path db = dir.path() / "runs.sqlite";
    std::int64_t a = 0, b = 0;
    std::filesystem::path best;

    Fixture() {
        RunStore store(db);
        a = make_run(store, "micro baseline", 0.002, 1000);
        b = make_run(store, "micro | faster lr", 0.004, 1200);
        best = store.run_dir(a) / "best.safetensors";
        touch(best, 2000);
        const auto latest = store.run_dir(a) / "checkpoints" / "step-000040" / "model.safetensors";
        touch(latest, 2000);
        store.add_checkpoint({a, 30, "best", best.string(), 2000, std::string(64, 'a'), 1.7});
        store.add_checkpoint({a, 40, "latest", latest.string(), 2000, std::string(64, 'b'), 1.9});
        store.add_tag(a, "golden");
        store.set_notes(a, "First line.\nSecond line, with a | pipe and *stars*.");

        const auto int8 = dir.path() / "models" / "a-int8.safetensors";
        touch(int8, 600);
        auto compression = [&](const std::string& method, const std::filesystem::path& path,
                               std::int64_t bytes, bool evaluated, double dppl) {
            nlohmann::json j = {
                {"method", method},
                {"source", best.string()},
                {"path", path.string()},
                {"source_bytes", 2000},
                {"bytes", bytes},
                {"ratio", 2000.0 / bytes},
                {"bpw", 32.0 * bytes / 2000},
                {"source_decode_tokens_per_s", 5000.0},
                {"decode_tokens_per_s", 5000.0 + bytes},
                {"source_prefill_tokens_per_s", 20000.0},
                {"prefill_tokens_per_s", 19000.0},
                {"timing",
                 {{"rounds", 5}, {"threads", 1}, {"decode_tokens", 512}, {"prefill_tokens", 512}}}};
            if (evaluated) {
                j["eval"] = {{"data", "tiny-stories-sample"},
                             {"split", "validation"},
                             {"tokens", 5120},
                             {"bytes", 5120}};
                j["source_perplexity"] = 5.5;
                j["perplexity"] = 5.5 * (1 + dppl / 100);
                j["delta_ppl_pct"] = dppl;
                j["source_bits_per_byte"] = 2.459;
                j["bits_per_byte"] = 2.459 + dppl / 100;
                j["kld"] = dppl / 50;
                j["top1_agreement"] = 1 - dppl / 20;
            }
            CompressionRecord r;
            r.run_id = a;
            r.source_path = best.string();
            r.method = method;
            r.report = CompressionReport::from_json(j.dump());
            if (method == "int8") {  // measured with the statistics and paired timings
                QualityStats st;
                st.tokens = 5120;
                st.ppl_base = 5.5;
                st.ppl = 5.51375;
                st.ln_ppl_ratio = std::log1p(0.0025);
                st.ln_ppl_ratio_unc = 0.0009;
                st.kld_mean = 0.005;
                st.kld_unc = 0.0002;
                st.kld = {0,     0.0001, 0.0003, 0.0005, 0.001, 0.003,
                          0.006, 0.011,  0.016,  0.03,   0.06,  0.09};
                st.dp_mean = -0.0004;
                st.dp_unc = 0.0001;
                st.dp_rms = 0.008;
                st.dp = {-0.09, -0.03, -0.012, -0.008, -0.003, 0,
                         0.002, 0.007, 0.011,  0.025,  0.06,   0.08};
                st.same_top = 0.9875;
                st.same_top_unc = 0.0016;
                r.report.statistics = st;
                PairedSpeedReport sp;
                sp.threads = 1;
                sp.pairs = 5;
                sp.decode_tokens = 512;
                sp.prompt_tokens = 512;
                sp.batch = 8;
                sp.batch_tokens = 64;
                auto rate = [](std::vector<double> a, std::vector<double> b) {
                    PairedRate x;
                    x.a = std::move(a);
                    x.b = std::move(b);
                    x.summarise();
                    return x;
                };
                sp.decode = rate({5000, 4800, 5100, 4900, 5050}, {5600, 5500, 5650, 5400, 5700});
                sp.prefill =
                    rate({20000, 19000, 21000, 20500, 19800}, {19000, 18500, 19900, 19400, 18800});
                sp.batched =
                    rate({30000, 29000, 31000, 30500, 29800}, {36000, 35500, 37000, 36100, 35800});
                r.report.paired = sp;
            }
            r.path = path.string();
            r.bytes = bytes;
            r.sha256 = std::string(64, 'c');
            store.add_compression(r);
        };
        compression("f16", dir.path() / "models" / "a-f16.safetensors", 1000, false, 0);
        compression("int8", int8, 600, true, 0.25);
        compression("int4", dir.path() / "models" / "a-int4.safetensors", 350, true, 3.5);
        compression("nf4", dir.path() / "models" / "a-nf4.safetensors", 360, true, 2.0);
        {  // a mixed-precision model: its plan and predicted figures
            const auto mixed = dir.path() / "models" / "a-mixed.safetensors";
            touch(mixed, 450);
            nlohmann::json j = {
                {"method", "mixed"},
                {"source_bytes", 2000},
                {"bytes", 450},
                {"ratio", 2000.0 / 450},
                {"bpw", 6.5},
                {"perplexity", 5.56},
                {"delta_ppl_pct", 1.1},
                {"kld", 0.02},
                {"top1_agreement", 0.93},
                {"plan",
                 {{{"group", "embed"},
                   {"scheme", "int8"},
                   {"group_size", 64},
                   {"bytes", 250},
                   {"predicted_delta_loss", 0.004}},
                  {{"group", "layers.0.mixer.in_proj"},
                   {"scheme", "int4"},
                   {"group_size", 64},
                   {"bytes", 120},
                   {"predicted_delta_loss", 0.006}}}},
                {"predicted_bytes", 440},
                {"predicted_kld", 0.018},
                {"noise_floor", 0.0004},
                {"above_noise", 0.95},
                {"plan_candidates",
                 {{{"name", "plan"},
                   {"bytes", 450},
                   {"kld", 0.019},
                   {"kld_unc", 0.001},
                   {"meets_target", true}},
                  {{"name", "int8"},
                   {"bytes", 600},
                   {"kld", 0.005},
                   {"kld_unc", 0.0003},
                   {"meets_target", false}},
                  {{"name", "int4"},
                   {"bytes", 350},
                   {"kld", 0.07},
                   {"kld_unc", 0.003},
                   {"meets_target", true}}}},
                {"chosen", "plan"},
                {"reason",
                 "the plan meets the target with the least divergence among the "
                 "candidates measured on the calibration text"},
                {"predicted_delta_ppl_pct", 1.005},
                {"calibration",
                 {{"data", "tiny-stories-sample"}, {"split", "train"}, {"tokens", 8192}}}};
            CompressionRecord r;
            r.run_id = a;
            r.source_path = best.string();
            r.method = "mixed";
            r.report = CompressionReport::from_json(j.dump());
            r.path = mixed.string();
            r.bytes = 450;
            r.sha256 = std::string(64, 'd');
            store.add_compression(r);
        }

        auto generation = [&](const std::filesystem::path& model, const std::string& prompt,
                              const std::string& output, const std::string& pair) {
            GenerationRecord g;
            g.run_id = a;
            g.model_path = model.string();
            g.prompt = prompt;
            nlohmann::ordered_json s = {{"temperature", 0.8},
                                        {"top_k", 40},
                                        {"seed", 1},
                                        {"max_tokens", 20},
                                        {"stop_reason", "max_tokens"},
                                        {"decode_tokens_per_s", 1234.5},
                                        {"source", "playground"}};
            if (!pair.empty()) s["pair"] = pair;
            g.settings = s.dump();
            g.output = output;
            g.tokens = 20;
            g.seconds = 0.02;
            store.add_generation(g);
        };
        // A pair made before the "pair" key existed (adjacent records), then a keyed one.
        generation(best, "Once upon", " a time there was a cat.", "");
        generation(int8, "Once upon", " a time there was a dog.", "");
        generation(best, "The ``code`` fence", " stays ``` intact", "k1");
        generation(int8, "The ``code`` fence", " stays ``` intact", "k1");
        // A long output: clipped in the section, whole in the appendix.
        std::string long_output;
        for (int i = 0; i < 70; ++i) long_output += " the whale" + std::to_string(i % 10);
        generation(best, "Call me", long_output, "k2");
        generation(int8, "Call me", " Ishmael.", "k2");
    }

    /// Times set by the store are fixed so the golden files can hold them.
    void fix_times() const {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "UPDATE runs SET created_at = '2026-11-20T10:00:00Z', "
                               "started_at = '2026-11-20T10:00:01Z', ended_at = "
                               "'2026-11-20T10:05:00Z'; UPDATE generations SET created_at = "
                               "'2026-11-21T09:00:0' || id || 'Z';",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(raw);
    }
};

std::string normalised(std::string text, const std::filesystem::path& tmp) {
    for (auto at = text.find(tmp.string()); at != std::string::npos; at = text.find(tmp.string()))
        text.replace(at, tmp.string().size(), "$TMP");
    // Run folders are named by the store's random id.
    static const std::regex store_folder("/runs/[0-9a-f]{8}/");
    return std::regex_replace(text, store_folder, "/runs/<store>/");
}

void expect_golden(const std::string& name, const std::string& text) {
    const std::filesystem::path path = std::filesystem::path(ITERA_GOLDEN_DIR) / name;
    if (const char* update = std::getenv("ITERA_UPDATE_GOLDEN"); update && *update == '1') {
        std::ofstream(path, std::ios::binary) << text;
        return;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "missing golden file " << path << " (run with ITERA_UPDATE_GOLDEN=1)";
    std::stringstream golden;
    golden << in.rdbuf();
    EXPECT_EQ(text, golden.str()) << "the report differs from " << path;
}

ReportOptions options(const std::string& prefix) {
    ReportOptions o;
    o.image_prefix = prefix;
    o.environment = fixed_environment();
    o.chart_width = 320;
    o.chart_height = 200;
    return o;
}

TEST(ReportGolden, RunReport) {
    Fixture f;
    f.fix_times();
    RunStore store(f.db);
    const auto report = run_report(store, f.a, options("run1"));
    expect_golden("report_run.md", normalised(report.markdown, f.dir.path()));
    std::vector<std::string> names;
    for (const auto& i : report.images) names.push_back(i.file_name);
    EXPECT_EQ(names, (std::vector<std::string>{"run1-loss.png", "run1-perplexity.png",
                                               "run1-lr.png", "run1-compression.png"}));
}

TEST(ReportGolden, CompareReport) {
    Fixture f;
    f.fix_times();
    RunStore store(f.db);
    const auto report = compare_report(store, {f.a, f.b}, options("cmp"));
    expect_golden("report_compare.md", normalised(report.markdown, f.dir.path()));
    EXPECT_EQ(report.images.size(), 4u);
}

TEST(ReportGolden, CompressionReport) {
    Fixture f;
    f.fix_times();
    RunStore store(f.db);
    const auto report = compression_report(store, f.best, options("c"));
    expect_golden("report_compression.md", normalised(report.markdown, f.dir.path()));
    ASSERT_EQ(report.images.size(), 1u);
}

TEST(Report, WritesChartsBesideTheMarkdownAndLinksThemRelatively) {
    Fixture f;
    RunStore store(f.db);
    const auto out = f.dir.path() / "out" / "my report.md";
    std::filesystem::create_directories(out.parent_path());
    auto o = options(image_prefix_for(out));
    EXPECT_EQ(o.image_prefix, "my-report");
    const auto report = run_report(store, f.a, o);
    write_report(report, out);
    std::ifstream in(out);
    std::stringstream md;
    md << in.rdbuf();
    EXPECT_EQ(md.str(), report.markdown);
    for (const auto& image : report.images) {
        EXPECT_NE(md.str().find("](" + image.file_name + ")"), std::string::npos)
            << image.file_name;
        std::ifstream png(out.parent_path() / image.file_name, std::ios::binary);
        std::stringstream bytes;
        bytes << png.rdbuf();
        const auto decoded = testing::decode_png(bytes.str());
        EXPECT_EQ(decoded.width, image.image.width());
        EXPECT_EQ(decoded.rgb, image.image.rgb());
    }
    // No temporary files are left behind.
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(out.parent_path())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, static_cast<int>(report.images.size()) + 1);
}

TEST(Report, BadRequestsNameWhatIsWrong) {
    Fixture f;
    RunStore store(f.db);
    try {
        run_report(store, 99);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no run 99"), std::string::npos) << e.what();
    }
    EXPECT_THROW(compare_report(store, {f.a}), Error);
    EXPECT_THROW(compare_report(store, {f.a, f.a}), Error);
    try {
        compression_report(store, f.dir.path() / "nothing.safetensors");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no compressions of"), std::string::npos);
    }
    EXPECT_THROW(write_report(run_report(store, f.a, options("x")), f.dir.path() / "no" / "r.md"),
                 Error);
}

}  // namespace
}  // namespace itera
