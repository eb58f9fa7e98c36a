#include "model_args.h"

#include "util/error.h"

namespace itera::cli {

ModelVariant model_variant(Args& a) {
    ModelVariant v;
    if (auto arch = a.text("arch")) {
        if (*arch == "itera-lite" || *arch == kIteraArch)
            v.arch = kIteraArch;
        else if (*arch == kTransformerArch)
            v.arch = kTransformerArch;
        else
            throw Error("--arch must be itera-lite-v2 or transformer, got \"" + *arch + "\"");
    }
    if (auto moe = a.text("moe")) {
        if (*moe != "on" && *moe != "off")
            throw Error("--moe must be on or off, got \"" + *moe + "\"");
        v.moe = *moe == "on";
    }
    if (auto n = a.integer("ssm-state", 1, 4096)) v.ssm_state_size = *n;
    if (v.arch == kTransformerArch && (!v.moe || v.ssm_state_size != 0))
        throw Error("--moe and --ssm-state are Itera-Lite ablations; a Transformer has neither");
    return v;
}

}  // namespace itera::cli
