// Fuzz target: the token cache's manifest reader behind TokenStream::open
// (data/token_cache.cpp). A cache folder can come from anywhere (copied,
// damaged by a crash mid-write, edited by hand).
//
// Each input is written as DIR/manifest.json into a per-process folder (on
// /dev/shm when there is one, see fuzz_files.h) that
// also holds a fixed train.bin (64 bytes) and validation.bin (24 bytes); then
// TokenStream::open(DIR, Train) and (DIR, Validation) run.
//
// Contract checked: open returns a stream or throws itera::Error; anything else
// escapes to libFuzzer (reported as a crash), as do ASan/UBSan reports and
// leaks. A stream that opens must describe exactly its file: size() tokens of
// 2 or 4 bytes each fill the file; every token is read, copy() of the whole
// stream works, and copy() one past the end throws itera::Error.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/token_cache.h"
#include "fuzz_check.h"
#include "fuzz_files.h"
#include "util/error.h"

namespace {

constexpr std::uint64_t kTrainBytes = 64, kValidationBytes = 24;

std::filesystem::path g_dir;

void check_stream(const itera::TokenStream& s, std::uint64_t file_bytes, const char* split) {
    const std::uint64_t n = s.size();
    FUZZ_CHECK(n <= file_bytes / 2 && (n * 2 == file_bytes || n * 4 == file_bytes),
               "%s: the stream claims %llu tokens, the file has %llu bytes", split,
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(file_bytes));
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += s[i];
    std::vector<std::int64_t> all(n);
    s.copy(0, n, all.data());
    std::uint64_t sum2 = 0;
    for (auto v : all) sum2 += static_cast<std::uint64_t>(v);
    FUZZ_CHECK(sum == sum2, "%s: copy() and operator[] disagree", split);
    bool refused = false;
    try {
        std::int64_t one = 0;
        s.copy(n, 1, &one);
    } catch (const itera::Error&) {
        refused = true;
    }
    FUZZ_CHECK(refused, "%s: copy() one token past the end did not throw", split);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_dir = fuzz::scratch_dir("manifest");
    std::vector<std::uint8_t> train(kTrainBytes), validation(kValidationBytes);
    for (std::size_t i = 0; i < train.size(); ++i) train[i] = static_cast<std::uint8_t>(i * 7 + 1);
    for (std::size_t i = 0; i < validation.size(); ++i)
        validation[i] = static_cast<std::uint8_t>(255 - i);
    fuzz::write_file(g_dir / "train.bin", train.data(), train.size());
    fuzz::write_file(g_dir / "validation.bin", validation.data(), validation.size());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::write_file(g_dir / "manifest.json", data, size);
    for (auto split : {itera::Split::Train, itera::Split::Validation}) {
        const bool train = split == itera::Split::Train;
        std::shared_ptr<const itera::TokenStream> s;
        try {
            s = itera::TokenStream::open(g_dir, split);
        } catch (const itera::Error&) {
            continue;  // the documented failure
        }
        FUZZ_CHECK(s != nullptr, "open returned null");
        check_stream(*s, train ? kTrainBytes : kValidationBytes, train ? "train" : "validation");
    }
    return 0;
}
