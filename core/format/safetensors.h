#pragma once
// Reader and writer of the public safetensors format: an 8-byte little-endian
// header length, a JSON header, then raw little-endian tensor bytes with
// offsets relative to the end of the header. No LibTorch here: tensors are
// plain bytes, converted by checkpoint.cpp.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace itera {

/// One tensor of a file: its bytes live inside the owning SafetensorsFile.
struct SafeTensor {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t offset = 0;  ///< start within the data section (after the header)
    const std::uint8_t* data = nullptr;
    std::size_t nbytes = 0;
    std::int64_t numel() const;
};

/// A parsed, fully validated file. Every offset is checked against the file
/// size before any byte is touched; any defect throws itera::Error naming the
/// file and the tensor or field. `read` reads the header only and maps the
/// tensor data (pages are read when a tensor is used), so opening a file of
/// any size costs its header, not its size.
class SafetensorsFile {
public:
    static SafetensorsFile read(const std::filesystem::path& path);
    static SafetensorsFile parse(std::vector<std::uint8_t> bytes, const std::string& origin);

    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// Tensors in the order of their data offsets.
    const std::vector<SafeTensor>& tensors() const { return tensors_; }
    const SafeTensor* find(const std::string& name) const;
    /// The tensor `name`; throws if it is missing.
    const SafeTensor& get(const std::string& name) const;
    /// The metadata value `key`; throws if it is missing.
    const std::string& meta(const std::string& key) const;
    const std::string& origin() const { return origin_; }

private:
    /// Parses and checks the header (`header_len` bytes at `header`) of a
    /// file of `file_size` bytes; tensors get offsets, not yet data.
    void parse_header(const char* header, std::uint64_t header_len, std::uint64_t file_size);
    /// Points every tensor into the file's bytes, which start at `base`.
    void attach(const std::uint8_t* base, std::uint64_t header_len);

    std::string origin_;
    std::shared_ptr<const void> storage_;  ///< the bytes or the mapping tensors point into
    std::map<std::string, std::string> metadata_;
    std::vector<SafeTensor> tensors_;
};

/// The index of the first NaN or infinite element of a float tensor (F32,
/// F16, BF16, F64), or -1 when every element is finite (and for integer types).
std::int64_t first_non_finite(const SafeTensor& t);

/// Collects tensors and metadata, then writes one file atomically.
class SafetensorsWriter {
public:
    void set_metadata(const std::string& key, const std::string& value);
    /// Copies `nbytes` from `data`; nbytes must equal numel(shape) · dtype size.
    void add(const std::string& name, DType dtype, const std::vector<std::int64_t>& shape,
             const void* data, std::size_t nbytes);
    /// The whole file as bytes (header padded with spaces to 8-byte alignment).
    std::vector<std::uint8_t> serialize() const;
    /// Writes to a temporary file, then renames over `path`.
    void write(const std::filesystem::path& path) const;

private:
    struct Entry {
        std::string name;
        DType dtype;
        std::vector<std::int64_t> shape;
        std::vector<std::uint8_t> bytes;
    };
    std::map<std::string, std::string> metadata_;
    std::vector<Entry> entries_;
};

}  // namespace itera
