#include "models/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "models/internal/fast_math.h"
#include "models/rng.h"

namespace lra {

using internal::FastErf;
using internal::FastExp;

void EmbeddingForward(const int32_t* tokens, int batch, int seq_len, int d,
                      const float* table, const float* cls, float* out) {
  const int offset = cls != nullptr ? 1 : 0;
  const int n_out = seq_len + offset;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    float* row0 = out + static_cast<int64_t>(b) * n_out * d;
    if (cls != nullptr) std::memcpy(row0, cls, d * sizeof(float));
    for (int t = 0; t < seq_len; ++t) {
      const float* src =
          table + static_cast<int64_t>(tokens[b * seq_len + t]) * d;
      std::memcpy(row0 + static_cast<int64_t>(t + offset) * d, src,
                  d * sizeof(float));
    }
  }
}

void EmbeddingBackward(const float* dout, const int32_t* tokens, int batch,
                       int seq_len, int d, bool has_cls, float* dtable,
                       float* dcls) {
  const int offset = has_cls ? 1 : 0;
  const int n_out = seq_len + offset;
  // Serial: tokens repeat, so rows of dtable would race between threads.
  for (int b = 0; b < batch; ++b) {
    const float* g0 = dout + static_cast<int64_t>(b) * n_out * d;
    if (has_cls) {
#pragma omp simd
      for (int j = 0; j < d; ++j) dcls[j] += g0[j];
    }
    for (int t = 0; t < seq_len; ++t) {
      float* dst = dtable + static_cast<int64_t>(tokens[b * seq_len + t]) * d;
      const float* g = g0 + static_cast<int64_t>(t + offset) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) dst[j] += g[j];
    }
  }
}

void AddPositionsForward(const float* table, int batch, int n, int d,
                         float* x) {
  const int64_t per_example = static_cast<int64_t>(n) * d;
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; ++b) {
    float* xb = x + b * per_example;
#pragma omp simd
    for (int64_t i = 0; i < per_example; ++i) xb[i] += table[i];
  }
}

void AddPositionsBackward(const float* dx, int batch, int n, int d,
                          float* dtable) {
  const int64_t per_example = static_cast<int64_t>(n) * d;
  for (int b = 0; b < batch; ++b) {
    const float* g = dx + b * per_example;
#pragma omp simd
    for (int64_t i = 0; i < per_example; ++i) dtable[i] += g[i];
  }
}

void SinusoidalPositions(int n, int d, float* table) {
  for (int p = 0; p < n; ++p) {
    for (int j = 0; j < d; ++j) {
      const int i2 = j - (j % 2);  // the 2i of the pair this dim belongs to
      const double angle = p / std::pow(10000.0, static_cast<double>(i2) /
                                                     static_cast<double>(d));
      table[static_cast<int64_t>(p) * d + j] =
          static_cast<float>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
}

void GridPositionsForward(const float* row_table, const float* col_table,
                          int rows, int cols, int d, int offset, float* table) {
  std::memset(table, 0, sizeof(float) * offset * d);
  for (int r = 0; r < rows; ++r) {
    const float* pr = row_table + static_cast<int64_t>(r) * d;
    for (int c = 0; c < cols; ++c) {
      const float* pc = col_table + static_cast<int64_t>(c) * d;
      float* out = table + (offset + static_cast<int64_t>(r) * cols + c) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) out[j] = pr[j] + pc[j];
    }
  }
}

void GridPositionsBackward(const float* dtable, int rows, int cols, int d,
                           int offset, float* drow, float* dcol) {
  for (int r = 0; r < rows; ++r) {
    float* gr = drow + static_cast<int64_t>(r) * d;
    for (int c = 0; c < cols; ++c) {
      const float* g =
          dtable + (offset + static_cast<int64_t>(r) * cols + c) * d;
      float* gc = dcol + static_cast<int64_t>(c) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) {
        gr[j] += g[j];
        gc[j] += g[j];
      }
    }
  }
}

void SinusoidalGridTables(int rows, int cols, int d, float* row_table,
                          float* col_table) {
  const int row_dims = d / 2, col_dims = d - d / 2;
  std::memset(row_table, 0, sizeof(float) * rows * d);
  std::memset(col_table, 0, sizeof(float) * cols * d);
  std::vector<float> part(static_cast<size_t>(std::max(rows, cols)) *
                          std::max(row_dims, col_dims));
  SinusoidalPositions(rows, row_dims, part.data());
  for (int r = 0; r < rows; ++r) {
    std::memcpy(row_table + static_cast<int64_t>(r) * d,
                part.data() + static_cast<int64_t>(r) * row_dims,
                sizeof(float) * row_dims);
  }
  SinusoidalPositions(cols, col_dims, part.data());
  for (int c = 0; c < cols; ++c) {
    std::memcpy(col_table + static_cast<int64_t>(c) * d + row_dims,
                part.data() + static_cast<int64_t>(c) * col_dims,
                sizeof(float) * col_dims);
  }
}

void LayerNormForward(const float* x, const float* gamma, const float* beta,
                      int64_t rows, int d, float* out, float* mean,
                      float* rstd) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    float* yr = out + r * d;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < d; ++j) sum += xr[j];
    const float m = sum / d;
    float var = 0.0f;
#pragma omp simd reduction(+ : var)
    for (int j = 0; j < d; ++j) {
      const float c = xr[j] - m;
      var += c * c;
    }
    const float s = 1.0f / std::sqrt(var / d + kLayerNormEpsilon);
#pragma omp simd
    for (int j = 0; j < d; ++j) yr[j] = (xr[j] - m) * s * gamma[j] + beta[j];
    mean[r] = m;
    rstd[r] = s;
  }
}

void LayerNormBackward(const float* dout, const float* x, const float* mean,
                       const float* rstd, const float* gamma, int64_t rows,
                       int d, float* dx, float* dgamma, float* dbeta) {
  // d(input): with xhat = (x - mean) * rstd and g = dout * gamma,
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = dout + r * d;
    const float* xr = x + r * d;
    float* dxr = dx + r * d;
    const float m = mean[r];
    const float s = rstd[r];
    float sum_g = 0.0f, sum_gx = 0.0f;
#pragma omp simd reduction(+ : sum_g, sum_gx)
    for (int j = 0; j < d; ++j) {
      const float g = gr[j] * gamma[j];
      sum_g += g;
      sum_gx += g * (xr[j] - m) * s;
    }
    const float mean_g = sum_g / d;
    const float mean_gx = sum_gx / d;
#pragma omp simd
    for (int j = 0; j < d; ++j) {
      const float xhat = (xr[j] - m) * s;
      dxr[j] += s * (gr[j] * gamma[j] - mean_g - xhat * mean_gx);
    }
  }
  // Parameter gradients reduce over rows; a serial pass keeps them race-free
  // and deterministic, and it is memory-bound anyway.
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = dout + r * d;
    const float* xr = x + r * d;
    const float m = mean[r];
    const float s = rstd[r];
#pragma omp simd
    for (int j = 0; j < d; ++j) {
      dgamma[j] += gr[j] * (xr[j] - m) * s;
      dbeta[j] += gr[j];
    }
  }
}

namespace {

// Exact GELU and its derivative on one element (the portable path and the
// tails of the vector path).
inline float GeluScalar(float v) {
  return 0.5f * v * (1.0f + FastErf(v * 0.70710678118654752f));
}
inline float GeluGradScalar(float v) {
  // GELU'(x) = Phi(x) + x * phi(x) with the standard normal cdf and pdf.
  const float cdf = 0.5f * (1.0f + FastErf(v * 0.70710678118654752f));
  const float pdf = 0.39894228040143268f * FastExp(-0.5f * v * v);
  return cdf + v * pdf;
}

// Elements per parallel chunk: large enough that OpenMP overhead vanishes.
constexpr int64_t kChunk = 1 << 14;

// Runs an element-wise operation over n elements in parallel chunks:
// `vector16(i)` for each full group of 16 elements at i (AVX-512 builds
// only) and `scalar(i)` for the others. A chunk's elements go the same way
// whatever the thread count, so results do not depend on it.
template <typename Vector16, typename Scalar>
void ElementwiseChunks(int64_t n, Vector16 vector16, Scalar scalar) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t i = c * kChunk;
    const int64_t end = std::min(n, i + kChunk);
#if defined(__AVX512F__)
    for (; i + 16 <= end; i += 16) vector16(i);
#endif
    for (; i < end; ++i) scalar(i);
  }
}

}  // namespace

void GeluForward(const float* x, int64_t n, float* out) {
  ElementwiseChunks(
      n,
      [&](int64_t i) {
#if defined(__AVX512F__)
        const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f),
                     rsqrt2 = _mm512_set1_ps(0.70710678118654752f);
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m512 erf = internal::Erf512(_mm512_mul_ps(v, rsqrt2));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(half, v),
                                                _mm512_add_ps(one, erf)));
#endif
      },
      [&](int64_t i) { out[i] = GeluScalar(x[i]); });
}

void GeluBackward(const float* x, const float* dout, int64_t n, float* dx) {
  ElementwiseChunks(
      n,
      [&](int64_t i) {
#if defined(__AVX512F__)
        const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f),
                     rsqrt2 = _mm512_set1_ps(0.70710678118654752f),
                     inv_sqrt_2pi = _mm512_set1_ps(0.39894228040143268f),
                     minus_half = _mm512_set1_ps(-0.5f);
        const __m512 v = _mm512_loadu_ps(x + i);
        const __m512 cdf = _mm512_mul_ps(
            half,
            _mm512_add_ps(one, internal::Erf512(_mm512_mul_ps(v, rsqrt2))));
        const __m512 pdf = _mm512_mul_ps(
            inv_sqrt_2pi,
            internal::Exp512(_mm512_mul_ps(minus_half, _mm512_mul_ps(v, v))));
        const __m512 grad = _mm512_fmadd_ps(v, pdf, cdf);
        _mm512_storeu_ps(dx + i,
                         _mm512_mul_ps(_mm512_loadu_ps(dout + i), grad));
#endif
      },
      [&](int64_t i) { dx[i] = dout[i] * GeluGradScalar(x[i]); });
}

void ReluForward(const float* x, int64_t n, float* out) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ReluBackward(const float* out, const float* dout, int64_t n, float* dx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void DropoutMask(uint64_t seed, float p, int64_t n, uint8_t* mask) {
  const uint32_t threshold = DropThreshold(p);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    mask[i] = KeepElement(seed, static_cast<uint64_t>(i), threshold) ? 1 : 0;
  }
}

void DropoutApply(const float* x, const uint8_t* mask, float p, int64_t n,
                  float* out) {
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = mask[i] ? x[i] * scale : 0.0f;
}

void AddInPlace(const float* y, int64_t n, float* x) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void SplitHeads(const float* x, int batch, int n, int heads, int head_dim,
                float* out) {
  const int width = heads * head_dim;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < heads; ++h) {
      float* dst = out + (static_cast<int64_t>(b) * heads + h) * n * head_dim;
      const float* src = x + static_cast<int64_t>(b) * n * width + h * head_dim;
      for (int t = 0; t < n; ++t) {
        std::memcpy(dst + static_cast<int64_t>(t) * head_dim,
                    src + static_cast<int64_t>(t) * width,
                    head_dim * sizeof(float));
      }
    }
  }
}

void MergeHeads(const float* x, int batch, int n, int heads, int head_dim,
                float* out) {
  const int width = heads * head_dim;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < heads; ++h) {
      const float* src =
          x + (static_cast<int64_t>(b) * heads + h) * n * head_dim;
      float* dst = out + static_cast<int64_t>(b) * n * width + h * head_dim;
      for (int t = 0; t < n; ++t) {
        std::memcpy(dst + static_cast<int64_t>(t) * width,
                    src + static_cast<int64_t>(t) * head_dim,
                    head_dim * sizeof(float));
      }
    }
  }
}

void PoolClsForward(const float* x, int batch, int n, int d, float* out) {
  for (int b = 0; b < batch; ++b) {
    std::memcpy(out + static_cast<int64_t>(b) * d,
                x + static_cast<int64_t>(b) * n * d, d * sizeof(float));
  }
}

void PoolClsBackward(const float* dout, int batch, int n, int d, float* dx) {
  for (int b = 0; b < batch; ++b) {
    float* dst = dx + static_cast<int64_t>(b) * n * d;
    const float* g = dout + static_cast<int64_t>(b) * d;
    for (int j = 0; j < d; ++j) dst[j] += g[j];
  }
}

namespace {

int CountReal(const uint8_t* mask, int n) {
  int count = 0;
  for (int t = 0; t < n; ++t) count += mask[t] != 0;
  return count;
}

}  // namespace

void PoolMeanForward(const float* x, const uint8_t* mask, int batch, int n,
                     int d, float* out) {
  for (int b = 0; b < batch; ++b) {
    float* o = out + static_cast<int64_t>(b) * d;
    std::memset(o, 0, d * sizeof(float));
    const uint8_t* mb = mask + static_cast<int64_t>(b) * n;
    const int count = CountReal(mb, n);
    if (count == 0) continue;
    const float* xb = x + static_cast<int64_t>(b) * n * d;
    for (int t = 0; t < n; ++t) {
      if (!mb[t]) continue;
      const float* xr = xb + static_cast<int64_t>(t) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) o[j] += xr[j];
    }
    const float inv = 1.0f / count;
    for (int j = 0; j < d; ++j) o[j] *= inv;
  }
}

void PoolMeanBackward(const float* dout, const uint8_t* mask, int batch, int n,
                      int d, float* dx) {
  for (int b = 0; b < batch; ++b) {
    const uint8_t* mb = mask + static_cast<int64_t>(b) * n;
    const int count = CountReal(mb, n);
    if (count == 0) continue;
    const float inv = 1.0f / count;
    const float* g = dout + static_cast<int64_t>(b) * d;
    float* dxb = dx + static_cast<int64_t>(b) * n * d;
    for (int t = 0; t < n; ++t) {
      if (!mb[t]) continue;
      float* dr = dxb + static_cast<int64_t>(t) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) dr[j] += g[j] * inv;
    }
  }
}

void PackRows(const uint8_t* mask, int seqs, int n, int32_t* position,
              int32_t* seq_start, PackedRows* rows) {
  int64_t t = 0;
  for (int b = 0; b < seqs; ++b) {
    seq_start[b] = static_cast<int32_t>(t);
    const uint8_t* mb = mask + static_cast<int64_t>(b) * n;
    for (int i = 0; i < n; ++i) {
      if (mb[i] != 0) position[t++] = b * n + i;
    }
  }
  seq_start[seqs] = static_cast<int32_t>(t);
  rows->seqs = seqs;
  rows->seq_len = n;
  rows->count = t;
  rows->rows = PackedCapacity(t);
  rows->position = position;
  rows->seq_start = seq_start;
}

namespace {

// Zeroes rows [T, R) of a packed buffer [R, width].
void ZeroTail(const PackedRows& rows, int width, float* x) {
  std::memset(x + rows.count * width, 0,
              sizeof(float) * (rows.rows - rows.count) * width);
}

}  // namespace

void GatherRows(const float* src, const PackedRows& rows, int width,
                float* dst) {
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < rows.count; ++t) {
    std::memcpy(dst + t * width,
                src + static_cast<int64_t>(rows.position[t]) * width,
                sizeof(float) * width);
  }
  ZeroTail(rows, width, dst);
}

void ScatterRows(const float* src, const PackedRows& rows, int width,
                 float* dst) {
  // One "head" as wide as the row: the same walk over real and padded rows.
  SplitHeadsPacked(src, rows, /*heads=*/1, width, dst);
}

void SplitHeadsPacked(const float* x, const PackedRows& rows, int heads,
                      int head_dim, float* out) {
  const int n = rows.seq_len, width = heads * head_dim;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < rows.seqs; ++b) {
    for (int h = 0; h < heads; ++h) {
      float* dst = out + (static_cast<int64_t>(b) * heads + h) * n * head_dim;
      int64_t t = rows.seq_start[b];
      const int64_t end = rows.seq_start[b + 1];
      for (int i = 0; i < n; ++i) {
        float* d = dst + static_cast<int64_t>(i) * head_dim;
        if (t < end && rows.position[t] == b * n + i) {
          std::memcpy(d, x + t * width + h * head_dim,
                      sizeof(float) * head_dim);
          ++t;
        } else {
          std::memset(d, 0, sizeof(float) * head_dim);
        }
      }
    }
  }
}

void MergeHeadsPacked(const float* x, const PackedRows& rows, int heads,
                      int head_dim, float* out) {
  const int n = rows.seq_len, width = heads * head_dim;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < rows.count; ++t) {
    const int64_t p = rows.position[t];
    const int64_t b = p / n, i = p % n;
    for (int h = 0; h < heads; ++h) {
      std::memcpy(out + t * width + h * head_dim,
                  x + ((b * heads + h) * n + i) * head_dim,
                  sizeof(float) * head_dim);
    }
  }
  ZeroTail(rows, width, out);
}

void DropoutMaskPacked(uint64_t seed, float p, const PackedRows& rows,
                       int width, uint8_t* mask) {
  const uint32_t threshold = DropThreshold(p);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < rows.count; ++t) {
    const uint64_t base = static_cast<uint64_t>(rows.position[t]) * width;
    uint8_t* m = mask + t * width;
    for (int c = 0; c < width; ++c) {
      m[c] = KeepElement(seed, base + c, threshold) ? 1 : 0;
    }
  }
  std::memset(mask + rows.count * width, 0,
              static_cast<size_t>(rows.rows - rows.count) * width);
}

void EmbeddingForwardPacked(const int32_t* tokens, const PackedRows& rows,
                            int tokens_per_seq, int d, const float* table,
                            const float* cls, const float* positions,
                            float* out) {
  const int n = rows.seq_len, offset = cls != nullptr ? 1 : 0;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < rows.count; ++t) {
    const int b = rows.position[t] / n, i = rows.position[t] % n;
    const float* src =
        cls != nullptr && i == 0
            ? cls
            : table + static_cast<int64_t>(
                          tokens[static_cast<int64_t>(b) * tokens_per_seq + i -
                                 offset]) *
                          d;
    float* o = out + t * d;
    std::memcpy(o, src, sizeof(float) * d);
    if (positions != nullptr) {
      const float* pr = positions + static_cast<int64_t>(i) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) o[j] += pr[j];
    }
  }
  ZeroTail(rows, d, out);
}

void EmbeddingBackwardPacked(const float* dout, const int32_t* tokens,
                             const PackedRows& rows, int tokens_per_seq, int d,
                             bool has_cls, float* dtable, float* dcls,
                             float* dpositions) {
  const int n = rows.seq_len, offset = has_cls ? 1 : 0;
  // Serial, rows in order: for every table row the contributions arrive in
  // the order of the padded EmbeddingBackward (tokens repeat, so threads
  // would race).
  for (int64_t t = 0; t < rows.count; ++t) {
    const int b = rows.position[t] / n, i = rows.position[t] % n;
    const float* g = dout + t * d;
    if (dpositions != nullptr) {
      float* dp = dpositions + static_cast<int64_t>(i) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) dp[j] += g[j];
    }
    float* dst =
        has_cls && i == 0
            ? dcls
            : dtable + static_cast<int64_t>(
                           tokens[static_cast<int64_t>(b) * tokens_per_seq + i -
                                  offset]) *
                           d;
#pragma omp simd
    for (int j = 0; j < d; ++j) dst[j] += g[j];
  }
}

void PoolClsForwardPacked(const float* x, const PackedRows& rows, int d,
                          float* out) {
  for (int b = 0; b < rows.seqs; ++b) {
    float* o = out + static_cast<int64_t>(b) * d;
    if (rows.seq_start[b + 1] == rows.seq_start[b]) {
      std::memset(o, 0, sizeof(float) * d);
      continue;
    }
    std::memcpy(o, x + static_cast<int64_t>(rows.seq_start[b]) * d,
                sizeof(float) * d);
  }
}

void PoolMeanForwardPacked(const float* x, const PackedRows& rows, int d,
                           float* out) {
  for (int b = 0; b < rows.seqs; ++b) {
    float* o = out + static_cast<int64_t>(b) * d;
    std::memset(o, 0, d * sizeof(float));
    const int64_t begin = rows.seq_start[b], end = rows.seq_start[b + 1];
    if (end == begin) continue;
    for (int64_t t = begin; t < end; ++t) {
      const float* xr = x + t * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) o[j] += xr[j];
    }
    const float inv = 1.0f / static_cast<int>(end - begin);
    for (int j = 0; j < d; ++j) o[j] *= inv;
  }
}

void PoolClsBackwardPacked(const float* dout, const PackedRows& rows, int d,
                           float* dx) {
  for (int b = 0; b < rows.seqs; ++b) {
    if (rows.seq_start[b + 1] == rows.seq_start[b]) continue;
    float* dst = dx + static_cast<int64_t>(rows.seq_start[b]) * d;
    const float* g = dout + static_cast<int64_t>(b) * d;
    for (int j = 0; j < d; ++j) dst[j] += g[j];
  }
}

void PoolMeanBackwardPacked(const float* dout, const PackedRows& rows, int d,
                            float* dx) {
  for (int b = 0; b < rows.seqs; ++b) {
    const int64_t begin = rows.seq_start[b], end = rows.seq_start[b + 1];
    if (end == begin) continue;
    const float inv = 1.0f / static_cast<int>(end - begin);
    const float* g = dout + static_cast<int64_t>(b) * d;
    for (int64_t t = begin; t < end; ++t) {
      float* dr = dx + t * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) dr[j] += g[j] * inv;
    }
  }
}

float SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch,
                          int classes, float* dlogits, int* correct) {
  double total = 0.0;
  int hits = 0;
  for (int b = 0; b < batch; ++b) {
    const float* z = logits + static_cast<int64_t>(b) * classes;
    float* dz = dlogits + static_cast<int64_t>(b) * classes;
    int argmax = 0;
    for (int c = 1; c < classes; ++c) {
      if (z[c] > z[argmax]) argmax = c;
    }
    const double zmax = z[argmax];
    double sum = 0.0;
    for (int c = 0; c < classes; ++c) sum += std::exp(z[c] - zmax);
    const double log_sum = std::log(sum) + zmax;
    const int label = labels[b];
    total += log_sum - z[label];
    hits += argmax == label;
    for (int c = 0; c < classes; ++c) {
      const double prob = std::exp(z[c] - log_sum);
      dz[c] = static_cast<float>((prob - (c == label ? 1.0 : 0.0)) / batch);
    }
  }
  if (correct != nullptr) *correct = hits;
  return static_cast<float>(total / batch);
}

}  // namespace lra
