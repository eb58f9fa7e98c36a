#include "data/tokenize_bench.h"

#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <random>

#include "data/builtin.h"
#include "data/corpus.h"
#include "data/documents.h"
#include "data/token_cache.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace itera {
namespace {

namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Paragraphs (blank-line separated) of every document of `source`.
std::vector<std::string> paragraphs(const CorpusSource& source, std::vector<std::string>& docs) {
    std::vector<std::string> out;
    for_each_document(source, {}, {}, [&](Split, std::string&& doc) {
        std::size_t start = 0;
        while (start < doc.size()) {
            auto end = doc.find("\n\n", start);
            if (end == std::string::npos) end = doc.size();
            if (end > start + 40) out.push_back(doc.substr(start, end - start));
            start = end + 2;
        }
        docs.push_back(std::move(doc));
    });
    return out;
}

}  // namespace

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

TokenizeBenchResult run_tokenize_bench(const TokenizeBenchOptions& o) {
    if (o.corpus_bytes < (1u << 20)) throw Error("tokenize benchmark: corpus size must be >= 1 MB");
    if (o.thread_counts.empty()) throw Error("tokenize benchmark: no thread counts");
    const auto space = fs::space(o.work_dir.has_parent_path() ? o.work_dir.parent_path() : ".");
    const std::uint64_t needed = o.corpus_bytes * (1 + o.thread_counts.size());
    if (space.available < needed)
        throw Error("tokenize benchmark: needs about " + std::to_string(needed >> 20) +
                    " MiB free for the corpus and its caches; " +
                    std::to_string(space.available >> 20) + " MiB are available");
    fs::create_directories(o.work_dir);
    TokenizeBenchResult r;

    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> docs;
    const auto paras = paragraphs(open_corpus(resolve_corpus(o.workspace, o.source)), docs);
    if (paras.empty()) throw Error("tokenize benchmark: " + o.source + " has no paragraphs");
    const auto corpus = o.work_dir / "corpus.txt";
    {
        std::ofstream out(corpus, std::ios::binary | std::ios::trunc);
        std::mt19937_64 rng(o.seed);
        std::uint64_t written = 0, next_report = 0;
        while (written < o.corpus_bytes) {
            const auto& p = paras[rng() % paras.size()];
            out << p << "\n\n";
            written += p.size() + 2;
            if (o.progress && written >= next_report) {
                o.progress("generating", written, o.corpus_bytes);
                next_report += 64u << 20;
            }
        }
        if (!out.flush()) throw Error(corpus.string() + ": write failed (disk full?)");
        r.corpus_bytes = written;
    }
    r.generate_seconds = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    auto tok = train_sentencepiece(TokenizerKind::Bpe, docs, o.vocab_size);
    docs.clear();
    docs.shrink_to_fit();
    r.tokenizer_seconds = seconds_since(t0);
    r.rss_before_kb = peak_rss_kb();

    const auto source = open_corpus(corpus, CorpusFormat::Text);
    for (int threads : o.thread_counts) {
        CacheBuildOptions c;
        c.threads = threads;
        const std::string phase =
            "tokenising, " + std::to_string(threads) + " thread" + (threads == 1 ? "" : "s");
        if (o.progress)
            c.progress = [&](std::uint64_t done, std::uint64_t total) {
                o.progress(phase, done, total);
            };
        const auto dir = o.work_dir / ("cache-" + std::to_string(threads));
        fs::remove_all(dir);
        t0 = std::chrono::steady_clock::now();
        auto info = prepare_token_cache(source, *tok, dir, c);
        TokenizeBenchRun run;
        run.threads = threads;
        run.seconds = seconds_since(t0);
        run.mb_per_s = static_cast<double>(r.corpus_bytes) / 1e6 / run.seconds;
        run.tokens = info.train.tokens + info.validation.tokens;
        run.peak_rss_kb = peak_rss_kb();
        r.runs.push_back(run);
        fs::remove_all(dir);
    }
    return r;
}

}  // namespace itera
