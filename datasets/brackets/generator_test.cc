#include "datasets/brackets/generator.h"

#include <set>
#include <string>
#include <vector>

#include "datasets/common/generator_testing.h"
#include "datasets/common/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace brackets {
namespace {

using ::testing::HasSubstr;

BracketsConfig Config(int min_length, int max_length, int max_depth,
                      int min_span) {
  BracketsConfig config;
  config.set_min_length(min_length);
  config.set_max_length(max_length);
  config.set_max_depth(max_depth);
  config.set_min_span(min_span);
  return config;
}

// What the task resolves for seq_len 256.
BracketsConfig Short() { return Config(128, 256, 128, 32); }

// Generate(config, seq_len, seed, split, index, &label) -> tokens.
const auto Generate = TokenGenerator<BracketsConfig>(GenerateBracketsExample);

TEST(BracketsGeneratorTest, DeterministicBySeedSplitAndIndex) {
  int32_t label;
  ExpectDeterministicExample(Generate, Short(), 256, 1, Split::kTrain, 2,
                             &label);
}

TEST(BracketsGeneratorTest, TheLabelIsWellNestednessAndOnlyLongPairsDiffer) {
  for (const auto& [config, seq_len] :
       {std::pair{Short(), 256},
        std::pair{Config(512, 1024, 512, 128), 1024}}) {
    int positives = 0;
    const int n = seq_len == 256 ? 1000 : 300;
    for (int64_t i = 0; i < n; ++i) {
      int32_t label;
      const auto tokens = Generate(config, seq_len, 3, Split::kVal, i, &label);
      ASSERT_EQ(WellNested(tokens), label) << i;
      // Checking only pairs shorter than min_span never finds the fault.
      ASSERT_EQ(WellNestedWithin(tokens, config.min_span()), 1) << i;
      const int64_t length = probe::UnpaddedLength(tokens);
      EXPECT_EQ(length % 2, 0);
      EXPECT_GE(length, config.min_length());
      EXPECT_LE(length, config.max_length());
      // Each closer has as many openers of its type in both classes.
      int counts[5] = {};
      for (int64_t k = 0; k < length; ++k) ++counts[tokens[k]];
      EXPECT_EQ(counts[kOpenRound], counts[kCloseRound]);
      EXPECT_EQ(counts[kOpenSquare], counts[kCloseSquare]);
      positives += label;
    }
    EXPECT_GT(positives, n * 0.4);
    EXPECT_LT(positives, n * 0.6);
  }
}

TEST(BracketsGeneratorTest, MaxDepthBoundsTheNesting) {
  const BracketsConfig config = Config(128, 256, 6, 16);
  for (int64_t i = 0; i < 200; ++i) {
    int32_t label;
    const auto tokens = Generate(config, 256, 4, Split::kTrain, i, &label);
    int depth = 0, deepest = 0;
    for (int32_t id : tokens) {
      if (id == kOpenRound || id == kOpenSquare) ++depth;
      if (id == kCloseRound || id == kCloseSquare) --depth;
      deepest = std::max(deepest, depth);
    }
    EXPECT_LE(deepest, 6);
    EXPECT_EQ(WellNested(tokens), label);
  }
}

TEST(BracketsGeneratorTest, SplitsNeverShareASequence) {
  // Eight brackets allow few sequences, so splits would overlap without
  // the fingerprint.
  const BracketsConfig config = Config(8, 8, 4, 2);
  const SequencesBySplit seen = DistinctSequences(Generate, config, 8, 5, 300);
  EXPECT_EQ(SequencesInSeveralSplits(seen), 0);
}

struct Features {
  probe::Matrix bags;
  std::vector<double> lengths;
  std::vector<int> labels;
};

Features Collect(Split split, int n) {
  Features out;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    const auto tokens = Generate(Short(), 256, 6, split, i, &label);
    // Counts, not frequencies, plus the first and last eight tokens.
    std::vector<double> row(4, 0);
    for (int32_t id : tokens) {
      if (id > 0) row[id - 1] += 1;
    }
    const int64_t length = probe::UnpaddedLength(tokens);
    for (int k = 0; k < 8; ++k) {
      row.push_back(tokens[k]);
      row.push_back(tokens[length - 1 - k]);
    }
    out.bags.push_back(row);
    out.lengths.push_back(length);
    out.labels.push_back(label);
  }
  return out;
}

TEST(BracketsGeneratorTest, CountsEndsAndLengthsCarryNoLabel) {
  const Features train = Collect(Split::kTrain, 1500);
  const Features test = Collect(Split::kTest, 1500);
  EXPECT_LT(probe::LinearProbeAccuracy(train.bags, train.labels, test.bags,
                                       test.labels, 2),
            0.55);
  EXPECT_LT(probe::BinnedProbeAccuracy(train.lengths, train.labels,
                                       test.lengths, test.labels, 2),
            0.55);
}

TEST(BracketsGeneratorTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateBracketsConfig(Short(), 256, "task.brackets.").ok());
  struct Case {
    BracketsConfig config;
    const char* expected;
  };
  const Case cases[] = {
      {Config(2, 256, 8, 1), "task.brackets.min_length = 2 is invalid"},
      {Config(128, 300, 8, 1),
       "task.brackets.max_length = 300 is invalid (allowed: "
       "min_length..task.seq_len = 128..256"},
      {Config(9, 9, 8, 1), "task.brackets.max_length = 9 is invalid"},
      {Config(128, 256, 1, 1), "task.brackets.max_depth = 1 is invalid"},
      {Config(128, 256, 8, 33),
       "task.brackets.min_span = 33 is invalid (allowed: 1..min_length / 4 "
       "= 32)"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        std::string(
            ValidateBracketsConfig(c.config, 256, "task.brackets.").message()),
        HasSubstr(c.expected));
  }
}

}  // namespace
}  // namespace brackets
}  // namespace lra
