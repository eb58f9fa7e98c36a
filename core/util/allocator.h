#pragma once
// glibc serves allocations above 128 KiB with fresh mmap()s, so every training
// step page-faults its large activations (a 32 MB logits tensor costs more to
// fault in than to compute). Raising the thresholds makes freed blocks reusable.

namespace itera {

/// Keeps large freed blocks in the heap for reuse. Idempotent; call early.
void tune_allocator();

}  // namespace itera
