#include "models/rng.h"

#include <cmath>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(RngTest, PureFunctionOfSeedAndIndex) {
  EXPECT_EQ(RandomBits(1, 2), RandomBits(1, 2));
  EXPECT_NE(RandomBits(1, 2), RandomBits(1, 3));
  EXPECT_NE(RandomBits(1, 2), RandomBits(2, 2));
  EXPECT_NE(DeriveSeed(5, 0), DeriveSeed(5, 1));
  // Pins the generator so that a change to it (which would change every
  // initialisation and mask) cannot go unnoticed: splitmix64 of 0.
  EXPECT_EQ(SplitMix64(0), 0xE220A8397B1DCDAFULL);
}

TEST(RngTest, UniformAndNormalMoments) {
  const int n = 200000;
  double sum = 0, sum_sq = 0, nsum = 0, nsum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double u = UniformFloat(42, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
    const double z = NormalDouble(42, i);
    nsum += z;
    nsum_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum_sq / n - 0.25, 1.0 / 12, 0.005);
  EXPECT_NEAR(nsum / n, 0.0, 0.01);
  EXPECT_NEAR(nsum_sq / n, 1.0, 0.02);
}

TEST(RngTest, KeepRateMatchesDropProbability) {
  const uint32_t threshold = DropThreshold(0.3f);
  int kept = 0;
  for (int i = 0; i < 100000; ++i) kept += KeepElement(9, i, threshold);
  EXPECT_NEAR(kept / 100000.0, 0.7, 0.01);
  EXPECT_EQ(DropThreshold(0.0f), 0u);
}

}  // namespace
}  // namespace lra
