#include "datasets/common/generated_dataset.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

// Two segments of 5: example i has i % 5 + 1 tokens in the first and
// 5 - i % 5 in the second, with ids that depend on i.
int32_t Example(int64_t index, int32_t* tokens) {
  for (int s = 0; s < 2; ++s) {
    const int length = s == 0 ? index % 5 + 1 : 5 - index % 5;
    for (int i = 0; i < 5; ++i) {
      tokens[s * 5 + i] = i < length ? 1 + (index * 7 + i + s) % 200 : 0;
    }
  }
  return static_cast<int32_t>(index % 3);
}

GeneratedDatasetSpec Spec() {
  GeneratedDatasetSpec spec;
  spec.size = 100;
  spec.segment_len = 5;
  spec.num_segments = 2;
  spec.vocab_size = 201;
  spec.num_classes = 3;
  spec.id_offset = 1;
  return spec;
}

TEST(GeneratedDatasetTest, MaterialisedAndLazyGiveTheSameExamples) {
  auto stored = MakeGeneratedDataset(Spec(), Example);
  auto lazy = MakeGeneratedDataset(Spec(), Example, /*budget_bytes=*/0);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(lazy.ok()) << lazy.status();
  for (const auto* dataset : {stored->get(), lazy->get()}) {
    EXPECT_EQ(dataset->size(), 100);
    EXPECT_EQ(dataset->seq_len(), 10);
    EXPECT_EQ(dataset->num_segments(), 2);
    EXPECT_EQ(dataset->vocab_size(), 201);
    EXPECT_EQ(dataset->num_classes(), 3);
  }
  std::vector<int32_t> expected(10), a(10, -1), b(10, -1);
  for (int64_t i = 0; i < 100; ++i) {
    const int32_t label = Example(i, expected.data());
    EXPECT_EQ((*stored)->Get(i, a.data()), label);
    EXPECT_EQ((*lazy)->Get(i, b.data()), label);
    EXPECT_EQ(a, expected) << i;
    EXPECT_EQ(b, expected) << i;
  }
}

TEST(GeneratedDatasetTest, RejectsIdsThatCannotBeStored) {
  GeneratedDatasetSpec spec = Spec();
  spec.size = 3;
  auto dataset = MakeGeneratedDataset(spec, [](int64_t index, int32_t* t) {
    for (int i = 0; i < 10; ++i) t[i] = 1;
    if (index == 2) t[3] = 300;  // 300 - 1 does not fit in a byte.
    return 0;
  });
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(dataset.status().message()),
              HasSubstr("generated example 2"));
}

}  // namespace
}  // namespace lra
