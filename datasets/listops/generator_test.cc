#include "datasets/listops/generator.h"

#include <omp.h>

#include <set>
#include <vector>

#include "datasets/listops/evaluator.h"
#include "datasets/listops/tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace listops {
namespace {

using ::testing::HasSubstr;

// Small bounds keep the tests fast while still nesting several levels.
ListOpsConfig SmallConfig() {
  ListOpsConfig config;
  config.set_max_depth(5);
  config.set_min_args(2);
  config.set_max_args(4);
  config.set_operator_prob(0.4f);
  config.set_min_length(20);
  config.set_max_length(100);
  return config;
}

ListOpsConfig LraConfig() {
  ListOpsConfig config;
  config.set_max_depth(10);
  config.set_min_args(2);
  config.set_max_args(10);
  config.set_operator_prob(0.25f);
  config.set_min_length(500);
  config.set_max_length(2000);
  return config;
}

// Argument counts of every operator in a valid sequence.
std::vector<int> ArgumentCounts(const std::vector<uint8_t>& ids) {
  std::vector<int> counts;
  std::vector<size_t> open;  // Indices into counts.
  for (uint8_t id : ids) {
    if (id != kCloseId && !open.empty()) ++counts[open.back()];
    if (IsOperatorId(id)) {
      open.push_back(counts.size());
      counts.push_back(0);
    }
    if (id == kCloseId) open.pop_back();
  }
  return counts;
}

ListOpsExamples Generate(const ListOpsConfig& config, uint64_t seed,
                         Split split, int64_t size) {
  absl::StatusOr<ListOpsExamples> examples =
      GenerateExamples(config, seed, split, size);
  EXPECT_TRUE(examples.ok()) << examples.status();
  return examples.ok() ? *std::move(examples) : ListOpsExamples{};
}

TEST(GeneratorTest, ExamplesRespectTheBounds) {
  const ListOpsConfig config = SmallConfig();
  const ListOpsExamples examples = Generate(config, 1, Split::kTrain, 500);
  ASSERT_EQ(examples.ids.size(), 500u);
  std::set<int> arg_counts_seen;
  int max_depth_seen = 0;
  for (size_t i = 0; i < examples.ids.size(); ++i) {
    const std::vector<uint8_t>& ids = examples.ids[i];
    EXPECT_GT(ids.size(), 20u);
    EXPECT_LT(ids.size(), 100u);
    Evaluator evaluator;
    for (uint8_t id : ids) ASSERT_TRUE(evaluator.Push(id).ok());
    absl::StatusOr<int> value = evaluator.Finish();
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(*value, examples.labels[i]);
    EXPECT_LE(evaluator.max_depth(), 5);
    max_depth_seen = std::max(max_depth_seen, evaluator.max_depth());
    EXPECT_TRUE(IsOperatorId(ids[0]));
    for (int count : ArgumentCounts(ids)) {
      EXPECT_GE(count, 2);
      EXPECT_LE(count, 4);
      arg_counts_seen.insert(count);
    }
  }
  // The whole range is used, not just part of it.
  EXPECT_EQ(max_depth_seen, 5);
  EXPECT_EQ(arg_counts_seen, (std::set<int>{2, 3, 4}));
}

TEST(GeneratorTest, LraDefaultsGiveLongTrees) {
  const ListOpsExamples examples = Generate(LraConfig(), 0, Split::kTest, 4);
  ASSERT_EQ(examples.ids.size(), 4u);
  for (const std::vector<uint8_t>& ids : examples.ids) {
    EXPECT_GT(ids.size(), 500u);
    EXPECT_LT(ids.size(), 2000u);
    for (int count : ArgumentCounts(ids)) {
      EXPECT_GE(count, 2);
      EXPECT_LE(count, 10);
    }
  }
}

TEST(GeneratorTest, DeterministicBySeedSplitAndIndex) {
  const ListOpsConfig config = SmallConfig();
  const ListOpsExamples a = Generate(config, 5, Split::kVal, 200);
  const ListOpsExamples b = Generate(config, 5, Split::kVal, 200);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.labels, b.labels);
  // Example i does not depend on how many examples follow it.
  const ListOpsExamples prefix = Generate(config, 5, Split::kVal, 50);
  EXPECT_EQ(prefix.ids, std::vector<std::vector<uint8_t>>(a.ids.begin(),
                                                          a.ids.begin() + 50));
  // A different seed gives different examples.
  const ListOpsExamples other = Generate(config, 6, Split::kVal, 200);
  int same = 0;
  for (int i = 0; i < 200; ++i) same += (a.ids[i] == other.ids[i]);
  EXPECT_LT(same, 5);
}

TEST(GeneratorTest, IndependentOfThreadCount) {
  const ListOpsConfig config = SmallConfig();
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const ListOpsExamples one = Generate(config, 9, Split::kTrain, 300);
  omp_set_num_threads(4);
  const ListOpsExamples four = Generate(config, 9, Split::kTrain, 300);
  omp_set_num_threads(threads);
  EXPECT_EQ(one.ids, four.ids);
  EXPECT_EQ(one.labels, four.labels);
}

TEST(GeneratorTest, NoDuplicatesWithinOrAcrossSplits) {
  // Tight bounds: few distinct trees exist, so duplicates are drawn often
  // and must be replaced.
  ListOpsConfig config;
  config.set_max_depth(3);
  config.set_min_args(2);
  config.set_max_args(2);
  config.set_operator_prob(0.5f);
  config.set_min_length(4);
  config.set_max_length(8);
  // Lengths 5..7 allow [OP d [OP d d ] ] and [OP [OP d d ] d ]: 2 * 16 * 1000
  // = 32000 trees, about a third of them per split.
  std::set<std::vector<uint8_t>> all;
  int64_t total = 0;
  for (Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    const ListOpsExamples examples = Generate(config, 3, split, 2000);
    std::set<std::vector<uint8_t>> distinct(examples.ids.begin(),
                                            examples.ids.end());
    EXPECT_EQ(distinct.size(), examples.ids.size()) << SplitName(split);
    for (const auto& ids : examples.ids) {
      EXPECT_EQ(SplitOfTree(ids, 3), split);
    }
    all.insert(distinct.begin(), distinct.end());
    total += examples.ids.size();
  }
  EXPECT_EQ(static_cast<int64_t>(all.size()), total);
}

TEST(GeneratorTest, TooFewDistinctTreesIsAnError) {
  ListOpsConfig config;
  config.set_max_depth(2);
  config.set_min_args(1);
  config.set_max_args(1);
  config.set_operator_prob(1.0f);
  config.set_min_length(2);
  config.set_max_length(4);
  // Only [OP d ] fits: 40 trees for three splits.
  absl::StatusOr<ListOpsExamples> examples =
      GenerateExamples(config, 0, Split::kTrain, 41);
  ASSERT_FALSE(examples.ok());
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(examples.status().message(), HasSubstr("split train"));
}

TEST(GeneratorTest, ValidationNamesTheField) {
  struct Case {
    void (*edit)(ListOpsConfig*);
    const char* expected;
  };
  const Case cases[] = {
      {[](ListOpsConfig* c) { c->set_max_depth(0); }, "p.max_depth = 0"},
      // Found by config_fuzz: the length bounds recursed once per level and
      // overflowed the stack (fuzz/corpus/config_fuzz/regression-*).
      {[](ListOpsConfig* c) { c->set_max_depth(217877); },
       "p.max_depth = 217877 is invalid (allowed: <= 10000)"},
      {[](ListOpsConfig* c) { c->set_min_args(0); }, "p.min_args = 0"},
      {[](ListOpsConfig* c) { c->set_max_args(1); },
       "p.max_args = 1 is invalid (allowed: >= min_args = 2)"},
      {[](ListOpsConfig* c) { c->set_operator_prob(1.5f); },
       "p.operator_prob = 1.5"},
      {[](ListOpsConfig* c) { c->set_operator_prob(-0.1f); },
       "p.operator_prob = -0.1"},
      {[](ListOpsConfig* c) { c->set_min_length(-1); }, "p.min_length = -1"},
      {[](ListOpsConfig* c) { c->set_max_length(21); },
       "p.max_length = 21 is invalid (allowed: >= min_length + 2 = 22"},
      {[](ListOpsConfig* c) { c->set_max_length(1 << 21); },
       "p.max_length = 2097152"},
      // Depth 2 with 4 arguments allows at most 2 + 4 = 6 tokens.
      {[](ListOpsConfig* c) { c->set_max_depth(2); },
       "p.min_length = 20 is invalid (allowed: < 6, the longest tree"},
      // Always an operator down to depth 5 with 2+ arguments: at least
      // 2 + 2 * (2 + 2 * (2 + 2 * (2 + 2))) = 46 tokens.
      {[](ListOpsConfig* c) {
         c->set_operator_prob(1.0f);
         c->set_max_length(40);
       },
       "p.max_length = 40 is invalid (allowed: > 46, the shortest tree"},
  };
  ASSERT_TRUE(ValidateGeneratorConfig(SmallConfig(), "p.").ok());
  for (const Case& c : cases) {
    ListOpsConfig config = SmallConfig();
    c.edit(&config);
    absl::Status status = ValidateGeneratorConfig(config, "p.");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.expected;
    EXPECT_THAT(status.message(), HasSubstr(c.expected));
  }
}

TEST(GeneratorTest, PinnedOutput) {
  // Pins the generator's exact output: changing the PRNG, the draw order or
  // the split rule changes every data set, which must be a deliberate act.
  const ListOpsExamples examples = Generate(SmallConfig(), 0, Split::kTrain, 1);
  ASSERT_EQ(examples.ids.size(), 1u);
  std::string text;
  for (uint8_t id : examples.ids[0]) {
    text += std::string(TokenText(id)) + " ";
  }
  EXPECT_EQ(text,
            "[SM 3 [MAX 0 6 ] [MED [MED 1 9 ] [MAX [MAX 1 6 ] 9 ] ] "
            "[MAX 1 6 1 [MAX [MIN 2 0 ] [MIN 7 3 0 4 ] 4 ] ] ] ");
  // SM(3, 6, MED(5, 9) = 7, 6) = 22 mod 10.
  EXPECT_EQ(examples.labels[0], 2);
}

}  // namespace
}  // namespace listops
}  // namespace lra
