#include "train/start_weights.h"

#include "model/checkpoint.h"
#include "util/error.h"

namespace itera {

void start_from(IteraModel& model, const std::string& path, const Tokenizer& tokenizer) {
    auto loaded = load_checkpoint(path);
    if (!(loaded.model->config().resolved() == model->config().resolved()))
        throw Error("cannot start from " + path +
                    ": its model config differs from the run's (dimensions, experts or layers)");
    auto own = checkpoint_tokenizer(loaded, path);
    if (own && own->fingerprint() != tokenizer.fingerprint())
        throw Error("cannot start from " + path +
                    ": it was trained with another tokenizer than the run's data uses");
    torch::NoGradGuard no_grad;
    auto from = loaded.model->spec_parameters();
    auto to = model->spec_parameters();
    for (std::size_t i = 0; i < to.size(); ++i) to[i].second.copy_(from[i].second);
}

IteraModel load_teacher(const std::string& path, const Tokenizer& tokenizer) {
    auto loaded = load_checkpoint(path);
    auto teacher_tokenizer = checkpoint_tokenizer(loaded, path);
    if (!teacher_tokenizer || teacher_tokenizer->fingerprint() != tokenizer.fingerprint())
        throw Error("the teacher " + path +
                    " does not use the run's tokenizer; distillation compares next-token "
                    "distributions, so both models need the same one");
    loaded.model->eval();
    for (auto& p : loaded.model->parameters()) p.set_requires_grad(false);
    return loaded.model;
}

}  // namespace itera
