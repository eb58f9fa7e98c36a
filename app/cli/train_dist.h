#pragma once
// `itera train`'s distributed options (docs/distributed.md): --nproc starts
// the other ranks of a run on this machine; --dist/--rank/--world-size (or
// torchrun's MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE) join one across
// machines. Rank 0 creates or resumes the run and publishes it; a rank above 0
// takes the run, its settings and its data from there and writes nothing.

#include <optional>

#include "args.h"
#include "train/gloo_group.h"
#include "workflows/distributed_run.h"

namespace itera {
class TrainControl;
}

namespace itera::cli {

/// Ctrl-C and SIGTERM stop the run cleanly (checkpoint, status `stopped`);
/// null restores the default handlers. (cmd_train.cpp)
void catch_stop_signals(TrainControl* control);

/// The distributed setting of this process, or nullopt for an ordinary run.
/// `nproc`: the number of local processes asked for (0 when not --nproc).
struct DistRequest {
    DistSettings settings;
    int nproc = 0;
};
/// `with_nproc`: whether --nproc is this command's (`bench train` reads its own list).
std::optional<DistRequest> dist_request(Args& a, bool with_nproc = true);

/// A rank above 0: takes the run from rank 0, trains its share, writes nothing.
int train_worker(const DistRequest& request, Args& a);

}  // namespace itera::cli
