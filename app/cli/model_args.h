#pragma once
// The options that vary a preset's model, shared by every command that takes
// --preset: --arch itera-lite-v2|transformer, and Itera-Lite's ablations
// --moe on|off and --ssm-state N.

#include "args.h"
#include "model/config.h"

namespace itera::cli {

/// Reads --arch, --moe and --ssm-state; an ablation with --arch transformer is
/// an error naming it.
ModelVariant model_variant(Args& a);

/// The usage lines of those options.
inline constexpr const char* kModelVariantUsage =
    R"(  --arch A               itera-lite-v2 (default) or transformer: a Transformer of the
                         preset's width and depth, within 3 % of its parameters
  --moe on|off           off: every feed-forward sublayer dense (Itera-Lite ablation)
  --ssm-state N          the SSM state size instead of the preset's (Itera-Lite ablation)
)";

}  // namespace itera::cli
