#pragma once
// Reader and writer of the public safetensors format: an 8-byte little-endian
// header length, a JSON header, then raw little-endian tensor bytes with
// offsets relative to the end of the header. No LibTorch here: tensors are
// plain bytes, converted by checkpoint.cpp.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "checkpoint/dtype.h"

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
/// file and the tensor or field.
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
    std::string origin_;
    std::vector<std::uint8_t> bytes_;
    std::map<std::string, std::string> metadata_;
    std::vector<SafeTensor> tensors_;
};

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
