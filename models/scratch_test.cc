#include "models/scratch.h"

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(ScratchTest, SameNameSharesTheLargestBuffer) {
  ScratchBuffers scratch;
  ScratchRef a = scratch.Reserve("x", 10);
  ScratchRef other = scratch.Reserve("y", 4);
  ScratchRef b = scratch.Reserve("x", 30);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_NE(a.data(), other.data());
  EXPECT_EQ(scratch.TotalFloats(), 34);
  // Every element of the largest request is usable through either handle.
  a.data()[29] = 1.5f;
  EXPECT_EQ(b.data()[29], 1.5f);
}

}  // namespace
}  // namespace lra
