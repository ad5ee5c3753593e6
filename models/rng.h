// Counter-based random numbers: every value is a pure function of
// (seed, index), so initialisation and dropout masks are reproducible across
// runs, threads and libraries, and a backward pass can regenerate a mask.
#ifndef LRA_MODELS_RNG_H_
#define LRA_MODELS_RNG_H_

#include <cmath>
#include <cstdint>

namespace lra {

// The splitmix64 finaliser: a bijective mix with good avalanche, cheap enough
// to call once per dropout element.
inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Derives an independent stream seed from a parent seed and a tag (layer
// index, site number, ...).
inline uint64_t DeriveSeed(uint64_t seed, uint64_t tag) {
  return SplitMix64(SplitMix64(seed) ^ (tag * 0xD1B54A32D192ED03ULL));
}

// 64 random bits for element `index` of stream `seed`.
inline uint64_t RandomBits(uint64_t seed, uint64_t index) {
  return SplitMix64(seed ^ SplitMix64(index));
}

// Uniform in [0, 1) with 24 bits of resolution, exactly representable.
inline float UniformFloat(uint64_t seed, uint64_t index) {
  return static_cast<float>(RandomBits(seed, index) >> 40) *
         (1.0f / 16777216.0f);
}

// Standard normal by Box-Muller on two uniforms (computed in double so that
// the value does not depend on the float math library).
inline double NormalDouble(uint64_t seed, uint64_t index) {
  const uint64_t a = RandomBits(seed, 2 * index);
  const uint64_t b = RandomBits(seed, 2 * index + 1);
  // u1 in (0, 1] so that log(u1) is finite.
  const double u1 =
      (static_cast<double>(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(b >> 11) * (1.0 / 9007199254740992.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Dropout keep decision with drop probability given as a 24-bit threshold
// (see DropThreshold); an element is kept when its uniform is >= p.
inline bool KeepElement(uint64_t seed, uint64_t index, uint32_t threshold) {
  return static_cast<uint32_t>(RandomBits(seed, index) >> 40) >= threshold;
}

// The drop probability p in [0, 1) as a threshold on 24-bit uniforms.
inline uint32_t DropThreshold(float p) {
  return static_cast<uint32_t>(static_cast<double>(p) * 16777216.0);
}

// Inverted dropout of one element with drop probability p: 0 when element
// `index` of the stream `seed` is dropped, else 1 / (1 - p).
inline float DropoutScale(uint64_t seed, uint64_t index, float p) {
  return KeepElement(seed, index, DropThreshold(p)) ? 1.0f / (1.0f - p) : 0.0f;
}

// Attention dropout's factor for element `index` of head `head` (b * H + h)
// in a step seeded `seed`, as "full" attention draws it: 1 when dropout is
// off, else DropoutScale on the head's own stream.
inline float HeadDropoutFactor(bool active, uint64_t seed, uint64_t head,
                               uint64_t index, float rate) {
  return active ? DropoutScale(DeriveSeed(seed, head), index, rate) : 1.0f;
}

}  // namespace lra

#endif  // LRA_MODELS_RNG_H_
