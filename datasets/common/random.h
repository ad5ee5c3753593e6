// Small, fixed pseudo-random generators for the data generators.
//
// Data sets must be the same on every machine and with every standard
// library, so generators use these instead of std:: engines and
// distributions (whose outputs are not specified across implementations).
#ifndef LRA_DATASETS_COMMON_RANDOM_H_
#define LRA_DATASETS_COMMON_RANDOM_H_

#include <cstdint>
#include <initializer_list>

#include "absl/types/span.h"

namespace lra {

// The splitmix64 finaliser: a bijective mix of all 64 bits. Used to derive
// independent seeds from structured keys such as (seed, split, index).
uint64_t MixBits(uint64_t x);

// Derives a seed from a list of 64-bit parts, e.g. {data_seed, split, index}.
// Different lists give unrelated seeds, and the order of the parts matters.
uint64_t DeriveSeed(std::initializer_list<uint64_t> parts);

// A stable 64-bit fingerprint of `bytes` under `seed`. Unlike absl::Hash it
// is the same in every process, so it can decide which split an example
// belongs to.
uint64_t Fingerprint64(absl::Span<const uint8_t> bytes, uint64_t seed);

// A stable fingerprint of a token sequence under `seed`, for assigning
// generated sequences to splits.
uint64_t FingerprintIds(absl::Span<const int32_t> ids, uint64_t seed);

// xoshiro256** (Blackman and Vigna), seeded through splitmix64. Fast, 256
// bits of state, and small enough to keep one per generated example.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  // The next 64 uniformly random bits.
  uint64_t Next();

  // Uniform integer in [lo, hi] (inclusive, lo <= hi), without modulo bias.
  int64_t UniformInt(int64_t lo, int64_t hi);

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble();

  // True with probability p: always false for p <= 0, always true for p >= 1.
  bool Bernoulli(double p);

 private:
  uint64_t s_[4];
};

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_RANDOM_H_
