#include "models/tensor.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(TensorTest, ShapeSizeAlignmentAndZeroFill) {
  Tensor t({2, 3, 5});
  EXPECT_EQ(t.size(), 30);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(-1), 5);
  EXPECT_EQ(t.ShapeString(), "[2, 3, 5]");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  for (int64_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], 0.0f);
}

TEST(TensorTest, CopyIsDeepAndMoveTransfers) {
  Tensor a({4});
  a[2] = 7.0f;
  Tensor b = a;
  b[2] = 1.0f;
  EXPECT_EQ(a[2], 7.0f);
  Tensor c = std::move(a);
  EXPECT_EQ(c[2], 7.0f);
  EXPECT_EQ(c.size(), 4);
  c.Zero();
  EXPECT_EQ(c[2], 0.0f);
}

}  // namespace
}  // namespace lra
