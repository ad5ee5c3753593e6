#include "datasets/text/generator.h"

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "datasets/common/generator_testing.h"
#include "datasets/common/probe.h"
#include "datasets/common/words.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace text {
namespace {

using ::testing::HasSubstr;

TextConfig Config(int min_length, int max_length, int num_cues,
                  int max_margin) {
  TextConfig config;
  config.set_min_length(min_length);
  config.set_max_length(max_length);
  config.set_num_cues(num_cues);
  config.set_max_margin(max_margin);
  return config;
}

TextConfig Defaults() { return Config(1000, 4000, 15, 5); }

// Generate(config, seq_len, seed, split, index, &label) -> tokens.
const auto Generate = TokenGenerator<TextConfig>(GenerateTextExample);

TEST(TextGeneratorTest, FillerNeverContainsACue) {
  for (absl::string_view word : FillerWords()) {
    for (const CuePair& pair : CuePairs()) {
      EXPECT_FALSE(absl::StrContains(word, pair.positive)) << word;
      EXPECT_FALSE(absl::StrContains(word, pair.negative)) << word;
    }
  }
}

TEST(TextGeneratorTest, DeterministicBySeedSplitAndIndex) {
  int32_t label;
  const std::vector<int32_t> a = ExpectDeterministicExample(
      Generate, Defaults(), 1000, 7, Split::kTrain, 3, &label);
  EXPECT_NE(Generate(Defaults(), 1000, 7, Split::kVal, 3, &label), a);
}

TEST(TextGeneratorTest, TheCueMajorityIsTheLabel) {
  // The oracle reads the label off every example: the task is learnable.
  std::set<int> margins;
  int positives = 0;
  const int n = 600;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    const auto tokens = Generate(Defaults(), 4000, 1, Split::kTrain, i, &label);
    const CueCounts counts = CountCues(tokens);
    ASSERT_EQ(counts.positive + counts.negative, 15) << i;
    EXPECT_EQ(label, counts.positive > counts.negative ? 1 : 0) << i;
    margins.insert(std::abs(counts.positive - counts.negative));
    positives += label;
    // Bytes only (ids 1..256), no padding inside the document.
    const int64_t length = probe::UnpaddedLength(tokens);
    EXPECT_GE(length, 1000);
    EXPECT_LE(length, 4000);
    for (int64_t k = 0; k < length; ++k) {
      ASSERT_GE(tokens[k], 1);
      ASSERT_LE(tokens[k], 256);
    }
  }
  EXPECT_EQ(margins, (std::set<int>{1, 3, 5}));
  EXPECT_GT(positives, n * 0.42);
  EXPECT_LT(positives, n * 0.58);
}

TEST(TextGeneratorTest, OnlyTheVisiblePartIsGenerated) {
  for (int64_t i = 0; i < 50; ++i) {
    int32_t label;
    const auto tokens = Generate(Defaults(), 1000, 1, Split::kTest, i, &label);
    // Every document is at least 1000 bytes, so all fill seq_len = 1000,
    // and all 15 cues are inside it.
    EXPECT_NE(tokens.back(), 0);
    const CueCounts counts = CountCues(tokens);
    EXPECT_EQ(counts.positive + counts.negative, 15);
    EXPECT_EQ(label, counts.positive > counts.negative ? 1 : 0);
  }
}

TEST(TextGeneratorTest, EvidenceIsSpreadOverTheWholeDocument) {
  // The majority of the first half's cues agrees with the label far less
  // often than the whole document's: no part decides on its own.
  int agree = 0;
  int decided = 0;
  const int n = 1000;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    auto tokens = Generate(Defaults(), 4000, 2, Split::kVal, i, &label);
    const int64_t length = probe::UnpaddedLength(tokens);
    std::fill(tokens.begin() + length / 2, tokens.end(), 0);
    const CueCounts half = CountCues(tokens);
    if (half.positive == half.negative) continue;
    ++decided;
    agree += (half.positive > half.negative ? 1 : 0) == label;
  }
  const double accuracy = static_cast<double>(agree) / decided;
  std::printf("first-half majority agrees with the label: %.3f\n", accuracy);
  EXPECT_GT(accuracy, 0.55);
  EXPECT_LT(accuracy, 0.87);
}

using probe::Leakage;

// The leakage probes' features: the byte histogram; scalar: the length.
Leakage Collect(const TextConfig& config, Split split, int n, bool plant_leak) {
  Leakage out;
  for (int64_t i = 0; i < n; ++i) {
    int32_t label;
    auto tokens = Generate(config, 4000, 3, split, i, &label);
    if (plant_leak && label == 1) tokens[0] = 'E' + 1;
    out.features.push_back(probe::TokenHistogram(tokens, 257));
    out.scalars.push_back(probe::UnpaddedLength(tokens));
    out.labels.push_back(label);
  }
  return out;
}

TEST(TextGeneratorTest, LengthAndByteHistogramDoNotGiveTheLabelAway) {
  const Leakage train = Collect(Defaults(), Split::kTrain, 1500, false);
  const Leakage test = Collect(Defaults(), Split::kTest, 1500, false);
  const probe::LeakageAccuracy accuracy = probe::LeakageProbes(train, test, 2);
  // Chance is 0.5; 1500 test examples put 3 standard deviations at 0.04.
  EXPECT_LT(accuracy.by_scalar, 0.55);
  EXPECT_LT(accuracy.by_features, 0.55);
  EXPECT_GT(accuracy.by_features, 0.45);
}

TEST(TextGeneratorTest, TheByteProbeWouldSeeASingleLeakedByte) {
  // The same probe on documents where positives start with 'E' (a byte the
  // filler never uses) finds the label, so the test above can fail.
  const Leakage train = Collect(Defaults(), Split::kTrain, 600, true);
  const Leakage test = Collect(Defaults(), Split::kTest, 600, true);
  EXPECT_GT(probe::LinearProbeAccuracy(train.features, train.labels,
                                       test.features, test.labels, 2),
            0.9);
}

TEST(TextGeneratorTest, ValidationNamesTheField) {
  struct Case {
    TextConfig config;
    int seq_len;
    const char* expected;
  };
  const Case cases[] = {
      {Config(0, 10, 1, 1), 100, "task.text.min_length = 0 is invalid"},
      {Config(500, 400, 1, 1), 1000,
       "task.text.max_length = 400 is invalid (allowed: >= min_length = "
       "500)"},
      {Config(1000, 4000, 14, 7), 1000,
       "task.text.num_cues = 14 is invalid (allowed: an odd number"},
      {Config(1000, 4000, 15, 17), 1000,
       "task.text.max_margin = 17 is invalid (allowed: an odd number in "
       "1..num_cues = 15)"},
      {Config(1000, 4000, 15, 4), 1000, "task.text.max_margin = 4"},
      {Config(1000, 4000, 15, 7), 256,
       "task.text.num_cues = 15 is invalid (allowed: at most 5, since each "
       "cue needs 49 bytes and the shortest document has 256"},
  };
  for (const Case& c : cases) {
    const absl::Status status =
        ValidateTextStandIn(c.config, c.seq_len, "task.text.");
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.expected));
  }
  EXPECT_TRUE(ValidateTextStandIn(Defaults(), 1000, "task.text.").ok());
  EXPECT_TRUE(
      ValidateTextStandIn(Config(256, 256, 5, 5), 256, "task.text.").ok());
}

}  // namespace
}  // namespace text
}  // namespace lra
