#pragma once
// The decode layout of a checkpoint read as plain safetensors, in whatever
// formats it stores its tensors (F32, F16, BF16, int8 as X.qweight +
// X.scales): how a compressed checkpoint runs without an FP32 copy. Every
// tensor of the file must be used and match the config's shapes.

#include <memory>

#include "format/safetensors.h"
#include "infer/decode_model.h"

namespace itera {

std::shared_ptr<const DecodeModel> decode_model_from_file(const SafetensorsFile& file,
                                                          const ModelConfig& config);

}  // namespace itera
