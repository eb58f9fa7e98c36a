#pragma once
// The spec's checkpoint tensor table (docs/spec/model.md), generated from a configuration. It is
// the single source of truth for names and shapes: the model registers its parameters under these
// names, the checkpoint reader demands exactly this set (the original project silently dropped
// every MoE weight through a name typo).

#include <cstdint>
#include <string>
#include <vector>

namespace itera {

struct ModelConfig;

/// One stored tensor of an FP32 checkpoint.
struct TensorSpec {
    std::string name;
    std::vector<std::int64_t> shape;
    std::int64_t numel() const;
};

/// Every tensor of the spec in a fixed order (embedding, layers, final norm).
std::vector<TensorSpec> spec_tensors(const ModelConfig& config);

/// Parameters of the model (the tied head is counted once).
std::int64_t parameter_count(const ModelConfig& config);

/// Parameters touched per token: MoE layers count only k of their E experts.
std::int64_t active_parameter_count(const ModelConfig& config);

}  // namespace itera
