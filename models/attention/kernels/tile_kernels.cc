#include "models/attention/kernels/tile_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/internal/fast_math.h"
#include "models/internal/register_tile.h"
#include "models/rng.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace lra::internal {
namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

#if defined(__AVX512F__)

namespace {

// R rows of the score tile for the first C 16-key chunks of a tile; the
// other chunks are zeroed (they are masked to -inf or multiplied by zero
// probabilities afterwards, so only their finiteness matters).
template <int C, int R>
inline void ScoreRows(const float* a, int dh, const float* bt, int bt_stride,
                      __m512 scale, const float* bias, float* c) {
  __m512 acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  FmaRows<C, R, /*kMaskedTail=*/false>(acc, a, dh, 1, dh, bt, bt_stride,
                                       __mmask16(0xFFFF));
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) {
      __m512 v = _mm512_setzero_ps();
      if (j < C) {
        v = _mm512_mul_ps(acc[r][j], scale);
        if (bias != nullptr) {
          v = _mm512_add_ps(v, _mm512_loadu_ps(bias + 16 * j));
        }
      }
      _mm512_storeu_ps(c + r * kKeyBlock + 16 * j, v);
    }
  }
}

// ScoreRows over all rows: register tiles of R rows, then single rows.
struct ScoreChunks {
  template <int C>
  static void Run(const float* a, int rows, int dh, const float* bt,
                  int bt_stride, float scale, const float* bias, float* c) {
    // More rows per register tile when fewer chunks: about 16 accumulators.
    constexpr int R = C == 1 ? 12 : C == 2 ? 8 : C == 3 ? 5 : 4;
    const __m512 s = _mm512_set1_ps(scale);
    int r = 0;
    for (; r + R <= rows; r += R) {
      ScoreRows<C, R>(a + r * dh, dh, bt, bt_stride, s, bias,
                      c + r * kKeyBlock);
    }
    for (; r < rows; ++r) {
      ScoreRows<C, 1>(a + r * dh, dh, bt, bt_stride, s, bias,
                      c + r * kKeyBlock);
    }
  }
};

// R output rows of dh = 16 * (DV - 1) + popcount(tail) floats each.
template <int DV, int R>
inline void AccumulateRows(const float* p, int p_row_stride, int p_col_stride,
                           int depth, const float* x, int dh, __mmask16 tail,
                           float* c) {
  __m512 acc[R][DV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int d = 0; d < DV - 1; ++d) {
      acc[r][d] = _mm512_loadu_ps(c + r * dh + 16 * d);
    }
    acc[r][DV - 1] = _mm512_maskz_loadu_ps(tail, c + r * dh + 16 * (DV - 1));
  }
  FmaRows<DV, R, /*kMaskedTail=*/true>(acc, p, p_row_stride, p_col_stride,
                                       depth, x, dh, tail);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
    for (int d = 0; d < DV - 1; ++d) {
      _mm512_storeu_ps(c + r * dh + 16 * d, acc[r][d]);
    }
    _mm512_mask_storeu_ps(c + r * dh + 16 * (DV - 1), tail, acc[r][DV - 1]);
  }
}

struct AccumulateTileDv {
  template <int DV>
  static void Run(const float* p, int p_row_stride, int p_col_stride, int rows,
                  int depth, const float* x, int dh, float* c) {
    // Rows per register tile: about 16 accumulators, leaving room for the
    // DV loaded x vectors and a broadcast.
    constexpr int R = DV == 1   ? 12
                      : DV == 2 ? 8
                      : DV == 3 ? 5
                      : DV == 4 ? 4
                                : 2;
    const int rem = dh - 16 * (DV - 1);
    const __mmask16 tail = static_cast<__mmask16>((1u << rem) - 1u);
    int r = 0;
    for (; r + R <= rows; r += R) {
      AccumulateRows<DV, R>(p + r * p_row_stride, p_row_stride, p_col_stride,
                            depth, x, dh, tail, c + r * dh);
    }
    for (; r < rows; ++r) {
      AccumulateRows<DV, 1>(p + r * p_row_stride, p_row_stride, p_col_stride,
                            depth, x, dh, tail, c + r * dh);
    }
  }
};

}  // namespace

void ScoreTile(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, float* c) {
  ScoreChunks::Run<4>(a, rows, dh, bt, bt_stride, scale, bias, c);
}

void ScoreKeys(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, int count, float* c) {
  // A full tile (or count <= 0) computes every chunk.
  const int chunks = (count + 15) / 16;
  DispatchCount<4, ScoreChunks>(chunks >= 1 && chunks <= 3 ? chunks : 4, a,
                                rows, dh, bt, bt_stride, scale, bias, c);
}

void ScoreTileCols(const float* a, int rows, int dh, const float* bt,
                   int bt_stride, float scale, const float* bias, int cols,
                   float* c) {
  const int chunks = (cols + 15) / 16;
  if (chunks < 1 || chunks > 3) {
    return ScoreTile(a, rows, dh, bt, bt_stride, scale, bias, c);
  }
  ScoreKeys(a, rows, dh, bt, bt_stride, scale, bias, cols, c);
  if (bias == nullptr) return;
  // ScoreTile adds the bias to the zero scores of the columns past `cols`.
  for (int r = 0; r < rows; ++r) {
    for (int k = 16 * chunks; k < kKeyBlock; ++k) {
      c[r * kKeyBlock + k] = 0.0f + bias[k];
    }
  }
}

void AccumulateTile(const float* p, int p_row_stride, int p_col_stride,
                    int rows, int depth, const float* x, int dh, float* c) {
  const int dv = (dh + 15) / 16;
  if (dv >= 1 && dv <= 8) {
    return DispatchCount<8, AccumulateTileDv>(dv, p, p_row_stride, p_col_stride,
                                              rows, depth, x, dh, c);
  }
  // Heads wider than 128: plain loops.
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < depth; ++k) {
      const float pv = p[r * p_row_stride + k * p_col_stride];
      const float* xr = x + k * dh;
      float* cr = c + r * dh;
#pragma omp simd
      for (int d = 0; d < dh; ++d) cr[d] += pv * xr[d];
    }
  }
}

float SoftmaxRowUpdate(float* s, float* m, float* l) {
  const __m512 v0 = _mm512_loadu_ps(s), v1 = _mm512_loadu_ps(s + 16),
               v2 = _mm512_loadu_ps(s + 32), v3 = _mm512_loadu_ps(s + 48);
  const float block_max = _mm512_reduce_max_ps(
      _mm512_max_ps(_mm512_max_ps(v0, v1), _mm512_max_ps(v2, v3)));
  const float m_new = std::max(*m, block_max);
  if (m_new == kNegInf) {
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < 4; ++j) _mm512_storeu_ps(s + 16 * j, zero);
    return 1.0f;
  }
  const __m512 mv = _mm512_set1_ps(m_new);
  const __m512 e0 = Exp512(_mm512_sub_ps(v0, mv)),
               e1 = Exp512(_mm512_sub_ps(v1, mv)),
               e2 = Exp512(_mm512_sub_ps(v2, mv)),
               e3 = Exp512(_mm512_sub_ps(v3, mv));
  _mm512_storeu_ps(s, e0);
  _mm512_storeu_ps(s + 16, e1);
  _mm512_storeu_ps(s + 32, e2);
  _mm512_storeu_ps(s + 48, e3);
  const float sum = _mm512_reduce_add_ps(
      _mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
  const float alpha = FastExp(*m - m_new);
  *l = *l * alpha + sum;
  *m = m_new;
  return alpha;
}

void ExpShiftRow(float* s, float lse) {
  const __m512 lv = _mm512_set1_ps(lse);
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    _mm512_storeu_ps(s + 16 * j,
                     Exp512(_mm512_sub_ps(_mm512_loadu_ps(s + 16 * j), lv)));
  }
}

void SoftmaxGradRow(const float* p, float d, float scale, float* ds) {
  const __m512 dv = _mm512_set1_ps(d), sv = _mm512_set1_ps(scale);
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    const __m512 g = _mm512_sub_ps(_mm512_loadu_ps(ds + 16 * j), dv);
    _mm512_storeu_ps(
        ds + 16 * j,
        _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(p + 16 * j), g), sv));
  }
}

#else  // !defined(__AVX512F__): portable loops with the same contracts.

void ScoreTileCols(const float* a, int rows, int dh, const float* bt,
                   int bt_stride, float scale, const float* bias, int cols,
                   float* c) {
  ScoreTile(a, rows, dh, bt, bt_stride, scale, bias, c);
}

void ScoreTile(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, float* c) {
  for (int r = 0; r < rows; ++r) {
    float row[kKeyBlock] = {};
    for (int x = 0; x < dh; ++x) {
      const float av = a[r * dh + x];
#pragma omp simd
      for (int j = 0; j < kKeyBlock; ++j) row[j] += av * bt[x * bt_stride + j];
    }
    for (int j = 0; j < kKeyBlock; ++j) {
      c[r * kKeyBlock + j] = row[j] * scale + (bias ? bias[j] : 0.0f);
    }
  }
}

void ScoreKeys(const float* a, int rows, int dh, const float* bt, int bt_stride,
               float scale, const float* bias, int /*count*/, float* c) {
  ScoreTile(a, rows, dh, bt, bt_stride, scale, bias, c);
}

void AccumulateTile(const float* p, int p_row_stride, int p_col_stride,
                    int rows, int depth, const float* x, int dh, float* c) {
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < depth; ++k) {
      const float pv = p[r * p_row_stride + k * p_col_stride];
#pragma omp simd
      for (int d = 0; d < dh; ++d) c[r * dh + d] += pv * x[k * dh + d];
    }
  }
}

float SoftmaxRowUpdate(float* s, float* m, float* l) {
  float m_new = *m;
  for (int j = 0; j < kKeyBlock; ++j) m_new = std::max(m_new, s[j]);
  if (m_new == kNegInf) {
    for (int j = 0; j < kKeyBlock; ++j) s[j] = 0.0f;
    return 1.0f;
  }
  float sum = 0.0f;
  for (int j = 0; j < kKeyBlock; ++j) {
    s[j] = FastExp(s[j] - m_new);
    sum += s[j];
  }
  const float alpha = FastExp(*m - m_new);
  *l = *l * alpha + sum;
  *m = m_new;
  return alpha;
}

void ExpShiftRow(float* s, float lse) {
  for (int j = 0; j < kKeyBlock; ++j) s[j] = FastExp(s[j] - lse);
}

void SoftmaxGradRow(const float* p, float d, float scale, float* ds) {
  for (int j = 0; j < kKeyBlock; ++j) ds[j] = p[j] * (ds[j] - d) * scale;
}

#endif

void DropoutTile(uint64_t seed, uint32_t threshold, float keep_scale, int row0,
                 int col0, int rows, int cols, int row_len, float* p) {
  for (int r = 0; r < rows; ++r) {
    const uint64_t base = static_cast<uint64_t>(row0 + r) * row_len + col0;
    for (int c = 0; c < cols; ++c) {
      p[r * kKeyBlock + c] = KeepElement(seed, base + c, threshold)
                                 ? p[r * kKeyBlock + c] * keep_scale
                                 : 0.0f;
    }
  }
}

void ScaleRow(float* x, int n, float alpha) {
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] *= alpha;
}

}  // namespace lra::internal
