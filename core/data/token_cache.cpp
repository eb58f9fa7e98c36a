#include "data/token_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/file_lock.h"
#include "util/threads.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace itera {
namespace {

constexpr int kCacheVersion = 1;

const char* split_file(Split s) {
    return s == Split::Train ? "train.bin" : "validation.bin";
}

json file_list(const std::vector<fs::path>& files) {
    json out = json::array();
    for (const auto& f : files) {
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0) throw Error(f.string() + ": cannot stat");
        out.push_back({{"path", fs::absolute(f).string()},
                       {"size", static_cast<std::uint64_t>(st.st_size)},
                       {"mtime_ns", static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                                        st.st_mtim.tv_nsec}});
    }
    return out;
}

json identity(const CorpusSource& src, const SplitSettings& split, const ReadOptions& read) {
    const bool own = !src.validation_files.empty();
    return {{"format", corpus_format_name(src.format)},
            {"document_per_file", src.document_per_file},
            {"train_files", file_list(src.train_files)},
            {"validation_files", file_list(src.validation_files)},
            {"validation_fraction", own ? 0.0 : split.validation_fraction},
            {"seed", own ? 0 : split.seed},
            {"replace_invalid_utf8", read.replace_invalid_utf8}};
}

// Everything a cache depends on; a cache is reused only when this matches.
json cache_key(const CorpusSource& src, const Tokenizer& tok, const CacheBuildOptions& o,
               int width) {
    return {{"version", kCacheVersion},       {"corpus", identity(src, o.split, o.read)},
            {"tokenizer", tok.fingerprint()}, {"tokenizer_kind", tokenizer_kind_name(tok.kind())},
            {"vocab_size", tok.vocab_size()}, {"bytes_per_token", width}};
}

json read_manifest(const fs::path& dir) {
    std::ifstream in(dir / "manifest.json");
    if (!in) return {};
    try {
        return json::parse(in);
    } catch (const json::exception&) {
        return {};  // a damaged manifest means "rebuild"
    }
}

// A count of the manifest: a non-negative integer, 0 when absent or not one.
std::uint64_t count_of(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return 0;
    return j[key].get<std::uint64_t>();
}

SplitTokens counts_from(const json& j) {
    SplitTokens s;
    s.documents = count_of(j, "documents");
    s.bytes = count_of(j, "bytes");
    s.tokens = count_of(j, "tokens");
    return s;
}

bool files_match(const fs::path& dir, const json& m, int width) {
    for (auto s : {Split::Train, Split::Validation}) {
        std::error_code ec;
        auto size = fs::file_size(dir / split_file(s), ec);
        const auto* c = m.is_object() ? &m[s == Split::Train ? "train" : "validation"] : nullptr;
        if (ec || !c || !c->is_object() || size % width != 0 ||
            size / width != count_of(*c, "tokens"))
            return false;
    }
    return true;
}

// Appends ids of one split to a temporary file, narrowing to the cache width.
class SplitWriter {
public:
    SplitWriter(fs::path path, int width)
        : path_(std::move(path)), width_(width), out_(path_, std::ios::binary | std::ios::trunc) {
        if (!out_) throw Error(path_.string() + ": cannot create");
    }
    void append(const std::vector<std::int32_t>& ids) {
        buf_.resize(ids.size() * width_);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const auto v = static_cast<std::uint32_t>(ids[i]);
            for (int b = 0; b < width_; ++b) buf_[i * width_ + b] = static_cast<char>(v >> (8 * b));
        }
        out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
        if (!out_) throw Error(path_.string() + ": write failed (disk full?)");
    }
    void close() {
        out_.flush();
        out_.close();
        if (!out_) throw Error(path_.string() + ": write failed");
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
    int width_;
    std::ofstream out_;
    std::vector<char> buf_;
};

}  // namespace

std::string corpus_identity(const CorpusSource& source, const SplitSettings& split,
                            const ReadOptions& read) {
    return identity(source, split, read).dump();
}

TokenCacheInfo prepare_token_cache(const CorpusSource& source, const Tokenizer& tok,
                                   const fs::path& dir, const CacheBuildOptions& o) {
    TokenCacheInfo info;
    info.dir = dir;
    info.bytes_per_token = tok.vocab_size() <= 65536 ? 2 : 4;
    const auto key = cache_key(source, tok, o, info.bytes_per_token);
    // One builder at a time: a second program preparing the same cache waits,
    // then finds it built.
    fs::create_directories(dir);
    const FileLock lock(dir / ".cache.lock", o.cancel);
    if (auto m = read_manifest(dir); m.is_object() && m.value("key", json()) == key &&
                                     files_match(dir, m, info.bytes_per_token)) {
        info.train = counts_from(m["train"]);
        info.validation = counts_from(m["validation"]);
        info.reused = true;
        return info;
    }

    const auto t0 = std::chrono::steady_clock::now();
    fs::remove(dir / "manifest.json");  // from here on the old cache is invalid
    const int threads = o.threads > 0 ? o.threads : default_thread_count();
    const auto suffix = ".tmp-" + std::to_string(::getpid());
    SplitWriter train(dir / ("train.bin" + suffix), info.bytes_per_token),
        valid(dir / ("validation.bin" + suffix), info.bytes_per_token);
    auto cleanup = [&] {
        std::error_code ec;
        fs::remove(train.path(), ec);
        fs::remove(valid.path(), ec);
    };
    try {
        std::vector<std::pair<Split, std::string>> batch;
        std::size_t batch_bytes = 0;
        std::uint64_t done = 0;
        auto flush = [&] {
            if (o.cancel && o.cancel->load()) throw Error("token cache: cancelled");
            std::vector<std::vector<std::int32_t>> ids(batch.size());
            // Documents are independent: tokenise them in parallel, write in order. The
            // thread count is explicit (not LibTorch's global setting, which callers may
            // not have raised from its default of 1 here).
            const auto n = static_cast<std::int64_t>(batch.size());
            std::exception_ptr failure;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
            for (std::int64_t i = 0; i < n; ++i) {
                try {
                    ids[i] = tok.encode(batch[i].second);
                } catch (...) {  // exceptions must not leave an OpenMP region
#pragma omp critical(itera_token_cache_failure)
                    if (!failure) failure = std::current_exception();
                }
            }
            if (failure) std::rethrow_exception(failure);
            for (std::size_t i = 0; i < batch.size(); ++i) {
                ids[i].push_back(tok.eos_id());  // end of document
                auto& counts = batch[i].first == Split::Train ? info.train : info.validation;
                counts.documents += 1;
                counts.bytes += batch[i].second.size();
                counts.tokens += ids[i].size();
                (batch[i].first == Split::Train ? train : valid).append(ids[i]);
                done += batch[i].second.size();
            }
            batch.clear();
            batch_bytes = 0;
            if (o.progress) o.progress(done, source.bytes);
        };
        for_each_document(source, o.read, o.split, [&](Split s, std::string&& doc) {
            batch_bytes += doc.size();
            batch.emplace_back(s, std::move(doc));
            if (batch_bytes >= o.chunk_bytes * static_cast<std::size_t>(threads)) flush();
        });
        flush();
        train.close();
        valid.close();
        if (info.train.documents == 0)
            throw Error(source.name + ": no document landed in the training split");
        fs::rename(train.path(), dir / "train.bin");
        fs::rename(valid.path(), dir / "validation.bin");
    } catch (...) {
        cleanup();
        throw;
    }
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto split_json = [](const SplitTokens& s) {
        return json{{"documents", s.documents}, {"bytes", s.bytes}, {"tokens", s.tokens}};
    };
    json manifest = {{"key", key},
                     {"train", split_json(info.train)},
                     {"validation", split_json(info.validation)},
                     {"build_seconds", info.seconds}};
    write_file_atomically(dir / "manifest.json", manifest.dump(2));
    return info;
}

std::shared_ptr<const TokenStream> TokenStream::open(const fs::path& dir, Split split) {
    auto m = read_manifest(dir);
    if (!m.is_object() || !m.contains("key") || !m["key"].is_object())
        throw Error(dir.string() + ": no valid token cache (manifest.json missing or damaged)");
    const auto& key = m["key"];
    // Compared as the JSON's own integer, never narrowed first (4294967298 is not 2).
    const auto* w = key.contains("bytes_per_token") ? &key["bytes_per_token"] : nullptr;
    const int width = w && (*w == 2 || *w == 4) && w->is_number_integer() ? w->get<int>() : 0;
    if (width != 2 && width != 4)
        throw Error(dir.string() + "/manifest.json: bytes_per_token must be 2 or 4");
    const char* part = split == Split::Train ? "train" : "validation";
    const auto expected = count_of(m.contains(part) ? m[part] : json(), "tokens");
    const auto path = dir / split_file(split);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open");
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size % static_cast<std::uint64_t>(width) != 0 || size / width != expected) {
        ::close(fd);
        throw Error(path.string() + ": " + std::to_string(size) + " bytes, the manifest says " +
                    std::to_string(expected) + " tokens of " + std::to_string(width) +
                    " bytes (truncated or stale cache: prepare it again)");
    }
    std::shared_ptr<TokenStream> s(new TokenStream());
    s->width_ = width;
    s->count_ = expected;
    s->mapped_ = static_cast<std::size_t>(st.st_size);
    if (s->mapped_ > 0) {
        void* p = ::mmap(nullptr, s->mapped_, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            throw Error(path.string() + ": mmap failed");
        }
        s->data_ = static_cast<const unsigned char*>(p);
    }
    ::close(fd);
    return s;
}

TokenStream::~TokenStream() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), mapped_);
}

void TokenStream::copy(std::uint64_t begin, std::uint64_t n, std::int64_t* out) const {
    if (begin + n > count_) throw Error("token stream: range past the end");
    for (std::uint64_t i = 0; i < n; ++i) out[i] = (*this)[begin + i];
}

}  // namespace itera
