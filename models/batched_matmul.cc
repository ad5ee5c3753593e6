#include "models/batched_matmul.h"

#include <algorithm>
#include <limits>

#include "models/internal/fast_math.h"
#include "models/internal/register_tile.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace lra {
namespace {

// Columns of C per register tile (four 16-float vectors) and the depth of
// one pass over a packed block of B.
constexpr int kColumnBlock = 64;
constexpr int kDepthBlock = 256;

#if defined(__AVX512F__)

// c [R, 16 * (NV - 1) + popcount(tail)] (+)= a [R, k] b [k, ...], where b's
// rows are b_rs floats apart and contiguous within the tile.
template <int NV, int R>
inline void Tile(const float* a, int64_t a_rs, int64_t a_cs, int k,
                 const float* b, int64_t b_rs, __mmask16 tail, float* c,
                 int64_t ldc, bool accumulate, float alpha) {
  __m512 acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  internal::FmaRows<NV, R, /*kMaskedTail=*/true>(acc, a, a_rs, a_cs, k, b, b_rs,
                                                 tail);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* cp = c + r * ldc + 16 * v;
      const __mmask16 mask = v == NV - 1 ? tail : __mmask16(0xFFFF);
      __m512 x = acc[r][v];
      if (alpha != 1.0f) x = _mm512_mul_ps(x, _mm512_set1_ps(alpha));
      if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, cp));
      _mm512_mask_storeu_ps(cp, mask, x);
    }
  }
}

// All m rows of one column block: tiles of R rows, then of 4 and 1.
struct ColumnBlock {
  template <int NV>
  __attribute__((noinline)) static void Run(int m, int k, const float* a,
                                            int64_t a_rs, int64_t a_cs,
                                            const float* b, int64_t b_rs,
                                            __mmask16 tail, float* c,
                                            int64_t ldc, bool accumulate,
                                            float alpha) {
    // 16 to 24 accumulators, leaving registers for NV loads and a broadcast:
    // 6 x 4 made GCC spill a B vector (measured on one core: [128, 32] x
    // [32, 256] at about 140 GFLOP/s with 6 rows, 170 with 5). noinline keeps
    // each width's code from shifting the others' (without it, changing the
    // 4-vector tile moved the 2-vector tile from about 205 to 135 GFLOP/s).
    constexpr int R = NV == 1 ? 16 : NV == 2 ? 12 : NV == 3 ? 8 : 5;
    int i = 0;
    for (; i + R <= m; i += R) {
      Tile<NV, R>(a + i * a_rs, a_rs, a_cs, k, b, b_rs, tail, c + i * ldc, ldc,
                  accumulate, alpha);
    }
    for (; i + 4 <= m; i += 4) {
      Tile<NV, 4>(a + i * a_rs, a_rs, a_cs, k, b, b_rs, tail, c + i * ldc, ldc,
                  accumulate, alpha);
    }
    for (; i < m; ++i) {
      Tile<NV, 1>(a + i * a_rs, a_rs, a_cs, k, b, b_rs, tail, c + i * ldc, ldc,
                  accumulate, alpha);
    }
  }
};

void ColumnBlockAnyWidth(int width, int m, int k, const float* a, int64_t a_rs,
                         int64_t a_cs, const float* b, int64_t b_rs, float* c,
                         int64_t ldc, bool accumulate, float alpha) {
  const int nv = (width + 15) / 16;
  const int rem = width - 16 * (nv - 1);
  const __mmask16 tail = static_cast<__mmask16>((1u << rem) - 1u);
  internal::DispatchCount<4, ColumnBlock>(nv, m, k, a, a_rs, a_cs, b, b_rs,
                                          tail, c, ldc, accumulate, alpha);
}

#else  // !defined(__AVX512F__)

void ColumnBlockAnyWidth(int width, int m, int k, const float* a, int64_t a_rs,
                         int64_t a_cs, const float* b, int64_t b_rs, float* c,
                         int64_t ldc, bool accumulate, float alpha) {
  for (int i = 0; i < m; ++i) {
    float row[kColumnBlock] = {};
    for (int p = 0; p < k; ++p) {
      const float av = a[i * a_rs + p * a_cs];
      const float* bp = b + p * b_rs;
#pragma omp simd
      for (int j = 0; j < width; ++j) row[j] += av * bp[j];
    }
    float* ci = c + i * ldc;
    for (int j = 0; j < width; ++j)
      ci[j] = accumulate ? ci[j] + alpha * row[j] : alpha * row[j];
  }
}

#endif

}  // namespace

void Matmul(int m, int n, int k, StridedMatrix a, StridedMatrix b, float* c,
            int64_t ldc, bool accumulate, float alpha) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
    }
    return;
  }
  // A B whose columns are not contiguous is packed block by block.
  alignas(64) float packed[kDepthBlock * kColumnBlock];
  for (int j0 = 0; j0 < n; j0 += kColumnBlock) {
    const int width = std::min(kColumnBlock, n - j0);
    for (int p0 = 0; p0 < k; p0 += kDepthBlock) {
      const int depth = std::min(kDepthBlock, k - p0);
      const float* bp = b.data + p0 * b.row_stride + j0 * b.col_stride;
      int64_t b_rs = b.row_stride;
      if (b.col_stride != 1) {
        for (int p = 0; p < depth; ++p) {
          for (int j = 0; j < width; ++j) {
            packed[p * kColumnBlock + j] =
                bp[p * b.row_stride + j * b.col_stride];
          }
        }
        bp = packed;
        b_rs = kColumnBlock;
      }
      ColumnBlockAnyWidth(width, m, depth, a.data + p0 * a.col_stride,
                          a.row_stride, a.col_stride, bp, b_rs, c + j0, ldc,
                          accumulate || p0 > 0, alpha);
    }
  }
}

void BatchedMatmul(int batch, int m, int n, int k, StridedMatrix a,
                   int64_t a_batch_stride, StridedMatrix b,
                   int64_t b_batch_stride, float* c, int64_t ldc,
                   int64_t c_batch_stride, bool accumulate) {
#pragma omp parallel for schedule(static) if (batch > 1)
  for (int t = 0; t < batch; ++t) {
    StridedMatrix at = a, bt = b;
    at.data += t * a_batch_stride;
    bt.data += t * b_batch_stride;
    Matmul(m, n, k, at, bt, c + t * c_batch_stride, ldc, accumulate);
  }
}

float RowMax(const float* x, int64_t n) {
  float best = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
#if defined(__AVX512F__)
  __m512 acc = _mm512_set1_ps(best);
  for (; i + 16 <= n; i += 16) acc = _mm512_max_ps(acc, _mm512_loadu_ps(x + i));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  for (float lane : lanes) best = std::max(best, lane);
#endif
  for (; i < n; ++i) best = std::max(best, x[i]);
  return best;
}

float ExpShifted(const float* x, int64_t n, float shift, float scale,
                 float* y) {
#if defined(__AVX512F__)
  const __m512 shift_v = _mm512_set1_ps(shift), scale_v = _mm512_set1_ps(scale);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16
                               ? __mmask16(0xFFFF)
                               : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 e =
        _mm512_mul_ps(internal::Exp512(_mm512_sub_ps(
                          _mm512_maskz_loadu_ps(mask, x + i), shift_v)),
                      scale_v);
    sum = _mm512_mask_add_ps(sum, mask, sum, e);
    if (y != nullptr) _mm512_mask_storeu_ps(y + i, mask, e);
  }
  // Summed by hand: GCC 12's _mm512_reduce_add_ps warns spuriously.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (float lane : lanes) total += lane;
  return total;
#else
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float e = internal::FastExp(x[i] - shift) * scale;
    if (y != nullptr) y[i] = e;
    sum += e;
  }
  return sum;
#endif
}

}  // namespace lra
