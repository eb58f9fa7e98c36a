// Fuzz target: SafetensorsFile::parse on untrusted bytes (a downloaded or
// damaged .safetensors file), and SafetensorsFile::read on the same bytes
// written to a file (its own pread + mmap path).
//
// Contract checked: every input either parses or throws itera::Error. Any other
// exception escapes to libFuzzer (reported as a crash), as do ASan/UBSan
// reports and leaks. When the file parses, every tensor's bytes are read (an
// out-of-bounds view trips ASan), the layout invariants the parser promises are
// checked, first_non_finite() stays inside the tensor, and the file is written
// again with SafetensorsWriter and re-parsed: the copy must hold the same
// tensors and metadata. read() must accept exactly what parse() accepts, with
// the same tensors, bytes and metadata.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "format/safetensors.h"
#include "fuzz_check.h"
#include "fuzz_files.h"
#include "util/error.h"

namespace {

std::filesystem::path g_file;  // the input as a file, for read()

std::uint64_t read_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// Touches every byte so that a view outside the buffer is caught by ASan.
std::uint64_t checksum(const itera::SafeTensor& t) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < t.nbytes; ++i) sum += t.data[i];
    return sum;
}

void check_file(const itera::SafetensorsFile& f, const std::uint8_t* data, std::size_t size) {
    const auto& tensors = f.tensors();
    const std::uint64_t data_start = 8 + read_le64(data);
    std::uint64_t expected_offset = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        FUZZ_CHECK(t.offset == expected_offset, "tensor %zu (\"%s\") at offset %llu, expected %llu",
                   i, t.name.c_str(), static_cast<unsigned long long>(t.offset),
                   static_cast<unsigned long long>(expected_offset));
        FUZZ_CHECK(t.data != nullptr, "tensor \"%s\" has no data pointer", t.name.c_str());
        // The view must show exactly the input's bytes at data_start + offset.
        FUZZ_CHECK(data_start + t.offset + t.nbytes <= size, "tensor \"%s\" ends past the input",
                   t.name.c_str());
        FUZZ_CHECK(
            t.nbytes == 0 || std::memcmp(t.data, data + data_start + t.offset, t.nbytes) == 0,
            "tensor \"%s\" does not view its own bytes", t.name.c_str());
        (void)checksum(t);
        // numel() is what every consumer multiplies with; it must agree with nbytes.
        const std::int64_t n = t.numel();
        FUZZ_CHECK(n >= 0 && static_cast<std::uint64_t>(n) * itera::dtype_size(t.dtype) == t.nbytes,
                   "tensor \"%s\": numel %lld x %zu != %zu bytes", t.name.c_str(),
                   static_cast<long long>(n), itera::dtype_size(t.dtype), t.nbytes);
        FUZZ_CHECK(f.find(t.name) != nullptr && f.find(t.name)->name == t.name,
                   "find(\"%s\") misses a listed tensor", t.name.c_str());
        FUZZ_CHECK(&f.get(t.name) == f.find(t.name), "get and find disagree on \"%s\"",
                   t.name.c_str());
        const std::int64_t bad = itera::first_non_finite(t);
        FUZZ_CHECK(bad >= -1 && bad < n, "first_non_finite(\"%s\") = %lld of %lld elements",
                   t.name.c_str(), static_cast<long long>(bad), static_cast<long long>(n));
        expected_offset = t.offset + t.nbytes;
    }
    FUZZ_CHECK(data_start + expected_offset == size,
               "tensors cover %llu bytes after a %llu-byte prefix, the input has %zu",
               static_cast<unsigned long long>(expected_offset),
               static_cast<unsigned long long>(data_start), size);
    for (const auto& [key, value] : f.metadata())
        FUZZ_CHECK(f.meta(key) == value, "meta(\"%s\") differs from metadata()", key.c_str());
}

// Writes the parsed file again and parses the copy: same tensors, same metadata.
void check_round_trip(const itera::SafetensorsFile& f) {
    itera::SafetensorsWriter w;
    for (const auto& t : f.tensors())
        if (t.name.empty()) return;  // the writer refuses empty names by design
    std::vector<std::uint8_t> written;
    try {
        for (const auto& [key, value] : f.metadata()) w.set_metadata(key, value);
        for (const auto& t : f.tensors()) w.add(t.name, t.dtype, t.shape, t.data, t.nbytes);
        written = w.serialize();
    } catch (const itera::Error& e) {
        FUZZ_CHECK(false, "the writer refuses what the reader accepted: %s", e.what());
    }
    std::optional<itera::SafetensorsFile> parsed;
    try {
        parsed.emplace(itera::SafetensorsFile::parse(std::move(written), "fuzz-copy"));
    } catch (const itera::Error& e) {
        FUZZ_CHECK(false, "the reader refuses what the writer wrote: %s", e.what());
    }
    const auto& copy = *parsed;
    FUZZ_CHECK(copy.metadata() == f.metadata(), "metadata changed in the round trip");
    FUZZ_CHECK(copy.tensors().size() == f.tensors().size(), "%zu tensors became %zu",
               f.tensors().size(), copy.tensors().size());
    for (const auto& t : f.tensors()) {
        const auto* c = copy.find(t.name);
        FUZZ_CHECK(c != nullptr, "tensor \"%s\" lost in the round trip", t.name.c_str());
        FUZZ_CHECK(c->dtype == t.dtype && c->shape == t.shape && c->nbytes == t.nbytes &&
                       (t.nbytes == 0 || std::memcmp(c->data, t.data, t.nbytes) == 0),
                   "tensor \"%s\" changed in the round trip", t.name.c_str());
    }
}

// The same file through read(): same verdict, same content.
void check_read(const itera::SafetensorsFile* parsed, const std::uint8_t* data, std::size_t size) {
    fuzz::write_file(g_file, data, size);
    std::optional<itera::SafetensorsFile> read;
    std::string why;
    try {
        read.emplace(itera::SafetensorsFile::read(g_file));
    } catch (const itera::Error& e) {
        why = e.what();
    }
    FUZZ_CHECK(read.has_value() == (parsed != nullptr), "parse() %s but read() %s%s",
               parsed ? "accepts" : "refuses", read ? "accepts" : "refuses: ", why.c_str());
    if (!parsed) return;
    check_file(*read, data, size);
    FUZZ_CHECK(read->metadata() == parsed->metadata(), "read() and parse() differ in metadata");
    FUZZ_CHECK(read->tensors().size() == parsed->tensors().size(),
               "read() and parse() differ in tensors");
    for (const auto& t : parsed->tensors()) {
        const auto* r = read->find(t.name);
        FUZZ_CHECK(r && r->dtype == t.dtype && r->shape == t.shape && r->offset == t.offset &&
                       r->nbytes == t.nbytes &&
                       (t.nbytes == 0 || std::memcmp(r->data, t.data, t.nbytes) == 0),
                   "read() and parse() differ on tensor \"%s\"", t.name.c_str());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_file = fuzz::scratch_dir("safetensors") / "input.safetensors";
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Exactly sized, so a read one past the end lands in ASan's redzone.
    std::vector<std::uint8_t> bytes(data, data + size);
    std::optional<itera::SafetensorsFile> parsed;
    try {
        parsed.emplace(itera::SafetensorsFile::parse(std::move(bytes), "fuzz"));
    } catch (const itera::Error&) {
        // The documented failure: a message naming the defect.
    }
    if (parsed) {
        check_file(*parsed, data, size);
        check_round_trip(*parsed);
    }
    check_read(parsed ? &*parsed : nullptr, data, size);
    return 0;
}
