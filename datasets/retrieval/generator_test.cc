#include "datasets/retrieval/generator.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "datasets/common/probe.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace retrieval {
namespace {

using ::testing::HasSubstr;

RetrievalConfig Config(int min_length, int max_length, int refs, int changed,
                       int codes) {
  RetrievalConfig config;
  config.set_min_length(min_length);
  config.set_max_length(max_length);
  config.set_num_refs(refs);
  config.set_changed_refs(changed);
  config.set_num_codes(codes);
  return config;
}

RetrievalConfig Defaults() { return Config(2000, 4000, 8, 4, 120); }

struct Pair {
  std::vector<int32_t> first;   // [seq_len]
  std::vector<int32_t> second;  // [seq_len]
  int32_t label;
};

Pair Generate(const RetrievalConfig& config, int seq_len, uint64_t seed,
              Split split, int64_t index) {
  std::vector<int32_t> tokens(2 * seq_len, -1);
  Pair pair;
  pair.label = GenerateRetrievalExample(config, seq_len, seed, split, index,
                                        tokens.data());
  pair.first.assign(tokens.begin(), tokens.begin() + seq_len);
  pair.second.assign(tokens.begin() + seq_len, tokens.end());
  return pair;
}

TEST(RetrievalGeneratorTest, CodesAreDistinctAnagrams) {
  std::set<std::string> markers;
  for (int code = 0; code < kMaxCodes; ++code) {
    std::string marker = CodeMarker(code);
    ASSERT_EQ(marker.size(), 7u);
    EXPECT_EQ(marker.front(), '[');
    EXPECT_EQ(marker.back(), ']');
    std::string letters = marker.substr(1, 5);
    std::sort(letters.begin(), letters.end());
    EXPECT_EQ(letters, "bkqxz");
    markers.insert(marker);
  }
  EXPECT_EQ(markers.size(), 120u);
}

TEST(RetrievalGeneratorTest, DeterministicBySeedSplitAndIndex) {
  const Pair a = Generate(Defaults(), 4000, 1, Split::kTrain, 9);
  const Pair b = Generate(Defaults(), 4000, 1, Split::kTrain, 9);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_EQ(a.label, b.label);
  EXPECT_NE(Generate(Defaults(), 4000, 1, Split::kTest, 9).first, a.first);
  EXPECT_NE(Generate(Defaults(), 4000, 2, Split::kTrain, 9).first, a.first);
}

TEST(RetrievalGeneratorTest, RelatedExactlyWhenTheMarkerSetsAgree) {
  int related = 0;
  const int n = 400;
  for (int64_t i = 0; i < n; ++i) {
    const Pair pair = Generate(Defaults(), 4000, 3, Split::kTrain, i);
    const std::vector<std::string> first = FindMarkers(pair.first);
    const std::vector<std::string> second = FindMarkers(pair.second);
    ASSERT_EQ(first.size(), 8u);
    ASSERT_EQ(second.size(), 8u);
    EXPECT_EQ(pair.label, first == second ? 1 : 0) << i;
    std::vector<std::string> shared;
    std::set_intersection(first.begin(), first.end(), second.begin(),
                          second.end(), std::back_inserter(shared));
    EXPECT_EQ(shared.size(), pair.label == 1 ? 8u : 4u);
    related += pair.label;
    for (const auto* doc : {&pair.first, &pair.second}) {
      const int64_t length = probe::UnpaddedLength(*doc);
      EXPECT_GE(length, 2000);
      EXPECT_LE(length, 4000);
    }
  }
  EXPECT_GT(related, n * 0.4);
  EXPECT_LT(related, n * 0.6);
}

// The best accuracy of "related iff at least t markers are shared" when
// only the first `fraction` of each document is read.
double PartialOracleAccuracy(const RetrievalConfig& config, double fraction) {
  const int n = 600;
  std::vector<int> overlap(n), labels(n);
  for (int64_t i = 0; i < n; ++i) {
    Pair pair = Generate(config, 4000, 4, Split::kVal, i);
    for (auto* doc : {&pair.first, &pair.second}) {
      const int64_t length = probe::UnpaddedLength(*doc);
      std::fill(doc->begin() + static_cast<int64_t>(length * fraction),
                doc->end(), 0);
    }
    const std::vector<std::string> first = FindMarkers(pair.first);
    const std::vector<std::string> second = FindMarkers(pair.second);
    std::vector<std::string> shared;
    std::set_intersection(first.begin(), first.end(), second.begin(),
                          second.end(), std::back_inserter(shared));
    overlap[i] = static_cast<int>(shared.size());
    labels[i] = pair.label;
  }
  double best = 0;
  for (int t = 0; t <= config.num_refs() + 1; ++t) {
    int correct = 0;
    for (int i = 0; i < n; ++i) correct += (overlap[i] >= t) == labels[i];
    best = std::max(best, static_cast<double>(correct) / n);
  }
  return best;
}

TEST(RetrievalGeneratorTest, DecidingNeedsBothWholeDocuments) {
  EXPECT_EQ(PartialOracleAccuracy(Defaults(), 1.0), 1.0);
  const double half = PartialOracleAccuracy(Defaults(), 0.5);
  std::printf("shared-marker oracle on the first halves: %.3f\n", half);
  EXPECT_LT(half, 0.8);
  const RetrievalConfig one_change = Config(2000, 4000, 8, 1, 120);
  const double hard = PartialOracleAccuracy(one_change, 0.5);
  std::printf("same with changed_refs = 1: %.3f\n", hard);
  EXPECT_LT(hard, 0.65);
}

using probe::Leakage;

// Pair features of the leakage probe: how the byte histograms of the two
// documents differ and agree; scalar: the length difference.
Leakage Collect(Split split, int n, bool plant_leak,
                const RetrievalConfig& config = Defaults(),
                int seq_len = 4000) {
  Leakage out;
  for (int64_t i = 0; i < n; ++i) {
    Pair pair = Generate(config, seq_len, 5, split, i);
    if (plant_leak && pair.label == 0) pair.second[0] = 'E' + 1;
    const std::vector<double> a = probe::TokenHistogram(pair.first, 257);
    const std::vector<double> b = probe::TokenHistogram(pair.second, 257);
    std::vector<double> row;
    for (size_t k = 0; k < a.size(); ++k) row.push_back(std::abs(a[k] - b[k]));
    for (size_t k = 0; k < a.size(); ++k) row.push_back(a[k] * b[k]);
    out.features.push_back(row);
    out.scalars.push_back(std::abs(probe::UnpaddedLength(pair.first) -
                                   probe::UnpaddedLength(pair.second)));
    out.labels.push_back(pair.label);
  }
  return out;
}

// The byte and length probes of 1200 train pairs, tested on 1200 test
// pairs, stay within chance.
void ExpectNoByteOrLengthCue(const RetrievalConfig& config, int seq_len) {
  const Leakage train = Collect(Split::kTrain, 1200, false, config, seq_len);
  const Leakage test = Collect(Split::kTest, 1200, false, config, seq_len);
  const probe::LeakageAccuracy accuracy = probe::LeakageProbes(train, test, 2);
  EXPECT_LT(accuracy.by_features, 0.56);
  EXPECT_GT(accuracy.by_features, 0.44);
  EXPECT_LT(accuracy.by_scalar, 0.56);
}

TEST(RetrievalGeneratorTest, BytesAndLengthsDoNotGiveTheLabelAway) {
  ExpectNoByteOrLengthCue(Defaults(), 4000);

  // The same probe finds one leaked byte, so the check above can fail.
  const Leakage leaky_train = Collect(Split::kTrain, 500, true);
  const Leakage leaky_test = Collect(Split::kTest, 500, true);
  EXPECT_GT(
      probe::LinearProbeAccuracy(leaky_train.features, leaky_train.labels,
                                 leaky_test.features, leaky_test.labels, 2),
      0.9);
}

// The short version: markers at the start of each share. The label rule,
// lengths and the absence of byte and length cues are as with markers
// anywhere; only finding the markers becomes easy.
TEST(RetrievalGeneratorTest, FixedPlacesPutMarkersAtShareStartsAndLeakNothing) {
  RetrievalConfig config = Config(100, 128, 2, 1, 8);
  config.set_fixed_places(true);
  for (int64_t i = 0; i < 200; ++i) {
    const Pair pair = Generate(config, 128, 3, Split::kTrain, i);
    const std::vector<std::string> first = FindMarkers(pair.first);
    const std::vector<std::string> second = FindMarkers(pair.second);
    ASSERT_EQ(first.size(), 2u);
    ASSERT_EQ(second.size(), 2u);
    EXPECT_EQ(pair.label, first == second ? 1 : 0) << i;
    for (const auto* doc : {&pair.first, &pair.second}) {
      EXPECT_EQ((*doc)[0], '[' + 1) << i;  // The first marker opens it.
      const int64_t length = probe::UnpaddedLength(*doc);
      // The second marker starts within a filler step of the middle.
      bool found = false;
      for (int64_t k = length / 2; k < length / 2 + 24 && k < length; ++k)
        found |= (*doc)[k] == '[' + 1;
      EXPECT_TRUE(found) << i;
    }
  }
  // Markers at fixed places must not change what bytes and lengths say.
  ExpectNoByteOrLengthCue(config, 128);
  // Without the flag the same config places the first marker anywhere.
  config.set_fixed_places(false);
  int at_start = 0;
  for (int64_t i = 0; i < 50; ++i)
    at_start += Generate(config, 128, 3, Split::kTrain, i).first[0] == '[' + 1;
  EXPECT_LT(at_start, 25);
}

TEST(RetrievalGeneratorTest, ValidationNamesTheField) {
  struct Case {
    RetrievalConfig config;
    int seq_len;
    const char* expected;
  };
  const Case cases[] = {
      {Config(0, 10, 1, 1, 2), 100, "task.retrieval.min_length = 0"},
      {Config(20, 10, 1, 1, 2), 100, "task.retrieval.max_length = 10"},
      {Config(2000, 4000, 61, 1, 120), 4000,
       "task.retrieval.num_refs = 61 is invalid (allowed: 1..60)"},
      {Config(2000, 4000, 8, 9, 120), 4000,
       "task.retrieval.changed_refs = 9 is invalid (allowed: 1..num_refs = "
       "8)"},
      {Config(2000, 4000, 8, 4, 11), 4000,
       "task.retrieval.num_codes = 11 is invalid (allowed: 12..120"},
      {Config(2000, 4000, 8, 4, 120), 256,
       "task.retrieval.num_refs = 8 is invalid (allowed: at most 5"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(std::string(ValidateRetrievalStandIn(c.config, c.seq_len,
                                                     "task.retrieval.")
                                .message()),
                HasSubstr(c.expected));
  }
  EXPECT_TRUE(
      ValidateRetrievalStandIn(Defaults(), 4000, "task.retrieval.").ok());
}

}  // namespace
}  // namespace retrieval
}  // namespace lra
