#pragma once
// The token-cache benchmark of the data issue: generate an English corpus of a
// given size (random paragraphs of a built-in corpus), train a BPE tokenizer,
// then build the token cache with each thread count and report MB/s, tokens
// and the process's peak RSS. Used by `itera bench tokenize`.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "util/workspace.h"

namespace itera {

struct TokenizeBenchOptions {
    std::filesystem::path work_dir;  ///< gets corpus.txt and one cache per run
    std::uint64_t corpus_bytes = 1ull << 30;
    std::string source = "moby-dick";  ///< paragraphs are drawn from this corpus
    Workspace workspace;               ///< where built-in corpora are installed
    std::int32_t vocab_size = 4096;
    std::vector<int> thread_counts = {1, 2};
    std::uint64_t seed = 0;
    /// (phase, bytes done, bytes total)
    std::function<void(const std::string&, std::uint64_t, std::uint64_t)> progress;
};

struct TokenizeBenchRun {
    int threads = 0;
    double seconds = 0;
    double mb_per_s = 0;  ///< corpus MB (10^6 bytes) per second
    std::uint64_t tokens = 0;
    long peak_rss_kb = 0;  ///< process peak after this run (monotone over runs)
};

struct TokenizeBenchResult {
    std::uint64_t corpus_bytes = 0;
    double generate_seconds = 0, tokenizer_seconds = 0;
    long rss_before_kb = 0;  ///< peak RSS before tokenising (LibTorch, tokenizer loaded)
    std::vector<TokenizeBenchRun> runs;
};

TokenizeBenchResult run_tokenize_bench(const TokenizeBenchOptions& options);

/// Peak resident set size of this process so far, in KiB.
long peak_rss_kb();

}  // namespace itera
