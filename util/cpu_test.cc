#include "util/cpu.h"

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(CpuTest, ZeroThreadsMeansEveryCore) {
  EXPECT_GE(OnlineCores(), 1);
  EXPECT_EQ(ThreadsOrAllCores(0), OnlineCores());
  EXPECT_EQ(ThreadsOrAllCores(-1), OnlineCores());
  EXPECT_EQ(ThreadsOrAllCores(3), 3);
}

}  // namespace
}  // namespace lra
