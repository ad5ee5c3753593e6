// Test-only: calling a stand-in's example generator as its tests do, into a
// fresh token vector, the check that an example is a function of its seed
// and index, and the check that splits share no sequence. Shared by the
// generators' tests.
#ifndef LRA_DATASETS_COMMON_GENERATOR_TESTING_H_
#define LRA_DATASETS_COMMON_GENERATOR_TESTING_H_

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "datasets/dataset_base.h"
#include "gtest/gtest.h"

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

// Expects example `index` of `split` for `seed` from `generate` (a
// TokenGenerator) to be made again alike (tokens and label) and to differ
// from the next index's and from the next seed's. Returns its tokens and
// stores its label.
template <typename Generate, typename Config>
std::vector<int32_t> ExpectDeterministicExample(const Generate& generate,
                                                const Config& config,
                                                int seq_len, uint64_t seed,
                                                Split split, int64_t index,
                                                int32_t* label) {
  const std::vector<int32_t> tokens =
      generate(config, seq_len, seed, split, index, label);
  int32_t again;
  EXPECT_EQ(generate(config, seq_len, seed, split, index, &again), tokens);
  EXPECT_EQ(again, *label);
  EXPECT_NE(generate(config, seq_len, seed, split, index + 1, &again), tokens);
  EXPECT_NE(generate(config, seq_len, seed + 1, split, index, &again), tokens);
  return tokens;
}

// The distinct token sequences of examples [0, n) of each split (indexed by
// Split), as `generate` (a TokenGenerator) makes them.
using SequencesBySplit = std::array<std::set<std::vector<int32_t>>, kNumSplits>;
template <typename Generate, typename Config>
SequencesBySplit DistinctSequences(const Generate& generate,
                                   const Config& config, int seq_len,
                                   uint64_t seed, int64_t n) {
  SequencesBySplit seen;
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t label;
      seen[static_cast<int>(split)].insert(
          generate(config, seq_len, seed, split, i, &label));
    }
  }
  return seen;
}

// How many of the sequences occur in more than one split (0 when a split
// fingerprint keeps the splits apart).
inline int SequencesInSeveralSplits(const SequencesBySplit& seen) {
  int shared = 0;
  for (int a = 0; a < kNumSplits; ++a) {
    for (const std::vector<int32_t>& tokens : seen[a]) {
      for (int b = a + 1; b < kNumSplits; ++b) shared += seen[b].count(tokens);
    }
  }
  return shared;
}

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_GENERATOR_TESTING_H_
