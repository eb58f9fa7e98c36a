#pragma once
// SHA-256 (FIPS 180-4), for the checksums the run store records beside each
// checkpoint. Streaming: feed bytes with update(), then hex().

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace itera {

class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t n);
    /// Finishes the hash; the object must not be updated afterwards.
    std::string hex();

private:
    void block(const unsigned char* p);
    std::array<std::uint32_t, 8> h_;
    std::array<unsigned char, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view bytes);

/// Hash of a file's contents; throws itera::Error if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace itera
