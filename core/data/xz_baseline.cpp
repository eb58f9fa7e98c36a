#include "data/xz_baseline.h"

#include <lzma.h>

#include <chrono>
#include <vector>

#include "util/error.h"

namespace itera {

std::uint64_t xz_compressed_size(const std::string& bytes) {
    std::vector<std::uint8_t> out(lzma_stream_buffer_bound(bytes.size()));
    std::size_t used = 0;
    const auto rc = lzma_easy_buffer_encode(9 | LZMA_PRESET_EXTREME, LZMA_CHECK_CRC64, nullptr,
                                            reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                            bytes.size(), out.data(), &used, out.size());
    if (rc != LZMA_OK) throw Error("xz baseline: liblzma failed (code " + std::to_string(rc) + ")");
    return used;
}

XzBaseline xz_baseline(const CorpusSource& source, const ReadOptions& read,
                       const SplitSettings& split, std::uint64_t max_train_bytes) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string train, validation;
    bool truncated = false;
    for_each_document(source, read, split, [&](Split s, std::string&& doc) {
        auto& into = s == Split::Train ? train : validation;
        into += doc;
        into += '\n';
        if (s == Split::Train && train.size() > 2 * max_train_bytes) {
            train.erase(0, train.size() - max_train_bytes);
            truncated = true;
        }
    });
    if (validation.empty()) throw Error("xz baseline: the validation split is empty");
    XzBaseline b;
    b.train_truncated = truncated;
    if (train.size() > max_train_bytes) {
        train.erase(0, train.size() - max_train_bytes);
        b.train_truncated = true;
    }
    b.train_bytes = train.size();
    b.validation_bytes = validation.size();
    b.train_compressed = xz_compressed_size(train);
    b.both_compressed = xz_compressed_size(train + validation);
    b.bits_per_byte =
        8.0 * (static_cast<double>(b.both_compressed) - static_cast<double>(b.train_compressed)) /
        static_cast<double>(b.validation_bytes);
    b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return b;
}

}  // namespace itera
