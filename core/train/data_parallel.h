#pragma once
// The trainer's data-parallel steps (docs/distributed.md): rank 0's starting
// point copied to every rank, gradients summed in buckets, and the per-step
// figures every rank must agree on. Each works on any Collective; with none
// (one process) the trainer does not call them.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "model/itera_model.h"
#include "train/collective.h"
#include "train/optimizer.h"
#include "train/run_checkpoints.h"

namespace itera {

/// Rank 0's weights, optimizer moments and trainer state replace every other
/// rank's (after rank 0 resumed from its checkpoint or started from one).
void copy_start_from_rank0(Collective& group, IteraModel& model, AdamW& optimizer,
                           TrainerState& state);

/// Sums every parameter's gradient over the ranks, in buckets of about
/// `bucket_bytes`. A gradient that is undefined on this rank but defined on
/// another (an expert this rank's tokens never chose) takes part as zeros; one
/// undefined on every rank stays undefined, as in one process.
void sum_gradients(Collective& group, IteraModel& model, std::int64_t bucket_bytes = 8 << 20);

/// `value` as rank 0 has it, on every rank (rank 0's clock decides a time
/// budget for all of them).
double rank0_value(Collective& group, double value);

/// Sums `values` over the ranks in place (doubles: each slot that only one
/// rank fills arrives exactly).
void sum_values(Collective& group, std::vector<double>& values);

}  // namespace itera
