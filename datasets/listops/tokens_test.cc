#include "datasets/listops/tokens.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace listops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TokensTest, IdsFollowTheFixedVocabulary) {
  EXPECT_EQ(TokenId("0"), 1);
  EXPECT_EQ(TokenId("9"), 10);
  EXPECT_EQ(TokenId("[MIN"), 11);
  EXPECT_EQ(TokenId("[MAX"), 12);
  EXPECT_EQ(TokenId("[MED"), 13);
  EXPECT_EQ(TokenId("[SM"), 14);
  EXPECT_EQ(TokenId("]"), 15);
  EXPECT_EQ(TokenId("("), -1);
  EXPECT_EQ(TokenId("10"), -1);
  EXPECT_EQ(TokenId("<pad>"), -1);
  EXPECT_EQ(kVocabSize, 16);
  for (int32_t id = 1; id < kVocabSize; ++id) {
    EXPECT_EQ(TokenId(TokenText(id)), id) << id;
  }
  EXPECT_EQ(TokenText(kPadId), "<pad>");
  EXPECT_EQ(TokenText(16), "<invalid>");
}

TEST(TokensTest, TokenizeDropsParentheses) {
  absl::StatusOr<std::vector<int32_t>> ids =
      TokenizeSource("( ( ( [MAX 2 ) ( ( [SM 0 ) ] ) ) ] )");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre(12, 3, 14, 1, 15, 15));
}

TEST(TokensTest, TokenizeNamesUnknownToken) {
  absl::StatusOr<std::vector<int32_t>> ids = TokenizeSource("( [MAX 2 X ] )");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(ids.status().message(),
              HasSubstr("unknown token 'X' at token 4"));
  EXPECT_THAT(ids.status().message(), HasSubstr("allowed: 0-9"));
}

TEST(TokensTest, PadOrTruncate) {
  const std::vector<int32_t> ids = {12, 3, 4, 15};
  std::vector<int32_t> out(6, -1);
  PadOrTruncate(ids, 6, out.data());
  EXPECT_THAT(out, ElementsAre(12, 3, 4, 15, 0, 0));
  std::vector<int32_t> short_out(3, -1);
  PadOrTruncate(ids, 3, short_out.data());
  EXPECT_THAT(short_out, ElementsAre(12, 3, 4));
}

}  // namespace
}  // namespace listops
}  // namespace lra
