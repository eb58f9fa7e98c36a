#pragma once
// Progress lines of a training run on stderr: one line redrawn on a terminal,
// a line per evaluation and every 30 s in a log.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "commands.h"
#include "progress.h"
#include "train/trainer.h"

namespace itera::cli {

class ProgressPrinter {
public:
    /// `prefix` starts every line (e.g. "student: ").
    explicit ProgressPrinter(std::string prefix = {}) : prefix_(std::move(prefix)) {}
    void operator()(const TrainProgress& p) {
        using K = TrainProgress::Kind;
        if (p.kind == K::Planned || p.kind == K::Paused || p.kind == K::Resumed) {
            line(p.kind == K::Planned ? p.message : p.kind == K::Paused ? "paused" : "resumed");
            return;
        }
        if (p.kind == K::Checkpoint) return;
        const bool eval = p.kind == K::Eval;
        const auto now = std::chrono::steady_clock::now();
        if (!eval && std::chrono::duration<double>(now - last_).count() < (tty_ ? 0.25 : 30.0))
            return;
        last_ = now;
        char buf[256];
        std::string total = p.total_steps ? "/" + std::to_string(p.total_steps) : "";
        int n = std::snprintf(buf, sizeof buf, "%sstep %lld%s", prefix_.c_str(), (long long)p.step,
                              total.c_str());
        if (p.step > 0) n += std::snprintf(buf + n, sizeof buf - n, "  loss %.4f", p.train_loss);
        if (p.eval)
            n += std::snprintf(buf + n, sizeof buf - n, "  val %.4f ppl %.2f bpb %.3f",
                               p.eval->loss, p.eval->perplexity, p.eval->bits_per_byte);
        if (p.tokens_per_s > 0)
            n += std::snprintf(buf + n, sizeof buf - n, "  %s tok/s",
                               with_commas(static_cast<long long>(p.tokens_per_s)).c_str());
        if (p.eta_s > 0)
            std::snprintf(buf + n, sizeof buf - n, "  ETA %s", duration_text(p.eta_s).c_str());
        if (eval || !tty_)
            line(buf);  // a log gets a line every 30 s, a terminal one line redrawn
        else
            std::fprintf(stderr, "\r%-100s", buf);
    }
    void line(const std::string& text) {
        std::fprintf(stderr, tty_ ? "\r%-100s\n" : "%s\n", text.c_str());
    }

private:
    std::string prefix_;
    bool tty_ = isatty(2);
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace itera::cli
