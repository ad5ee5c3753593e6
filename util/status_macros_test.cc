#include "util/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

int calls = 0;

absl::Status Counted(absl::Status status) {
  ++calls;
  return status;
}

absl::Status ReturnsFirstError(bool fail) {
  RETURN_IF_ERROR(Counted(absl::OkStatus()));
  RETURN_IF_ERROR(
      Counted(fail ? absl::NotFoundError("missing") : absl::OkStatus()));
  return absl::InternalError("reached the end");
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheErrorAndEvaluatesOnce) {
  calls = 0;
  absl::Status status = ReturnsFirstError(true);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "missing");
  EXPECT_EQ(calls, 2);
  calls = 0;
  EXPECT_EQ(ReturnsFirstError(false).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(calls, 2);
}

absl::StatusOr<std::unique_ptr<std::string>> MakeText(bool fail) {
  if (fail) return absl::InvalidArgumentError("bad");
  return std::make_unique<std::string>("text");
}

absl::StatusOr<std::string> UsesAssign(bool fail) {
  // Two expansions on different lines must not clash; move-only values work.
  ASSIGN_OR_RETURN(std::unique_ptr<std::string> a, MakeText(false));
  ASSIGN_OR_RETURN(auto b, MakeText(fail));
  return *a + "+" + *b;
}

TEST(StatusMacrosTest, AssignOrReturnMovesTheValueOrReturnsTheStatus) {
  absl::StatusOr<std::string> ok = UsesAssign(false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "text+text");
  absl::StatusOr<std::string> failed = UsesAssign(true);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), "bad");
}

}  // namespace
}  // namespace lra
