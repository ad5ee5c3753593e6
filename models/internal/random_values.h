// Reproducible test inputs: vectors of uniform values, each element a pure
// function of (seed, index) through UniformFloat. The one home for the
// helper the layer, kernel and plugin tests used to define each for itself.
// Tests only.
#ifndef LRA_MODELS_INTERNAL_RANDOM_VALUES_H_
#define LRA_MODELS_INTERNAL_RANDOM_VALUES_H_

#include <cstdint>
#include <vector>

#include "models/rng.h"

namespace lra {

// n values uniform in [-scale, scale): element i is
// scale * (2 * UniformFloat(seed, i) - 1).
inline std::vector<float> RandomValues(int64_t n, uint64_t seed,
                                       float scale = 1.0f) {
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) {
    values[i] = scale * (2.0f * UniformFloat(seed, i) - 1.0f);
  }
  return values;
}

// The inputs of an attention test, each [count]: q, k, v and the upstream
// gradient dout are RandomValues with seeds first_seed, first_seed + 1, + 2
// and + 3; q and k are scaled by qk_scale, v and dout by 1.
struct RandomQkvValues {
  std::vector<float> q, k, v, dout;
};
inline RandomQkvValues RandomQkv(int64_t count, float qk_scale,
                                 uint64_t first_seed = 1) {
  return {RandomValues(count, first_seed, qk_scale),
          RandomValues(count, first_seed + 1, qk_scale),
          RandomValues(count, first_seed + 2),
          RandomValues(count, first_seed + 3)};
}

}  // namespace lra

#endif  // LRA_MODELS_INTERNAL_RANDOM_VALUES_H_
