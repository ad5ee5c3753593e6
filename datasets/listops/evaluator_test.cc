#include "datasets/listops/evaluator.h"

#include <string>
#include <vector>

#include "datasets/listops/tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lra {
namespace listops {
namespace {

using ::testing::HasSubstr;

// Evaluates a space-separated expression without parentheses.
int Eval(absl::string_view source) {
  absl::StatusOr<std::vector<int32_t>> ids = TokenizeSource(source);
  EXPECT_TRUE(ids.ok()) << ids.status();
  absl::StatusOr<int> value = Evaluate(*ids);
  EXPECT_TRUE(value.ok()) << source << ": " << value.status();
  return value.ok() ? *value : -1;
}

// The error message of evaluating `ids`, or "ok".
std::string EvalError(absl::Span<const int32_t> ids) {
  absl::StatusOr<int> value = Evaluate(ids);
  return value.ok() ? "ok" : std::string(value.status().message());
}

TEST(EvaluatorTest, Operators) {
  EXPECT_EQ(Eval("7"), 7);
  EXPECT_EQ(Eval("[MIN 4 2 8 ]"), 2);
  EXPECT_EQ(Eval("[MAX 4 2 8 ]"), 8);
  EXPECT_EQ(Eval("[MED 4 2 8 ]"), 4);
  EXPECT_EQ(Eval("[SM 4 2 8 ]"), 4);  // 14 mod 10.
  EXPECT_EQ(Eval("[MIN 5 ]"), 5);
}

TEST(EvaluatorTest, MedianOfEvenCountTruncatesTheMean) {
  EXPECT_EQ(Eval("[MED 1 2 3 8 ]"), 2);  // (2 + 3) / 2 = 2.5 -> 2.
  EXPECT_EQ(Eval("[MED 8 3 1 2 ]"), 2);  // Order does not matter.
  EXPECT_EQ(Eval("[MED 9 8 ]"), 8);      // 8.5 -> 8.
  EXPECT_EQ(Eval("[MED 0 0 9 9 ]"), 4);  // 4.5 -> 4.
  EXPECT_EQ(Eval("[MED 3 3 ]"), 3);
}

TEST(EvaluatorTest, Nested) {
  // [SM [SM 9 8 ] [MAX 7 9 ] 5 ] = (7 + 9 + 5) mod 10 = 1.
  EXPECT_EQ(Eval("[SM [SM 9 8 ] [MAX 7 9 ] 5 ]"), 1);
  // [MED [MIN 3 4 ] [SM 5 6 ] 9 [MAX 0 2 ] ] = MED(3, 1, 9, 2) = 2.
  EXPECT_EQ(Eval("[MED [MIN 3 4 ] [SM 5 6 ] 9 [MAX 0 2 ] ]"), 2);
  EXPECT_EQ(Eval("[MAX [MIN [MAX 1 [SM 9 9 ] ] 5 ] 3 ]"), 5);
}

TEST(EvaluatorTest, TrailingPaddingIsAllowed) {
  const std::vector<int32_t> ids = {kMaxId, DigitId(2), DigitId(9), kCloseId,
                                    0,      0,          0};
  absl::StatusOr<int> value = Evaluate(ids);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, 9);
  const std::vector<uint8_t> bytes = {kSumModId, 5, 6, kCloseId, 0};
  EXPECT_EQ(*Evaluate(bytes), 9);  // Digits 4 + 5.
}

TEST(EvaluatorTest, ReportsMalformedSequences) {
  EXPECT_THAT(EvalError({kMaxId, DigitId(2)}),
              HasSubstr("1 operator(s) still open"));
  EXPECT_THAT(EvalError({kCloseId}),
              HasSubstr("token 1 (']') closes no open operator"));
  EXPECT_THAT(EvalError({kMaxId, DigitId(2), kCloseId, kCloseId}),
              HasSubstr("token 4 (']') follows a complete expression"));
  EXPECT_THAT(EvalError({kMaxId, kCloseId}), HasSubstr("with no arguments"));
  EXPECT_THAT(EvalError({DigitId(2), DigitId(3)}),
              HasSubstr("token 2 ('3') follows a complete expression"));
  EXPECT_THAT(EvalError({kMaxId, 0, DigitId(1), kCloseId}),
              HasSubstr("follows padding"));
  EXPECT_THAT(EvalError({kMaxId, 16}), HasSubstr("has id 16"));
  EXPECT_THAT(EvalError({}), HasSubstr("empty expression"));
  EXPECT_THAT(EvalError({0, 0}), HasSubstr("empty expression"));
}

TEST(EvaluatorTest, CountsDepthLikeTheGenerator) {
  Evaluator evaluator;
  for (int32_t id :
       {kMaxId, DigitId(1), kMinId, DigitId(2), kCloseId, kCloseId}) {
    ASSERT_TRUE(evaluator.Push(id).ok());
  }
  EXPECT_EQ(evaluator.max_depth(), 3);
  EXPECT_EQ(*evaluator.Finish(), 2);
  evaluator.Reset();
  ASSERT_TRUE(evaluator.Push(DigitId(4)).ok());
  EXPECT_EQ(evaluator.max_depth(), 1);
  EXPECT_EQ(*evaluator.Finish(), 4);
}

}  // namespace
}  // namespace listops
}  // namespace lra
