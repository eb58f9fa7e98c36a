// `itera`: the headless command-line front end of the workbench.

#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "util/error.h"
#include "util/log.h"
#include "util/workspace.h"

namespace {

constexpr const char* kUsage = R"(usage: itera <command> [options]

Commands:
  model info    parameter count and shapes of a preset, config or checkpoint
  model init    write a freshly initialised model checkpoint (.safetensors)
  bench train   training throughput (forward + backward + AdamW) in tokens/s
  data inspect  read a corpus as training will: format, files, documents per split
  data prepare  train a tokenizer and build the token cache of a corpus
  data corpora  the built-in corpora and where they are installed
  train         train a model on a corpus; every run is kept in the run store
  runs          list, show, export, tag, note and delete stored runs
  sweep         many runs as one experiment: grid, random or TPE, ASHA early stopping
  generate      continue a prompt with a checkpoint, streaming the text
  score         per-token log-probabilities of a text under a checkpoint
  eval          perplexity and bits/byte of a checkpoint on held-out text
  bench decode  decoding and prefill speed of a checkpoint
  compress      f16 / bf16 / int8 / int4 / nf4 / mixed copy of a checkpoint, with what it cost
  prune         a smaller model cut by measured importance (experts, FFN units, SSM channels)
  distill       a student preset trained from a teacher, and the same student without it
  serve         HTTP inference server: /infer, /v1/completions, /feedback, /metrics
  bench serve   load test of the server: requests/s, tokens/s, latency, memory
  adapt         fine-tune on well-rated served answers, validated before and after
  inspect       every tensor of a checkpoint file: name, shape, dtype, bytes
  report        Markdown report (with PNG charts) of a run, a comparison or a compression

Options:
  --help        show help (also after a command: itera model --help)
  --version     print the version

Examples:
  itera model info --preset mini --vocab-size 4096
  itera model init --preset micro --vocab-size 512 --seed 1 --out micro.safetensors
  itera bench train --preset mini --vocab-size 4096 --batch-size 16 --seq-len 128
  itera data inspect --data moby-dick
  itera train --preset mini --data moby-dick --minutes 10
  itera runs list
  itera generate run:1 --prompt "Call me Ishmael." --max-tokens 100
  itera eval run:1
  itera report 1 --out run1.md
  itera sweep start sweep.json
)";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kUsage;
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::cout << "itera " << ITERA_VERSION << "\n";
        return 0;
    }
    const std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    itera::open_log(itera::Workspace::standard().log_dir(), "itera");
    std::string line = "itera";
    for (const auto& a : args) line += " " + a;
    itera::log_line("info", line);
    try {
        if (command == "model") return itera::cli::model_command(rest);
        if (command == "bench") return itera::cli::bench_command(rest);
        if (command == "data") return itera::cli::data_command(rest);
        if (command == "train") return itera::cli::train_command(rest);
        if (command == "runs") return itera::cli::runs_command(rest);
        if (command == "sweep") return itera::cli::sweep_command(rest);
        if (command == "generate") return itera::cli::generate_command(rest);
        if (command == "score") return itera::cli::score_command(rest);
        if (command == "eval") return itera::cli::eval_command(rest);
        if (command == "compress") return itera::cli::compress_command(rest);
        if (command == "inspect") return itera::cli::inspect_command(rest);
        if (command == "report") return itera::cli::report_command(rest);
        if (command == "prune") return itera::cli::prune_command(rest);
        if (command == "distill") return itera::cli::distill_command(rest);
        if (command == "serve") return itera::cli::serve_command(rest);
        if (command == "adapt") return itera::cli::adapt_command(rest);
        std::cerr << "itera: unknown command \"" << command << "\" (see itera --help)\n";
        return 2;
    } catch (const itera::Error& e) {
        itera::log_line("error", e.what());
        std::cerr << "itera: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        itera::log_line("error", std::string("internal error: ") + e.what());
        std::cerr << "itera: internal error: " << e.what() << "\n";
        return 3;
    }
}
