#include "datasets/recall/generator.h"

#include <set>
#include <string>
#include <vector>

#include "datasets/common/generator_testing.h"
#include "datasets/common/probe.h"
#include "datasets/common/task_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace recall {
namespace {

using ::testing::HasSubstr;

RecallConfig Config(int num_pairs, int key_length, int num_values = 10) {
  RecallConfig config;
  config.set_num_pairs(num_pairs);
  config.set_key_length(key_length);
  config.set_num_values(num_values);
  return config;
}

// Generate(config, seq_len, seed, split, index, &label) -> tokens.
const auto Generate = TokenGenerator<RecallConfig>(GenerateRecallExample);

TEST(RecallGeneratorTest, LayoutAndDeterminism) {
  const RecallConfig config = Config(12, 2);
  int32_t label;
  const std::vector<int32_t> tokens = ExpectDeterministicExample(
      Generate, config, 48, 1, Split::kTrain, 0, &label);
  // 12 * 3 + 1 + 2 = 39 tokens, then padding.
  ASSERT_EQ(RecallLength(12, 2), 39);
  std::set<std::vector<int32_t>> keys;
  for (int i = 0; i < 12; ++i) {
    for (int k = 0; k < 2; ++k) {
      EXPECT_GE(tokens[3 * i + k], kFirstKeyId);
      EXPECT_LT(tokens[3 * i + k], kFirstValueId);
    }
    EXPECT_GE(tokens[3 * i + 2], kFirstValueId);
    EXPECT_LT(tokens[3 * i + 2], kVocabSize);
    keys.insert({tokens[3 * i], tokens[3 * i + 1]});
  }
  EXPECT_EQ(keys.size(), 12u) << "keys are distinct";
  EXPECT_EQ(tokens[36], kQueryId);
  EXPECT_NE(tokens[38], 0);
  for (int i = 39; i < 48; ++i) EXPECT_EQ(tokens[i], 0);
}

TEST(RecallGeneratorTest, TheOracleFindsEveryLabelAnywhere) {
  const RecallConfig config = Config(100, 2);
  std::vector<int> by_label(kNumValues, 0);
  std::vector<int> by_quarter(4, 0);
  const int n = 2000;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    const auto tokens = Generate(config, 303, 3, Split::kVal, i, &label);
    ASSERT_EQ(RecallAnswer(tokens, 2), label) << i;
    ++by_label[label];
    // Where the queried pair sits.
    for (int pair = 0; pair < 100; ++pair) {
      if (tokens[3 * pair] == tokens[301] &&
          tokens[3 * pair + 1] == tokens[302]) {
        ++by_quarter[pair / 25];
      }
    }
  }
  for (int count : by_label) EXPECT_GT(count, n / 10 * 0.8);
  for (int count : by_quarter) EXPECT_GT(count, n / 4 * 0.85);
}

TEST(RecallGeneratorTest, SplitsNeverShareASequence) {
  // Short keys and few pairs make repeats likely within a split, but a
  // sequence only ever lands in the split its fingerprint picks.
  const RecallConfig config = Config(10, 1);
  const SequencesBySplit seen = DistinctSequences(Generate, config, 22, 4, 300);
  EXPECT_EQ(SequencesInSeveralSplits(seen), 0);
}

// The probe's accuracy on the bags of tokens of n examples per split; with
// `plant_leak`, the leak of a naive generator: an extra copy of the answer's
// value.
double BagProbeAccuracy(const RecallConfig& config, int n, bool plant_leak) {
  return probe::SplitProbeAccuracy(
      n, kNumValues, [&](Split split, int64_t i, int32_t* label) {
        auto tokens = Generate(config, 28, 5, split, i, label);
        if (plant_leak) tokens[27] = kFirstValueId + *label;
        return probe::TokenHistogram(tokens, kVocabSize);
      });
}

TEST(RecallGeneratorTest, TheBagOfTokensCarriesNoLabel) {
  // Short sequences (12 pairs) are where unbalanced values would show most.
  const RecallConfig config = Config(12, 1);
  EXPECT_LT(BagProbeAccuracy(config, 2000, false), 0.125);
  EXPECT_GT(BagProbeAccuracy(config, 1000, true), 0.3);
}

TEST(RecallGeneratorTest, FewerValuesMakeAShortVersion) {
  // Four pairs over four values: each value once, the label any of them.
  const RecallConfig config = Config(4, 1, 4);
  std::set<int> labels;
  for (int64_t i = 0; i < 200; ++i) {
    int32_t label;
    const auto tokens = Generate(config, 10, 6, Split::kTrain, i, &label);
    ASSERT_EQ(RecallAnswer(tokens, 1), label);
    std::set<int32_t> values;
    for (int pair = 0; pair < 4; ++pair) values.insert(tokens[2 * pair + 1]);
    EXPECT_EQ(values.size(), 4u);
    EXPECT_LT(*values.rbegin(), kFirstValueId + 4);
    labels.insert(label);
  }
  EXPECT_EQ(labels, (std::set<int>{0, 1, 2, 3}));
}

TEST(RecallGeneratorTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateRecallConfig(Config(340, 2), 1024, "task.recall.").ok());
  EXPECT_THAT(
      std::string(
          ValidateRecallConfig(Config(341, 2), 1024, "task.recall.").message()),
      HasSubstr("task.recall.num_pairs = 341 is invalid (allowed: 10..340"));
  EXPECT_THAT(
      std::string(
          ValidateRecallConfig(Config(9, 2), 1024, "task.recall.").message()),
      HasSubstr("task.recall.num_pairs = 9 is invalid"));
  // One-symbol keys allow at most 16 pairs.
  EXPECT_THAT(
      std::string(
          ValidateRecallConfig(Config(17, 1), 1024, "task.recall.").message()),
      HasSubstr("(allowed: 10..16"));
  EXPECT_THAT(
      std::string(
          ValidateRecallConfig(Config(20, 5), 1024, "task.recall.").message()),
      HasSubstr("task.recall.key_length = 5 is invalid (allowed: 1..4)"));
  EXPECT_THAT(
      std::string(ValidateRecallConfig(Config(20, 2, 11), 1024, "task.recall.")
                      .message()),
      HasSubstr("task.recall.num_values = 11 is invalid (allowed: "
                "2..10)"));
  EXPECT_THAT(
      std::string(ValidateRecallConfig(Config(3, 1, 4), 1024, "task.recall.")
                      .message()),
      HasSubstr("task.recall.num_pairs = 3 is invalid (allowed: "
                "4..16"));
}

}  // namespace
}  // namespace recall
}  // namespace lra
