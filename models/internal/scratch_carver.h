// Per-thread scratch carved out of one preallocated float buffer: every piece
// is rounded up to 16 floats, so each starts on a 64-byte boundary when the
// buffer does. Shared by the tiled attention kernels' Scratch structs.
#ifndef LRA_MODELS_INTERNAL_SCRATCH_CARVER_H_
#define LRA_MODELS_INTERNAL_SCRATCH_CARVER_H_

#include <cstdint>

namespace lra::internal {

// n rounded up to a multiple of 16 (one cache line of floats).
inline int64_t RoundUp16(int64_t n) { return (n + 15) / 16 * 16; }

// Hands out consecutive pieces of `base`: Take(count) returns the next
// `count` floats and moves past RoundUp16(count) of them. With a null base it
// only counts (Take returns null), so that a Scratch struct's constructor is
// also the one statement of its size: run it on nullptr and read taken().
class ScratchCarver {
 public:
  explicit ScratchCarver(float* base) : base_(base) {}

  float* Take(int64_t count) {
    float* piece = base_ == nullptr ? nullptr : base_ + taken_;
    taken_ += RoundUp16(count);
    return piece;
  }

  // Floats handed out so far, every piece rounded up.
  int64_t taken() const { return taken_; }

 private:
  float* base_;
  int64_t taken_ = 0;
};

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_SCRATCH_CARVER_H_
