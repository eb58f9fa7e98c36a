#pragma once
// Writing a compressed checkpoint from an FP32 one, per the spec
// (docs/spec/checkpoint.md): tensors left in a float type keep their names
// (F32, or F16/BF16 for those schemes);
// an int8 tensor X is stored as X.qweight (I8, the matrix's shape) and
// X.scales (F32, one per row); an int4 / nf4 tensor as X.qweight (U8,
// (rows, ceil(cols / 2)), two codes per byte, the even column in the low
// nibble), X.scales (F16, (rows, groups)) and, for asymmetric int4, X.zeros
// (F16, (rows, groups): w = q · scale + zero). `quantization` metadata names
// each tensor's scheme and group size. Torch-free: the source is read as plain safetensors.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "format/scheme.h"
#include "model/config.h"

namespace itera {

struct CompressOptions {
    Scheme scheme = Scheme::Int8;
    std::int64_t group_size = 64;  ///< int4 / nf4
    bool symmetric = false;        ///< int4
    /// Linear weights whose name contains one of these stay FP32.
    std::vector<std::string> keep_float;
    /// Mixed precision: a scheme per tensor name, overriding `scheme` (F32 =
    /// keep as is). With it, `scheme` is the default for unlisted tensors and
    /// may be F32; the file's method is "mixed".
    std::map<std::string, QuantSettings> per_tensor;

    bool mixed() const { return !per_tensor.empty(); }
};

/// Whether tensor `name` of `shape` is compressed unless kept by a pattern:
/// every Linear weight (the embedding / tied head, in_proj, x_proj, dt_proj,
/// out_proj, the router, FFN and expert w1/w2). LayerNorms, conv1d, A_log, D
/// and dt_proj.bias always stay FP32: they are tiny, and the SSM recurrence
/// compounds their errors over every step.
bool compressible(const std::string& name, const std::vector<std::int64_t>& shape);

struct CompressedTensor {
    std::string name;
    std::vector<std::int64_t> shape;
    std::string scheme;     ///< "f32" when left as it was
    std::size_t bytes = 0;  ///< stored bytes (data + scales)
    std::size_t source_bytes = 0;
    QuantError error;  ///< zero for tensors left in FP32
};

struct CompressResult {
    std::filesystem::path path;
    std::uintmax_t bytes = 0;         ///< the file on disk
    std::uintmax_t source_bytes = 0;  ///< the source file on disk
    std::vector<CompressedTensor> tensors;
    std::int64_t quantized_weights = 0;
    /// Stored bits per weight over every compressible tensor (the Linear
    /// weights), scales included and tensors kept in F32 counted at 32: the
    /// same count for every scheme, so a plan that keeps tensors in F32 is not
    /// flattered.
    double bits_per_weight = 0;
};

/// The bytes the tensors of a model of `config` take when every compressible
/// tensor is stored in `settings` (the others in F32), without the header: an
/// estimate of a uniform scheme's file size that needs no file written.
std::int64_t estimated_file_bytes(const ModelConfig& config, const QuantSettings& settings);

/// Compresses the FP32 checkpoint `source` into `out` (temp file + rename).
/// Throws naming the file if `source` is not an FP32 itera-lite checkpoint.
CompressResult compress_checkpoint(const std::filesystem::path& source,
                                   const CompressOptions& options,
                                   const std::filesystem::path& out);

}  // namespace itera
