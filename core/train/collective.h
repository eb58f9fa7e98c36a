#pragma once
// The processes of one data-parallel run, as the trainer sees them: a rank, a
// world size, and the two collective operations it needs — an element-wise sum
// across ranks and a broadcast from rank 0. Every rank receives the same bits
// from both, so every rank takes the same decisions from them. The Gloo
// implementation is train/gloo_group.h; a trainer without a group is rank 0 of 1.

#include <string>
#include <vector>

#include "util/error.h"

namespace at {
class Tensor;  // LibTorch's; declared only, so that this header stays free of it
}

namespace itera {

/// A collective operation failed: a rank died, hung past the timeout or left.
/// The run cannot go on; it ends `interrupted` and resumes with any world size.
class CollectiveError : public Error {
public:
    using Error::Error;
};

class Collective {
public:
    virtual ~Collective() = default;
    virtual int rank() const = 0;
    virtual int world_size() const = 0;

    /// Replaces each tensor (contiguous, CPU) by its element-wise sum over the
    /// ranks. Throws CollectiveError when a rank does not take part.
    virtual void sum(std::vector<at::Tensor>& tensors) = 0;
    /// Rank 0's tensors replace the others' (contiguous, CPU, same shapes).
    virtual void broadcast(std::vector<at::Tensor>& tensors) = 0;
    /// What went wrong, naming the rank when it can be found, after an
    /// operation threw `what`.
    virtual std::string describe_failure(const std::string& what) { return what; }
};

}  // namespace itera
