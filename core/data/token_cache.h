#pragma once
// The token cache: a corpus tokenised once into flat binary id streams (one
// per split; documents separated by the tokenizer's EOS) next to a JSON
// manifest that records what it was built from. Training memory-maps it.
//
//   DIR/train.bin, DIR/validation.bin   little-endian uint16 (vocab <= 65536) or uint32
//   DIR/manifest.json                    source files (size, mtime), format, split,
//                                        tokenizer fingerprint, counts
//
// A cache is reused when the manifest matches the source and tokenizer, and
// rebuilt otherwise. Files are written to temporaries and renamed, manifest last.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "data/corpus.h"
#include "data/documents.h"
#include "tokenizer/tokenizer.h"

namespace itera {

struct SplitTokens {
    std::uint64_t documents = 0, bytes = 0, tokens = 0;
};

struct TokenCacheInfo {
    std::filesystem::path dir;
    int bytes_per_token = 2;
    SplitTokens train, validation;
    bool reused = false;  ///< true when an existing cache matched
    double seconds = 0;   ///< time spent building (0 when reused)
};

struct CacheBuildOptions {
    ReadOptions read;
    SplitSettings split;
    int threads = 0;                     ///< 0 = all cores
    std::size_t chunk_bytes = 4u << 20;  ///< text tokenised per task; bounds memory
    std::function<void(std::uint64_t done, std::uint64_t total)>
        progress;                               ///< bytes of source text
    const std::atomic<bool>* cancel = nullptr;  ///< set to stop; throws itera::Error("cancelled")
};

/// A JSON description of the corpus text a cache or tokenizer is built from:
/// source files (absolute path, size, mtime), format, split settings, UTF-8 policy.
std::string corpus_identity(const CorpusSource& source, const SplitSettings& split,
                            const ReadOptions& read);

/// Returns the cache in `dir` for `source` + `tokenizer`, building it if it
/// is missing or stale.
TokenCacheInfo prepare_token_cache(const CorpusSource& source, const Tokenizer& tokenizer,
                                   const std::filesystem::path& dir,
                                   const CacheBuildOptions& options);

/// A read-only, memory-mapped token stream of one split.
class TokenStream {
public:
    /// Maps DIR/<split>.bin; checks its size against the manifest.
    static std::shared_ptr<const TokenStream> open(const std::filesystem::path& dir, Split split);
    ~TokenStream();
    TokenStream(const TokenStream&) = delete;
    TokenStream& operator=(const TokenStream&) = delete;

    std::uint64_t size() const { return count_; }
    std::uint32_t operator[](std::uint64_t i) const {
        return width_ == 2 ? reinterpret_cast<const std::uint16_t*>(data_)[i]
                           : reinterpret_cast<const std::uint32_t*>(data_)[i];
    }
    /// Copies ids [begin, begin + n) as int64 into `out` (for a training batch).
    void copy(std::uint64_t begin, std::uint64_t n, std::int64_t* out) const;

private:
    TokenStream() = default;
    const unsigned char* data_ = nullptr;
    std::size_t mapped_ = 0;
    std::uint64_t count_ = 0;
    int width_ = 2;
};

}  // namespace itera
