#include "train_dist.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "checkpoint_arg.h"
#include "commands.h"
#include "train/recorder.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/threads.h"

namespace itera::cli {
namespace {

int env_int(const char* name, int min, int max) {
    const char* v = std::getenv(name);
    if (!v) throw Error(std::string("distributed: ") + name + " is not set");
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end == v || *end || n < min || n > max)
        throw Error(std::string("distributed: ") + name + "=" + v + " is not a number in [" +
                    std::to_string(min) + ", " + std::to_string(max) + "]");
    return static_cast<int>(n);
}

void parse_address(const std::string& text, DistSettings& s) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw Error("--dist " + text + ": expected HOST:PORT (rank 0's address and port)");
    s.host = text.substr(0, colon);
    if (s.host.size() > 2 && s.host.front() == '[' && s.host.back() == ']')
        s.host = s.host.substr(1, s.host.size() - 2);
    const auto port = text.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (*end || p < 1 || p > 65535)
        throw Error("--dist " + text + ": the port must be a number from 1 to 65535");
    s.port = static_cast<int>(p);
}

}  // namespace

std::optional<DistRequest> dist_request(Args& a, bool with_nproc) {
    DistRequest r;
    std::optional<std::int64_t> nproc;
    if (with_nproc) nproc = a.integer("nproc", 1, 256);
    const auto address = a.text("dist");
    const auto rank = a.integer("rank", 0, 65535);
    const auto world = a.integer("world-size", 1, 65536);
    if (auto t = a.real("dist-timeout", 1, 86400)) r.settings.timeout_s = *t;
    if (auto i = a.text("dist-interface")) r.settings.interface = *i;
    if (nproc && (address || rank || world))
        throw Error(
            "--nproc starts every rank on this machine; --dist, --rank and --world-size "
            "are for runs across machines (give one or the other)");
    if (nproc) {
        if (*nproc == 1) return std::nullopt;
        r.nproc = static_cast<int>(nproc.value_or(1));
        r.settings.host = "127.0.0.1";
        r.settings.port = 0;
        r.settings.rank = 0;
        r.settings.world_size = r.nproc;
        return r;
    }
    if (address || rank || world) {
        if (!address || !rank || !world)
            throw Error(
                "a run across machines needs --dist HOST:PORT, --rank R and "
                "--world-size W together");
        parse_address(*address, r.settings);
        r.settings.rank = static_cast<int>(*rank);
        r.settings.world_size = static_cast<int>(*world);
    } else if (std::getenv("WORLD_SIZE")) {  // torchrun's environment
        r.settings.world_size = env_int("WORLD_SIZE", 1, 65536);
        if (r.settings.world_size == 1) return std::nullopt;
        r.settings.rank = env_int("RANK", 0, 65535);
        r.settings.port = env_int("MASTER_PORT", 1, 65535);
        if (const char* host = std::getenv("MASTER_ADDR")) r.settings.host = host;
    } else {
        return std::nullopt;
    }
    if (r.settings.rank >= r.settings.world_size)
        throw Error("--rank " + std::to_string(r.settings.rank) + " is not below --world-size " +
                    std::to_string(r.settings.world_size));
    if (r.settings.world_size == 1) return std::nullopt;
    return r;
}

int train_worker(const DistRequest& request, Args& a) {
    std::optional<int> threads;
    if (auto v = a.integer("threads", 0, 4096)) threads = static_cast<int>(*v);
    const auto ws = workspace_of(a.text("db"));
    const bool quiet = a.flag("quiet");  // started by rank 0 on this machine
    try {
        a.finish();
    } catch (const Error& e) {
        throw Error(std::string(e.what()) +
                    " (a rank above 0 takes its run, settings and data "
                    "from rank 0: give those options to rank 0)");
    }
    const int rank = request.settings.rank;
    GlooGroup group(request.settings);
    try {
        PublishedRun run;
        try {
            run = take_published_run(group);
        } catch (const Error&) {
            if (quiet) return 1;  // rank 0, on this machine, says why
            throw;
        }
        const auto run_id = run.run_id;
        auto settings = run.settings;
        const auto& spec = run.spec;
        if (threads) settings.threads = *threads;
        CacheBuildOptions prep;
        prep.threads = settings.threads;
        const auto ready = prepare_train_data(ws, spec, prep);
        if (ready.data.tokenizer->fingerprint() != run.tokenizer_fingerprint)
            throw Error("rank " + std::to_string(rank) +
                        ": the data here gives another tokenizer than rank 0's (is the corpus "
                        "the same file on both machines?)");
        group.join();
        if (!quiet)
            std::fprintf(stderr, "rank %d of %d: run %lld, %d threads\n", rank,
                         request.settings.world_size, static_cast<long long>(run_id),
                         set_thread_count(settings.threads));
        TrainControl control;
        catch_stop_signals(&control);
        NullRecorder nothing;
        TrainResult r;
        try {
            r = train_run({run_id, {}, &nothing, &group}, settings, ready.data, &control);
        } catch (...) {
            catch_stop_signals(nullptr);
            throw;
        }
        catch_stop_signals(nullptr);
        if (r.status == RunStatus::Failed) return 1;
        return r.status == RunStatus::Stopped ? 130 : 0;
    } catch (const std::exception& e) {
        group.report_failure(e.what());
        throw;
    }
}

}  // namespace itera::cli
