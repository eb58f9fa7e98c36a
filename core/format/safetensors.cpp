#include "format/safetensors.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "format/half.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace itera {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw Error(origin + ": " + what);
}

std::uint64_t read_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

void write_le64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// numel · size into `out`; false when a dimension is negative or when any
// prefix of the shape has more elements than an int64 holds (so numel() is
// defined for every accepted tensor, a later zero dimension notwithstanding).
bool checked_bytes(const std::vector<std::int64_t>& shape, std::size_t elem, std::uint64_t& out) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t count = 1;
    for (auto s : shape) {
        if (s < 0) return false;
        const auto d = static_cast<std::uint64_t>(s);
        if (d != 0 && count > kMax / d) return false;
        count *= d;
    }
    if (elem != 0 && count > std::numeric_limits<std::uint64_t>::max() / elem) return false;
    out = count * elem;
    return true;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + ")";
}

SafeTensor parse_entry(const std::string& origin, const std::string& name, const json& v) {
    auto where = "tensor \"" + name + "\"";
    if (!v.is_object()) fail(origin, where + ": header entry is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!v.contains(key)) fail(origin, where + ": header entry has no \"" + key + "\"");
    if (!v["dtype"].is_string()) fail(origin, where + ": dtype is not a string");
    auto dtype_str = v["dtype"].get<std::string>();
    auto dtype = dtype_from_name(dtype_str);
    if (!dtype) fail(origin, where + ": unknown dtype \"" + dtype_str + "\"");
    SafeTensor t;
    t.name = name;
    t.dtype = *dtype;
    if (!v["shape"].is_array()) fail(origin, where + ": shape is not an array");
    for (const auto& s : v["shape"]) {
        if (!s.is_number_unsigned())
            fail(origin, where + ": shape holds a non-integer or negative value");
        t.shape.push_back(s.get<std::int64_t>());
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
        fail(origin, where + ": data_offsets must be two non-negative integers");
    auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (end < begin) fail(origin, where + ": data_offsets end before they begin");
    std::uint64_t expected = 0;
    if (!checked_bytes(t.shape, dtype_size(t.dtype), expected))
        fail(origin, where + ": shape " + shape_text(t.shape) + " is too large");
    if (end - begin != expected)
        fail(origin, where + ": " + std::to_string(end - begin) + " bytes for " + dtype_str + " " +
                         shape_text(t.shape) + ", expected " + std::to_string(expected));
    t.offset = begin;
    t.nbytes = static_cast<std::size_t>(expected);
    return t;
}

}  // namespace

std::int64_t SafeTensor::numel() const {
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
}

SafetensorsFile SafetensorsFile::read(const std::filesystem::path& path) {
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) throw Error(path.string() + ": no such file");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path.string() + ": not a regular file");
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open for reading: " + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw Error(path.string() + ": cannot read its size");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    SafetensorsFile f;
    f.origin_ = path.string();
    if (size < 8)
        fail(f.origin_, "truncated: " + std::to_string(size) +
                            " bytes, a safetensors file starts with an 8-byte header length");
    std::uint8_t len[8];
    if (::pread(fd, len, 8, 0) != 8) fail(f.origin_, "cannot read the header length");
    const std::uint64_t header_len = read_le64(len);
    if (header_len > kMaxHeader)
        fail(f.origin_, "header length " + std::to_string(header_len) +
                            " exceeds the 100 MiB limit (not a safetensors file?)");
    if (header_len > size - 8)
        fail(f.origin_, "truncated: header length " + std::to_string(header_len) + " but only " +
                            std::to_string(size - 8) + " bytes follow");
    std::string header(static_cast<std::size_t>(header_len), '\0');
    if (header_len > 0 &&
        ::pread(fd, header.data(), header.size(), 8) != static_cast<ssize_t>(header.size()))
        fail(f.origin_, "cannot read the header");
    f.parse_header(header.data(), header_len, size);
    void* map = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        fail(f.origin_, std::string("cannot map the file: ") + std::strerror(errno));
    f.storage_ = std::shared_ptr<const void>(map, [size](const void* p) {
        ::munmap(const_cast<void*>(p), static_cast<std::size_t>(size));
    });
    f.attach(static_cast<const std::uint8_t*>(map), header_len);
    return f;
}

SafetensorsFile SafetensorsFile::parse(std::vector<std::uint8_t> bytes, const std::string& origin) {
    SafetensorsFile f;
    f.origin_ = origin;
    const std::uint64_t size = bytes.size();
    if (size < 8)
        fail(origin, "truncated: " + std::to_string(size) +
                         " bytes, a safetensors file starts with an 8-byte header length");
    const std::uint64_t header_len = read_le64(bytes.data());
    if (header_len > kMaxHeader)
        fail(origin, "header length " + std::to_string(header_len) +
                         " exceeds the 100 MiB limit (not a safetensors file?)");
    if (header_len > size - 8)
        fail(origin, "truncated: header length " + std::to_string(header_len) + " but only " +
                         std::to_string(size - 8) + " bytes follow");
    f.parse_header(reinterpret_cast<const char*>(bytes.data() + 8), header_len, size);
    auto owned = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
    f.storage_ = std::shared_ptr<const void>(owned, owned->data());
    f.attach(owned->data(), header_len);
    return f;
}

void SafetensorsFile::parse_header(const char* hp, std::uint64_t header_len, std::uint64_t size) {
    const auto& origin = origin_;
    json header;
    try {
        header = json::parse(hp, hp + header_len);
    } catch (const json::parse_error& e) {
        fail(origin, "header is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception&) {  // e.g. a number beyond a double (1e400)
        fail(origin, "header holds a number out of range");
    }
    if (!header.is_object()) fail(origin, "header is not a JSON object");
    const std::uint64_t data_size = size - 8 - header_len;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) fail(origin, "__metadata__ is not an object");
            for (auto m = it->begin(); m != it->end(); ++m) {
                if (!m->is_string())
                    fail(origin, "__metadata__ value \"" + m.key() + "\" is not a string");
                metadata_[m.key()] = m->get<std::string>();
            }
            continue;
        }
        tensors_.push_back(parse_entry(origin, it.key(), *it));
    }
    std::sort(tensors_.begin(), tensors_.end(),
              [](const SafeTensor& a, const SafeTensor& b) { return a.offset < b.offset; });
    std::uint64_t expected_begin = 0;
    for (auto& t : tensors_) {
        const std::uint64_t begin = t.offset;
        if (begin != expected_begin)
            fail(origin, "tensor \"" + t.name + "\": data_offsets start at " +
                             std::to_string(begin) + ", expected " +
                             std::to_string(expected_begin) +
                             (begin < expected_begin ? " (overlaps the previous tensor)"
                                                     : " (leaves a gap)"));
        if (begin + t.nbytes > data_size)
            fail(origin, "truncated: tensor \"" + t.name + "\" ends at byte " +
                             std::to_string(begin + t.nbytes) + " of the data section, which has " +
                             std::to_string(data_size));
        expected_begin = begin + t.nbytes;
    }
    if (expected_begin != data_size)
        fail(origin, std::to_string(data_size - expected_begin) +
                         " bytes after the last tensor are not described by the header");
}

void SafetensorsFile::attach(const std::uint8_t* base, std::uint64_t header_len) {
    for (auto& t : tensors_) t.data = base + 8 + header_len + t.offset;
}

std::int64_t first_non_finite(const SafeTensor& t) {
    const auto n = static_cast<std::size_t>(t.numel());
    auto scan = [&](auto value_of) -> std::int64_t {
        for (std::size_t i = 0; i < n; ++i)
            if (!std::isfinite(value_of(i))) return static_cast<std::int64_t>(i);
        return -1;
    };
    switch (t.dtype) {
        case DType::F32:
            return scan([&](std::size_t i) {
                float v;
                std::memcpy(&v, t.data + 4 * i, 4);
                return v;
            });
        case DType::F64:
            return scan([&](std::size_t i) {
                double v;
                std::memcpy(&v, t.data + 8 * i, 8);
                return v;
            });
        case DType::F16:
        case DType::BF16:
            return scan([&](std::size_t i) {
                std::uint16_t h;
                std::memcpy(&h, t.data + 2 * i, 2);
                return t.dtype == DType::F16 ? half_to_float(h) : bf16_to_float(h);
            });
        default:
            return -1;
    }
}

const SafeTensor* SafetensorsFile::find(const std::string& name) const {
    for (const auto& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

const SafeTensor& SafetensorsFile::get(const std::string& name) const {
    if (auto* t = find(name)) return *t;
    fail(origin_, "missing tensor \"" + name + "\"");
}

const std::string& SafetensorsFile::meta(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end()) fail(origin_, "missing __metadata__ key \"" + key + "\"");
    return it->second;
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
    metadata_[key] = value;
}

void SafetensorsWriter::add(const std::string& name, DType dtype,
                            const std::vector<std::int64_t>& shape, const void* data,
                            std::size_t nbytes) {
    if (name.empty() || name == "__metadata__")
        throw Error("safetensors: invalid tensor name \"" + name + "\"");
    for (const auto& e : entries_)
        if (e.name == name) throw Error("safetensors: tensor \"" + name + "\" added twice");
    std::uint64_t expected = 0;
    if (!checked_bytes(shape, dtype_size(dtype), expected) || expected != nbytes)
        throw Error("safetensors: tensor \"" + name + "\" has " + std::to_string(nbytes) +
                    " bytes, its shape " + shape_text(shape) + " needs " +
                    std::to_string(expected));
    Entry e{name, dtype, shape, {}};
    e.bytes.resize(nbytes);
    if (nbytes) std::memcpy(e.bytes.data(), data, nbytes);
    entries_.push_back(std::move(e));
}

std::vector<std::uint8_t> SafetensorsWriter::serialize() const {
    json header = json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    std::uint64_t offset = 0;
    for (const auto& e : entries_) {
        header[e.name] = {{"dtype", std::string(dtype_name(e.dtype))},
                          {"shape", e.shape},
                          {"data_offsets", {offset, offset + e.bytes.size()}}};
        offset += e.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::vector<std::uint8_t> out(8 + text.size() + offset);
    write_le64(out.data(), text.size());
    std::memcpy(out.data() + 8, text.data(), text.size());
    std::uint8_t* p = out.data() + 8 + text.size();
    for (const auto& e : entries_) {
        if (!e.bytes.empty()) std::memcpy(p, e.bytes.data(), e.bytes.size());
        p += e.bytes.size();
    }
    return out;
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
    auto bytes = serialize();
    write_file_atomically(
        path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace itera
