#pragma once
// The weights a run starts from besides its seeded initialisation: a
// checkpoint to fine-tune, and a teacher to distil from. Both must use the
// run's tokenizer.

#include <string>

#include "model/itera_model.h"
#include "tokenizer/tokenizer.h"

namespace itera {

/// Copies the weights of checkpoint `path` into `model` (a fine-tune's start).
/// A checkpoint trained with another tokenizer would be fine-tuned on ids that
/// mean other text: refused (one without a tokenizer, from `model init`, is fine).
void start_from(IteraModel& model, const std::string& path, const Tokenizer& tokenizer);

/// The teacher of a distillation, in eval mode with no gradients.
IteraModel load_teacher(const std::string& path, const Tokenizer& tokenizer);

}  // namespace itera
