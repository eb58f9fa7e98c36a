#pragma once
// LibTorch defaults to one intra-op thread on this platform; every entry point
// sets the count explicitly (a user setting whose default is all cores).

namespace itera {

/// Number of hardware threads (at least 1).
int default_thread_count();

/// Sets LibTorch's intra-op thread count (and with it OpenMP's and OpenBLAS's).
/// `n <= 0` means the default. Returns the count in effect.
int set_thread_count(int n);

}  // namespace itera
