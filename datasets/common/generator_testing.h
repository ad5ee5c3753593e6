// Test-only: calling a stand-in's example generator as its tests do, into a
// fresh token vector. Shared by the generators' tests.
#ifndef LRA_DATASETS_COMMON_GENERATOR_TESTING_H_
#define LRA_DATASETS_COMMON_GENERATOR_TESTING_H_

#include <cstdint>
#include <vector>

#include "datasets/dataset_base.h"

namespace lra {

// The signature every stand-in's GenerateXExample has: writes example
// `index` of `split` into tokens[0, seq_len) and returns its label.
template <typename Config>
using ExampleGenerator = int32_t (*)(const Config& config, int seq_len,
                                     uint64_t data_seed, Split split,
                                     int64_t index, int32_t* tokens);

// A callable `(config, seq_len, seed, split, index, &label)` that returns
// the example's tokens ([seq_len], filled with -1 first so that a position
// the generator leaves unwritten shows) and stores its label.
template <typename Config>
auto TokenGenerator(ExampleGenerator<Config> generate) {
  return [generate](const Config& config, int seq_len, uint64_t seed,
                    Split split, int64_t index, int32_t* label) {
    std::vector<int32_t> tokens(seq_len, -1);
    *label = generate(config, seq_len, seed, split, index, tokens.data());
    return tokens;
  };
}

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_GENERATOR_TESTING_H_
