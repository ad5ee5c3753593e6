#include "models/linear.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

struct Shape {
  int m, k, n;
};

class LinearShapeTest : public ::testing::TestWithParam<Shape> {};

TEST_P(LinearShapeTest, MatchesNaiveReference) {
  const auto [m, k, n] = GetParam();
  const std::vector<float> x = RandomValues(m * k, 1),
                           w = RandomValues(k * n, 2), b = RandomValues(n, 3),
                           dy = RandomValues(m * n, 4);
  Linear linear(k, n);
  std::vector<float> y(m * n);
  linear.Forward(x.data(), w.data(), b.data(), y.data(), m);
  // Twice, to exercise the cached primitive with the same buffers.
  linear.Forward(x.data(), w.data(), b.data(), y.data(), m);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = b[j];
      for (int t = 0; t < k; ++t) ref += double(x[i * k + t]) * w[t * n + j];
      ASSERT_NEAR(y[i * n + j], ref, 1e-4) << i << "," << j;
    }
  }
  // dx overwritten, then accumulated onto itself (so doubled).
  std::vector<float> dx(m * k, 123.0f);
  linear.BackwardInput(dy.data(), w.data(), dx.data(), m, false);
  std::vector<float> dx2 = dx;
  linear.BackwardInput(dy.data(), w.data(), dx2.data(), m, true);
  for (int i = 0; i < m; ++i) {
    for (int t = 0; t < k; ++t) {
      double ref = 0;
      for (int j = 0; j < n; ++j) ref += double(dy[i * n + j]) * w[t * n + j];
      ASSERT_NEAR(dx[i * k + t], ref, 1e-4);
      ASSERT_NEAR(dx2[i * k + t], 2 * ref, 2e-4);
    }
  }
  // dW and db are added to what is there.
  std::vector<float> dw(k * n, 0.5f), db(n, -1.0f);
  linear.BackwardParams(x.data(), dy.data(), dw.data(), db.data(), m);
  for (int t = 0; t < k; ++t) {
    for (int j = 0; j < n; ++j) {
      double ref = 0.5;
      for (int i = 0; i < m; ++i) ref += double(x[i * k + t]) * dy[i * n + j];
      ASSERT_NEAR(dw[t * n + j], ref, 1e-4);
    }
  }
  for (int j = 0; j < n; ++j) {
    double ref = -1.0;
    for (int i = 0; i < m; ++i) ref += dy[i * n + j];
    ASSERT_NEAR(db[j], ref, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LinearShapeTest,
                         ::testing::Values(Shape{1, 1, 1}, Shape{3, 5, 7},
                                           Shape{17, 32, 10},
                                           Shape{64, 128, 96},
                                           Shape{130, 33, 65}));

TEST(LinearTest, GradientCheck) {
  const int m = 4, k = 5, n = 3;
  std::vector<float> x = RandomValues(m * k, 11), w = RandomValues(k * n, 12),
                     b = RandomValues(n, 13);
  const std::vector<float> r = RandomValues(m * n, 14);
  Linear linear(k, n);
  std::vector<float> y(m * n);
  auto f = [&]() {
    linear.Forward(x.data(), w.data(), b.data(), y.data(), m);
    double s = 0;
    for (int i = 0; i < m * n; ++i) s += double(y[i]) * r[i];
    return s;
  };
  std::vector<float> dx(m * k), dw(k * n, 0.0f), db(n, 0.0f);
  linear.BackwardInput(r.data(), w.data(), dx.data(), m, false);
  linear.BackwardParams(x.data(), r.data(), dw.data(), db.data(), m);
  EXPECT_TRUE(internal::CheckGradient("x", f, x.data(), m * k, dx.data()));
  EXPECT_TRUE(internal::CheckGradient("w", f, w.data(), k * n, dw.data()));
  EXPECT_TRUE(internal::CheckGradient("b", f, b.data(), n, db.data()));
}

// Varying row counts run as chunks of 64 * 2^k rows (plus a remainder):
// the same products as one matmul, within float rounding of the reordered
// sums, and the chunks really cover every row (an unwritten row or a row
// counted twice would be far off).
TEST(LinearRowChunksTest, VaryingRowsMatchOneMatmul) {
  const int k = 24, n = 40;
  for (int m : {64, 448, 960, 1000, 37}) {
    SCOPED_TRACE(m);
    const std::vector<float> x = RandomValues(m * k, 11),
                             w = RandomValues(k * n, 12),
                             b = RandomValues(n, 13),
                             dy = RandomValues(m * n, 14);
    Linear fixed(k, n), varying(k, n);
    std::vector<float> y1(m * n, 7.0f), y2(m * n, 7.0f);
    fixed.Forward(x.data(), w.data(), b.data(), y1.data(), m);
    varying.Forward(x.data(), w.data(), b.data(), y2.data(), m,
                    RowCount::kVarying);
    for (int i = 0; i < m * n; ++i) ASSERT_NEAR(y1[i], y2[i], 1e-5) << i;
    std::vector<float> dx1(m * k, 1.0f), dx2(m * k, 1.0f);
    fixed.BackwardInput(dy.data(), w.data(), dx1.data(), m, true);
    varying.BackwardInput(dy.data(), w.data(), dx2.data(), m, true,
                          RowCount::kVarying);
    for (int i = 0; i < m * k; ++i) ASSERT_NEAR(dx1[i], dx2[i], 1e-5) << i;
    std::vector<float> dw1(k * n, 0.5f), dw2(k * n, 0.5f), db1(n, 0.0f),
        db2(n, 0.0f);
    fixed.BackwardParams(x.data(), dy.data(), dw1.data(), db1.data(), m);
    varying.BackwardParams(x.data(), dy.data(), dw2.data(), db2.data(), m,
                           RowCount::kVarying);
    for (int i = 0; i < k * n; ++i) ASSERT_NEAR(dw1[i], dw2[i], 1e-4) << i;
    for (int i = 0; i < n; ++i) ASSERT_EQ(db1[i], db2[i]) << i;
  }
}

}  // namespace
}  // namespace lra
