#include "models/batched_matmul.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

// c = a b (+ c) in double, element by element through the views.
void Reference(int m, int n, int k, StridedMatrix a, StridedMatrix b, float* c,
               int64_t ldc, bool accumulate, float alpha = 1.0f) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) {
        sum += double(a.data[i * a.row_stride + p * a.col_stride]) *
               b.data[p * b.row_stride + j * b.col_stride];
      }
      c[i * ldc + j] = float(alpha * sum + (accumulate ? c[i * ldc + j] : 0.0));
    }
  }
}

struct Case {
  int m, n, k;
};

// Every shape in row-major and transposed storage for both operands, with
// padded leading dimensions, overwriting and accumulating, scaled or not.
TEST(BatchedMatmulTest, MatchesReferenceForStridesAndShapes) {
  const Case cases[] = {{1, 1, 1},     {3, 5, 7},     {6, 64, 32},
                        {13, 17, 300}, {37, 130, 9},  {64, 256, 32},
                        {256, 32, 64}, {12, 48, 513}, {5, 200, 0}};
  uint64_t seed = 1;
  for (const Case& cs : cases) {
    for (int form = 0; form < 16; ++form) {
      const bool ta = form & 1, tb = form & 2, accumulate = form & 4;
      const float alpha = form & 8 ? -0.75f : 1.0f;
      const int m = cs.m, n = cs.n, k = cs.k;
      // Stored with 3 extra floats per row, so strides differ from widths.
      const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
      const std::vector<float> a = RandomValues((ta ? k : m) * lda + 1, seed++);
      const std::vector<float> b = RandomValues((tb ? n : k) * ldb + 1, seed++);
      std::vector<float> c = RandomValues(m * ldc, seed++);
      std::vector<float> expected = c;
      const StridedMatrix av =
          ta ? Transposed(a.data(), lda) : RowMajor(a.data(), lda);
      const StridedMatrix bv =
          tb ? Transposed(b.data(), ldb) : RowMajor(b.data(), ldb);
      Matmul(m, n, k, av, bv, c.data(), ldc, accumulate, alpha);
      Reference(m, n, k, av, bv, expected.data(), ldc, accumulate, alpha);
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < ldc; ++j) {
          const int64_t e = i * ldc + j;
          // Columns past n are padding and must stay untouched.
          ASSERT_NEAR(c[e], expected[e], 1e-5 * (1 + k))
              << "m " << m << " n " << n << " k " << k << " form " << form
              << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(BatchedMatmulTest, BatchStridesAndBroadcast) {
  const int batch = 5, m = 9, n = 20, k = 33;
  const std::vector<float> a = RandomValues(batch * m * k, 11);
  const std::vector<float> b =
      RandomValues(k * n, 12);  // shared by every product
  std::vector<float> c(batch * m * n, 7.0f), expected(batch * m * n);
  BatchedMatmul(batch, m, n, k, RowMajor(a.data(), k), m * k,
                RowMajor(b.data(), n), 0, c.data(), n, m * n, false);
  for (int t = 0; t < batch; ++t) {
    Reference(m, n, k, RowMajor(a.data() + t * m * k, k), RowMajor(b.data(), n),
              expected.data() + t * m * n, n, false);
  }
  for (int e = 0; e < batch * m * n; ++e) {
    ASSERT_NEAR(c[e], expected[e], 1e-4) << e;
  }
}

}  // namespace
}  // namespace lra
