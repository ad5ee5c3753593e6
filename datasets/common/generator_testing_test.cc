#include "datasets/common/generator_testing.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

// A generator whose example is its index modulo 4 (label 0), the same in
// every split: the splits share every sequence.
int32_t ModFour(const int& config, int seq_len, uint64_t data_seed, Split split,
                int64_t index, int32_t* tokens) {
  for (int i = 0; i < seq_len; ++i) tokens[i] = static_cast<int32_t>(index % 4);
  return 0;
}

// The same, but offset by the split: no sequence is in two splits.
int32_t ModFourBySplit(const int& config, int seq_len, uint64_t data_seed,
                       Split split, int64_t index, int32_t* tokens) {
  for (int i = 0; i < seq_len; ++i) {
    tokens[i] = static_cast<int32_t>(index % 4 + 10 * static_cast<int>(split));
  }
  return 0;
}

// Example (seed, index) is seed * 100 + index at every position, label
// index % 2.
int32_t BySeedAndIndex(const int& config, int seq_len, uint64_t data_seed,
                       Split split, int64_t index, int32_t* tokens) {
  for (int i = 0; i < seq_len; ++i) {
    tokens[i] = static_cast<int32_t>(data_seed * 100 + index);
  }
  return static_cast<int32_t>(index % 2);
}

TEST(GeneratorTestingTest, DeterministicExampleDependsOnSeedAndIndex) {
  int32_t label = -1;
  EXPECT_EQ(ExpectDeterministicExample(TokenGenerator<int>(BySeedAndIndex), 0,
                                       2, 1, Split::kTrain, 3, &label),
            (std::vector<int32_t>{103, 103}));
  EXPECT_EQ(label, 1);
  // ModFour ignores the seed: the next seed's example is the same.
  EXPECT_NONFATAL_FAILURE(
      ExpectDeterministicExample(TokenGenerator<int>(ModFour), 0, 2, 1,
                                 Split::kTrain, 3, &label),
      "seed + 1");
}

TEST(GeneratorTestingTest, CountsSequencesSharedBetweenSplits) {
  const auto shared = TokenGenerator<int>(ModFour);
  const SequencesBySplit seen = DistinctSequences(shared, 0, 2, 1, 10);
  EXPECT_EQ(seen[0].size(), 4u);
  // Each of the 4 sequences is in all three splits: 3 pairs of splits each.
  EXPECT_EQ(SequencesInSeveralSplits(seen), 12);
  const auto apart = TokenGenerator<int>(ModFourBySplit);
  EXPECT_EQ(SequencesInSeveralSplits(DistinctSequences(apart, 0, 2, 1, 10)), 0);
}

TEST(GeneratorTestingTest, TokensStartUnwritten) {
  auto half = [](const int& config, int seq_len, uint64_t data_seed,
                 Split split, int64_t index, int32_t* tokens) {
    tokens[0] = 7;
    return static_cast<int32_t>(index);
  };
  int32_t label = -1;
  const std::vector<int32_t> tokens =
      TokenGenerator<int>(+half)(0, 3, 1, Split::kTrain, 5, &label);
  EXPECT_EQ(tokens, (std::vector<int32_t>{7, -1, -1}));
  EXPECT_EQ(label, 5);
}

}  // namespace
}  // namespace lra
