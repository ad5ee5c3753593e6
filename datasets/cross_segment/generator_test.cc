#include "datasets/cross_segment/generator.h"

#include <set>
#include <string>
#include <vector>

#include "datasets/common/generator_testing.h"
#include "datasets/common/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace cross_segment {
namespace {

using ::testing::HasSubstr;

CrossSegmentConfig Config(int key_length, int num_values) {
  CrossSegmentConfig config;
  config.set_key_length(key_length);
  config.set_num_values(num_values);
  return config;
}

// Generate(config, seq_len, seed, split, index, &label) -> tokens.
const auto Generate =
    TokenGenerator<CrossSegmentConfig>(GenerateCrossSegmentExample);

TEST(CrossSegmentGeneratorTest, LayoutAndDeterminism) {
  const CrossSegmentConfig config = Config(3, 5);
  int32_t label;
  const std::vector<int32_t> tokens = ExpectDeterministicExample(
      Generate, config, 64, 1, Split::kTrain, 0, &label);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GE(tokens[i], kFirstKeyId);
    EXPECT_LT(tokens[i], kFirstKeyId + 5);
  }
  // Every later position is filler; no padding.
  for (int i = 3; i < 64; ++i) {
    EXPECT_GE(tokens[i], kFirstFillerId);
    EXPECT_LT(tokens[i], kVocabSize);
  }
}

TEST(CrossSegmentGeneratorTest, TheOracleReadsTheKeyAndLabelsAreUniform) {
  const CrossSegmentConfig config = Config(2, 4);
  std::vector<int> by_label(4, 0);
  const int n = 4000;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    const auto tokens = Generate(config, 32, 3, Split::kVal, i, &label);
    ASSERT_EQ(CrossSegmentAnswer(tokens, 2, 4), label) << i;
    ++by_label[label];
  }
  for (int count : by_label) EXPECT_GT(count, n / 4 * 0.9);
}

// The no-shortcut property, exactly: the filler is drawn without looking at
// the key, so changing the key (here through the values in use, which
// changes the key symbols and the label) leaves every filler token as it was.
TEST(CrossSegmentGeneratorTest, TheFillerDoesNotDependOnTheKey) {
  int differing_labels = 0;
  for (int64_t i = 0; i < 200; ++i) {
    int32_t label2, label10;
    const auto two = Generate(Config(1, 2), 48, 7, Split::kTrain, i, &label2);
    const auto ten = Generate(Config(1, 10), 48, 7, Split::kTrain, i, &label10);
    EXPECT_EQ(std::vector<int32_t>(two.begin() + 1, two.end()),
              std::vector<int32_t>(ten.begin() + 1, ten.end()))
        << i;
    differing_labels += label2 != label10;
  }
  EXPECT_GT(differing_labels, 50) << "the keys did change";
}

// Features of everything after the key: the bag of filler tokens and the
// token at each of the first and last 8 filler positions (one-hot).
std::vector<double> FillerFeatures(const std::vector<int32_t>& tokens,
                                   int key_length) {
  const std::vector<int32_t> filler(tokens.begin() + key_length, tokens.end());
  std::vector<double> features = probe::TokenHistogram(filler, kVocabSize);
  const int n = static_cast<int>(filler.size());
  for (int i = 0; i < 16; ++i) {
    const int pos = i < 8 ? i : n - 16 + i;
    for (int s = 0; s < kFillerSymbols; ++s) {
      features.push_back(filler[pos] == kFirstFillerId + s ? 1.0 : 0.0);
    }
  }
  return features;
}

// The probe's accuracy on the filler of n examples per split; with
// `plant_leak`, the leak of a naive generator: a filler token that depends on
// the label.
double FillerProbeAccuracy(const CrossSegmentConfig& config, int n,
                           bool plant_leak) {
  return probe::SplitProbeAccuracy(
      n, 4, [&](Split split, int64_t i, int32_t* label) {
        auto tokens = Generate(config, 64, 5, split, i, label);
        if (plant_leak) tokens[60] = kFirstFillerId + *label;
        return FillerFeatures(tokens, config.key_length());
      });
}

// Nothing after the key predicts the label: a linear probe on the filler
// stays at chance, and the same probe finds a planted leak.
TEST(CrossSegmentGeneratorTest, NothingAfterTheKeyPredictsTheLabel) {
  const CrossSegmentConfig config = Config(1, 4);
  EXPECT_LT(FillerProbeAccuracy(config, 3000, false), 0.29);
  EXPECT_GT(FillerProbeAccuracy(config, 3000, true), 0.9);
}

TEST(CrossSegmentGeneratorTest, SplitsNeverShareASequence) {
  // Three filler tokens: 4096 fillers, so repeats within a split are
  // common, but a filler only ever lands in the split its fingerprint picks.
  const CrossSegmentConfig config = Config(1, 2);
  const SequencesBySplit seen = DistinctSequences(Generate, config, 4, 4, 3000);
  EXPECT_LT(seen[0].size(), 3000u) << "repeats happen within a split";
  EXPECT_EQ(SequencesInSeveralSplits(seen), 0);
}

TEST(CrossSegmentGeneratorTest, ValidationNamesTheField) {
  const std::string prefix = "task.cross_segment.";
  EXPECT_TRUE(ValidateCrossSegmentConfig(Config(1, 10), 64, prefix).ok());
  EXPECT_THAT(
      std::string(
          ValidateCrossSegmentConfig(Config(1, 11), 64, prefix).message()),
      HasSubstr("task.cross_segment.num_values = 11 is invalid (allowed: "
                "2..10)"));
  EXPECT_THAT(
      std::string(
          ValidateCrossSegmentConfig(Config(0, 2), 64, prefix).message()),
      HasSubstr("task.cross_segment.key_length = 0 is invalid (allowed: "
                "1..63"));
  EXPECT_THAT(
      std::string(
          ValidateCrossSegmentConfig(Config(8, 2), 8, prefix).message()),
      HasSubstr("(allowed: 1..7"));
  EXPECT_THAT(
      std::string(
          ValidateCrossSegmentConfig(Config(65, 2), 1024, prefix).message()),
      HasSubstr("(allowed: 1..64"));
}

}  // namespace
}  // namespace cross_segment
}  // namespace lra
