#include "models/attention/nystromformer/nystromformer_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/attention/factory_checks.h"
#include "models/batched_matmul.h"
#include "models/internal/scratch_carver.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float Dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t x = 0; x < n; ++x) sum += a[x] * b[x];
  return sum;
}

// y [n] += alpha x [n].
void Axpy(float alpha, const float* x, int64_t n, float* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// xm [N, Dh] = x with the rows of padded positions zeroed.
void MaskedRows(const float* x, const uint8_t* is_real, int N, int Dh,
                float* xm) {
  for (int j = 0; j < N; ++j) {
    float* row = xm + int64_t(j) * Dh;
    if (is_real[j]) {
      std::copy_n(x + int64_t(j) * Dh, Dh, row);
    } else {
      std::fill(row, row + Dh, 0.0f);
    }
  }
}

// c [M, N] = alpha op(a) op(b) + beta c with beta 0 or 1, where op(a) is
// [M, K] and op(b) is [K, N]; all matrices compact row-major. For the small
// landmark matrices.
void Gemm(bool transpose_a, bool transpose_b, int M, int N, int K, float alpha,
          const float* a, const float* b, float beta, float* c) {
  Matmul(M, N, K, transpose_a ? Transposed(a, M) : RowMajor(a, K),
         transpose_b ? Transposed(b, K) : RowMajor(b, N), c, N,
         /*accumulate=*/beta != 0.0f, alpha);
}

// Softmax of row x [n] in place; -inf entries get weight 0. A row of only
// -inf becomes zeros.
void SoftmaxRow(float* x, int n) {
  const float max_value = RowMax(x, n);
  if (max_value == kNegInf) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  const float inv = 1.0f / ExpShifted(x, n, max_value, 1.0f, x);
#pragma omp simd
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

// dx [n] = p * (dx - sum(p * dx)) in place: the softmax backward of one row.
void SoftmaxGradRow(const float* p, int n, float* dx) {
  float weighted = 0.0f;
#pragma omp simd reduction(+ : weighted)
  for (int i = 0; i < n; ++i) weighted += p[i] * dx[i];
#pragma omp simd
  for (int i = 0; i < n; ++i) dx[i] = p[i] * (dx[i] - weighted);
}

// One step of the iteration for pinv(A) (Razavi et al. 2014, as used by
// Nyströmformer), for A and Z [n, n]:
//   X = A Z, T1 = 7I - X, T2 = 15I - X T1, P = 13I - X T2,
//   Z_next = Z P / 4.
// x, t1, t2, p receive the intermediates; z_next may be nullptr.
void PinvStep(const float* a, const float* z, int n, float* x, float* t1,
              float* t2, float* p, float* z_next) {
  Gemm(false, false, n, n, n, 1.0f, a, z, 0.0f, x);
  for (int64_t e = 0; e < int64_t(n) * n; ++e) t1[e] = -x[e];
  for (int i = 0; i < n; ++i) t1[int64_t(i) * n + i] += 7.0f;
  Gemm(false, false, n, n, n, -1.0f, x, t1, 0.0f, t2);
  for (int i = 0; i < n; ++i) t2[int64_t(i) * n + i] += 15.0f;
  Gemm(false, false, n, n, n, -1.0f, x, t2, 0.0f, p);
  for (int i = 0; i < n; ++i) p[int64_t(i) * n + i] += 13.0f;
  if (z_next != nullptr) Gemm(false, false, n, n, n, 0.25f, z, p, 0.0f, z_next);
}

// Backward of the whole iteration. z holds the iterates Z_0..Z_T [T + 1, n,
// n], with Z_0 = A^T / c and c = sum over rows of column `col_arg` of A (the
// largest column sum). g [n, n] holds dZ_T on entry (clobbered); da [n, n] is
// overwritten with dA. s: 8 n^2 floats of scratch.
void PinvBackward(const float* a, const float* z, int n, int iterations,
                  float col_max, int col_arg, float* g, float* da, float* s) {
  const int64_t nn = int64_t(n) * n;
  float *x = s, *t1 = s + nn, *t2 = s + 2 * nn, *p = s + 3 * nn;
  float *dp = s + 4 * nn, *dx = s + 5 * nn, *dt = s + 6 * nn, *dz = s + 7 * nn;
  std::fill(da, da + nn, 0.0f);
  for (int t = iterations - 1; t >= 0; --t) {
    const float* zt = z + t * nn;
    PinvStep(a, zt, n, x, t1, t2, p, nullptr);
    // Z_{t+1} = Z_t P / 4.
    Gemm(false, true, n, n, n, 0.25f, g, p, 0.0f, dz);   // dZ_t = G P^T / 4
    Gemm(true, false, n, n, n, 0.25f, zt, g, 0.0f, dp);  // dP = Z_t^T G / 4
    // P = 13I - X T2.
    Gemm(false, true, n, n, n, -1.0f, dp, t2, 0.0f, dx);  // dX = -dP T2^T
    Gemm(true, false, n, n, n, -1.0f, x, dp, 0.0f, dt);   // dT2 = -X^T dP
    // T2 = 15I - X T1.
    Gemm(false, true, n, n, n, -1.0f, dt, t1, 1.0f, dx);  // dX -= dT2 T1^T
    Gemm(true, false, n, n, n, -1.0f, x, dt, 0.0f, dp);   // dT1 = -X^T dT2
    // T1 = 7I - X.
    for (int64_t e = 0; e < nn; ++e) dx[e] -= dp[e];
    // X = A Z_t.
    Gemm(false, true, n, n, n, 1.0f, dx, zt, 1.0f, da);  // dA += dX Z_t^T
    Gemm(true, false, n, n, n, 1.0f, a, dx, 1.0f, dz);   // dZ_t += A^T dX
    std::copy(dz, dz + nn, g);
  }
  // Z_0 = A^T / c: dA += G^T / c, and dc = -sum(G o A^T) / c^2 reaches every
  // entry of column col_arg.
  double inner = 0.0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      inner += double(g[int64_t(i) * n + j]) * a[int64_t(j) * n + i];
      da[int64_t(j) * n + i] += g[int64_t(i) * n + j] / col_max;
    }
  }
  const float dc = static_cast<float>(-inner / (double(col_max) * col_max));
  for (int i = 0; i < n; ++i) da[int64_t(i) * n + col_arg] += dc;
}

using internal::RoundUp16;

}  // namespace

int64_t NystromformerAttention::ConvScratchOffset() const {
  const int64_t m = m_, Dh = shape_.head_dim, N = shape_.seq_len;
  return 4 * RoundUp16(m * Dh) + 10 * RoundUp16(m * m) + RoundUp16(N * m);
}

int NystromformerAttention::SegmentStart(int l, int n, int landmarks) {
  return static_cast<int>(int64_t(l) * n / landmarks);
}

NystromformerAttention::NystromformerAttention(const AttentionShape& shape,
                                               int num_landmarks,
                                               int pinv_iterations,
                                               int conv_kernel)
    : shape_(shape),
      m_(num_landmarks),
      iterations_(pinv_iterations),
      conv_(conv_kernel),
      quarter_scale_(1.0f /
                     std::sqrt(std::sqrt(static_cast<float>(shape.head_dim)))),
      num_threads_(std::max(1, omp_get_max_threads())) {
  const int B = shape.max_batch, H = shape.num_heads, N = shape.seq_len,
            Dh = shape.head_dim, m = m_;
  // Backward: du, dw, dq~, dk~ [m, Dh]; dZ, dA [m, m]; eight [m, m] for the
  // pinv backward; one [N, m] matrix (dF, then dB; in Forward the weights
  // after dropout). Forward uses the first pieces.
  // The convolution: the masked values and their gradient, [N, Dh] each.
  scratch_floats_ = ConvScratchOffset() + 2 * RoundUp16(int64_t(N) * Dh);
  scratch_ = Tensor({num_threads_, scratch_floats_});
  if (conv_ > 0) {
    conv_weight_ = Tensor({H, conv_});
    conv_weight_grad_ = Tensor({H, conv_});
    conv_partial_ = Tensor({B, H, conv_});
  }
  real_.assign(int64_t(B) * N, 0);
  real_count_.assign(B, 0);
  is_real_.assign(int64_t(B) * N, 0);
  col_arg_.assign(int64_t(B) * H, 0);
  q_land_ = Tensor({B, H, m, Dh});
  k_land_ = Tensor({B, H, m, Dh});
  f_ = Tensor({B, H, N, m});
  a_ = Tensor({B, H, m, m});
  b_ = Tensor({B, H, m, N});
  w_ = Tensor({B, H, m, Dh});
  z_ = Tensor({B, H, iterations_ + 1, m, m});
  u_ = Tensor({B, H, m, Dh});
  col_max_ = Tensor({B, H});
}

float NystromformerAttention::DropoutFactor(int b, int h, int i, int l) const {
  return HeadDropoutFactor(dropout_active_, in_.seed,
                           static_cast<uint64_t>(b) * shape_.num_heads + h,
                           static_cast<uint64_t>(i) * m_ + l,
                           shape_.attention_dropout);
}

void NystromformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  for (int b = 0; b < in_.batch; ++b) {
    int count = 0;
    for (int j = 0; j < N; ++j) {
      const bool real =
          in.key_mask == nullptr || in.key_mask[int64_t(b) * N + j] != 0;
      is_real_[int64_t(b) * N + j] = real;
      if (real) real_[int64_t(b) * N + count++] = j;
    }
    real_count_[b] = count;
  }
  const int threads = std::min(num_threads_, omp_get_max_threads());
  // Every (example, head) pair is independent: no shared writes, and the
  // result does not depend on the thread count.
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    ForwardHead(bh / H, bh % H, out,
                scratch_.data() + omp_get_thread_num() * scratch_floats_);
  }
}

void NystromformerAttention::ForwardHead(int b, int h, float* out,
                                         float* scratch) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int64_t bh = int64_t(b) * H + h;
  const int64_t base = bh * N * Dh;
  const float *q = in_.q + base, *k = in_.k + base, *v = in_.v + base;
  float* o = out + base;  // [N, Dh]
  const float qs = quarter_scale_;
  const int n = real_count_[b];
  const int* real = real_.data() + int64_t(b) * N;
  const uint8_t* is_real = is_real_.data() + int64_t(b) * N;
  std::fill(o, o + int64_t(N) * Dh, 0.0f);

  if (n > 0) {
    const int mb = std::min(m_, n);
    const bool exact = n <= m_;
    float* qt = q_land_.data() + bh * m_ * Dh;  // [mb, Dh]
    float* kt = k_land_.data() + bh * m_ * Dh;  // [mb, Dh]
    // Landmarks: means of Dh^-1/4 q and k over balanced segments of the
    // real tokens (one token each when n <= m).
    for (int l = 0; l < mb; ++l) {
      const int r0 = SegmentStart(l, n, mb), r1 = SegmentStart(l + 1, n, mb);
      float* ql = qt + int64_t(l) * Dh;
      float* kl = kt + int64_t(l) * Dh;
      std::fill(ql, ql + Dh, 0.0f);
      std::fill(kl, kl + Dh, 0.0f);
      for (int r = r0; r < r1; ++r) {
        Axpy(1.0f, q + int64_t(real[r]) * Dh, Dh, ql);
        Axpy(1.0f, k + int64_t(real[r]) * Dh, Dh, kl);
      }
      const float inv = qs / (r1 - r0);
      for (int x = 0; x < Dh; ++x) {
        ql[x] *= inv;
        kl[x] *= inv;
      }
    }
    // F = softmax(Q K~^T / sqrt(Dh)) [N, mb], for every query.
    float* f = f_.data() + bh * N * m_;
    Matmul(N, mb, Dh, RowMajor(q, Dh), Transposed(kt, Dh), f, mb, false, qs);
    for (int i = 0; i < N; ++i) SoftmaxRow(f + int64_t(i) * mb, mb);
    float* u = u_.data() + bh * m_ * Dh;  // [mb, Dh]
    if (exact) {
      // Landmarks are the real tokens: F is the softmax matrix itself.
      for (int l = 0; l < mb; ++l) {
        std::copy_n(v + int64_t(real[l]) * Dh, Dh, u + int64_t(l) * Dh);
      }
    } else {
      float* a = a_.data() + bh * m_ * m_;  // [mb, mb]
      Matmul(mb, mb, Dh, RowMajor(qt, Dh), Transposed(kt, Dh), a, mb, false);
      for (int l = 0; l < mb; ++l) SoftmaxRow(a + l * mb, mb);
      // B = softmax(Q~ K^T / sqrt(Dh)) over real keys [mb, N]; W = B V.
      float* bm = b_.data() + bh * m_ * N;
      float* w = w_.data() + bh * m_ * Dh;  // [mb, Dh]
      Matmul(mb, N, Dh, RowMajor(qt, Dh), Transposed(k, Dh), bm, N, false, qs);
      for (int l = 0; l < mb; ++l) {
        float* bl = bm + int64_t(l) * N;
        for (int j = 0; j < N; ++j) {
          if (!is_real[j]) bl[j] = kNegInf;
        }
        SoftmaxRow(bl, N);
      }
      // Padded keys have weight exactly 0, so they add nothing.
      Matmul(mb, Dh, N, RowMajor(bm, N), RowMajor(v, Dh), w, Dh, false);
      // Z_0 = A^T / (largest column sum of A): its own scale per example
      // and head (A's rows sum to 1, so this is 1 / (|A|_1 |A|_inf)).
      int col_arg = 0;
      float col_max = kNegInf;
      for (int c = 0; c < mb; ++c) {
        float sum = 0.0f;
        for (int l = 0; l < mb; ++l) sum += a[l * mb + c];
        if (sum > col_max) {
          col_max = sum;
          col_arg = c;
        }
      }
      col_arg_[bh] = col_arg;
      col_max_[bh] = col_max;
      const int64_t mm = int64_t(mb) * mb;
      float* z = z_.data() + bh * (iterations_ + 1) * m_ * m_;
      for (int l = 0; l < mb; ++l) {
        for (int c = 0; c < mb; ++c) z[c * mb + l] = a[l * mb + c] / col_max;
      }
      float *x = scratch, *t1 = scratch + mm, *t2 = scratch + 2 * mm,
            *p = scratch + 3 * mm;
      for (int t = 0; t < iterations_; ++t) {
        PinvStep(a, z + t * mm, mb, x, t1, t2, p, z + (t + 1) * mm);
      }
      // U = pinv(A) W.
      Gemm(false, false, mb, Dh, mb, 1.0f, z + iterations_ * mm, w, 0.0f, u);
    }
    // out = dropout(F) U.
    const float* fd = f;
    if (dropout_active_) {
      float* dropped = scratch + 4 * RoundUp16(int64_t(m_) * Dh) +
                       10 * RoundUp16(int64_t(m_) * m_);  // [N, mb]
      for (int i = 0; i < N; ++i) {
        for (int l = 0; l < mb; ++l) {
          dropped[int64_t(i) * mb + l] =
              f[int64_t(i) * mb + l] * DropoutFactor(b, h, i, l);
        }
      }
      fd = dropped;
    }
    Matmul(N, Dh, mb, RowMajor(fd, mb), RowMajor(u, Dh), o, Dh, false);
  }
  // The depthwise convolution skip over the masked values, centred on i:
  // rows are contiguous, so tap t is one long axpy of the values shifted by
  // t - half rows.
  if (conv_ > 0) {
    const float* cw = conv_weight_.data() + int64_t(h) * conv_;
    float* vm = scratch + ConvScratchOffset();  // [N, Dh]
    MaskedRows(v, is_real, N, Dh, vm);
    for (int t = 0; t < conv_; ++t) {
      const int shift = t - conv_ / 2;
      const int lo = std::max(0, -shift), hi = std::min(N, N - shift);
      if (hi <= lo) continue;
      Axpy(cw[t], vm + int64_t(lo + shift) * Dh, (hi - lo) * Dh,
           o + int64_t(lo) * Dh);
    }
  }
}

void NystromformerAttention::Backward(const float* dout,
                                      const AttentionGradients& grads) {
  const int H = shape_.num_heads;
  const int threads = std::min(num_threads_, omp_get_max_threads());
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    BackwardHead(bh / H, bh % H, dout, grads.dq, grads.dk, grads.dv,
                 scratch_.data() + omp_get_thread_num() * scratch_floats_);
  }
  // Summed over the batch in a fixed order, so the gradient is the same for
  // every thread count.
  if (conv_ > 0) {
    for (int h = 0; h < H; ++h) {
      for (int t = 0; t < conv_; ++t) {
        float sum = 0.0f;
        for (int b = 0; b < in_.batch; ++b) {
          sum += conv_partial_[(int64_t(b) * H + h) * conv_ + t];
        }
        conv_weight_grad_[int64_t(h) * conv_ + t] += sum;
      }
    }
  }
}

void NystromformerAttention::BackwardHead(int b, int h, const float* dout,
                                          float* dq_all, float* dk_all,
                                          float* dv_all, float* scratch) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int64_t bh = int64_t(b) * H + h;
  const int64_t base = bh * N * Dh;
  const float *q = in_.q + base, *k = in_.k + base, *v = in_.v + base;
  const float* g = dout + base;  // [N, Dh]
  float *dq = dq_all + base, *dk = dk_all + base, *dv = dv_all + base;
  const float qs = quarter_scale_;
  const int n = real_count_[b];
  const int* real = real_.data() + int64_t(b) * N;
  const uint8_t* is_real = is_real_.data() + int64_t(b) * N;
  std::fill(dq, dq + int64_t(N) * Dh, 0.0f);
  std::fill(dk, dk + int64_t(N) * Dh, 0.0f);
  std::fill(dv, dv + int64_t(N) * Dh, 0.0f);

  if (conv_ > 0) {
    // out_i += cw[t] vm_{i+t-half}: dvm_j += cw[t] g_{j-t+half} (kept at
    // real rows only) and d(cw[t]) = sum_i g_i . vm_{i+t-half}, one long
    // axpy and one long dot per tap.
    const float* cw = conv_weight_.data() + int64_t(h) * conv_;
    float* partial = conv_partial_.data() + bh * conv_;
    float* vm = scratch + ConvScratchOffset();     // [N, Dh]
    float* dvm = vm + RoundUp16(int64_t(N) * Dh);  // [N, Dh]
    MaskedRows(v, is_real, N, Dh, vm);
    std::fill(dvm, dvm + int64_t(N) * Dh, 0.0f);
    for (int t = 0; t < conv_; ++t) {
      const int shift = t - conv_ / 2;
      const int lo = std::max(0, -shift), hi = std::min(N, N - shift);
      if (hi <= lo) {
        partial[t] = 0.0f;
        continue;
      }
      const int64_t count = int64_t(hi - lo) * Dh;
      Axpy(cw[t], g + int64_t(lo) * Dh, count, dvm + int64_t(lo + shift) * Dh);
      partial[t] =
          Dot(g + int64_t(lo) * Dh, vm + int64_t(lo + shift) * Dh, count);
    }
    for (int j = 0; j < N; ++j) {
      if (is_real[j])
        Axpy(1.0f, dvm + int64_t(j) * Dh, Dh, dv + int64_t(j) * Dh);
    }
  }
  if (n == 0) return;

  const int mb = std::min(m_, n);
  const bool exact = n <= m_;
  const int64_t md = RoundUp16(int64_t(m_) * Dh),
                mm2 = RoundUp16(int64_t(m_) * m_);
  float* du = scratch;                  // [mb, Dh]
  float* dw = scratch + md;             // [mb, Dh]
  float* dqt = scratch + 2 * md;        // [mb, Dh]
  float* dkt = scratch + 3 * md;        // [mb, Dh]
  float* dz = scratch + 4 * md;         // [mb, mb]
  float* da = dz + mm2;                 // [mb, mb]
  float* pinv_scratch = da + mm2;       // 8 [mb, mb]
  float* big = pinv_scratch + 8 * mm2;  // [N, mb] or [mb, N]
  std::fill(du, du + 4 * md, 0.0f);

  const float* qt = q_land_.data() + bh * m_ * Dh;
  const float* kt = k_land_.data() + bh * m_ * Dh;
  const float* f = f_.data() + bh * N * m_;
  const float* u = u_.data() + bh * m_ * Dh;
  // out = dropout(F) U: dU = dropout(F)^T G, d(F) = dropout(G U^T), then
  // through F's softmax (dS1 [N, mb]) to q and K~.
  const float* fd = f;
  if (dropout_active_) {
    for (int i = 0; i < N; ++i) {
      for (int l = 0; l < mb; ++l) {
        big[int64_t(i) * mb + l] =
            f[int64_t(i) * mb + l] * DropoutFactor(b, h, i, l);
      }
    }
    fd = big;
  }
  Matmul(mb, Dh, N, Transposed(fd, mb), RowMajor(g, Dh), du, Dh, false);
  Matmul(N, mb, Dh, RowMajor(g, Dh), Transposed(u, Dh), big, mb, false);
  for (int i = 0; i < N; ++i) {
    float* row = big + int64_t(i) * mb;
    if (dropout_active_) {
      for (int l = 0; l < mb; ++l) row[l] *= DropoutFactor(b, h, i, l);
    }
    SoftmaxGradRow(f + int64_t(i) * mb, mb, row);
  }
  Matmul(N, Dh, mb, RowMajor(big, mb), RowMajor(kt, Dh), dq, Dh, true, qs);
  Matmul(mb, Dh, N, Transposed(big, mb), RowMajor(q, Dh), dkt, Dh, true, qs);
  if (exact) {
    for (int l = 0; l < mb; ++l) {
      Axpy(1.0f, du + int64_t(l) * Dh, Dh, dv + int64_t(real[l]) * Dh);
    }
  } else {
    const int64_t mm = int64_t(mb) * mb;
    const float* a = a_.data() + bh * m_ * m_;
    const float* bm = b_.data() + bh * m_ * N;
    const float* w = w_.data() + bh * m_ * Dh;
    const float* z = z_.data() + bh * (iterations_ + 1) * m_ * m_;
    // U = Z W.
    Gemm(false, true, mb, mb, Dh, 1.0f, du, w, 0.0f, dz);  // dZ = dU W^T
    Gemm(true, false, mb, Dh, mb, 1.0f, z + iterations_ * mm, du, 0.0f,
         dw);  // dW = Z^T dU
    // W = B V, B = softmax(Q~ K^T / sqrt(Dh)) over real keys: dV += B^T dW
    // (zero at padded keys, whose weights are 0), dB = dW V^T, then B's
    // softmax (dS3 [mb, N], zero at padded keys) to K and Q~.
    Matmul(N, Dh, mb, Transposed(bm, N), RowMajor(dw, Dh), dv, Dh, true);
    Matmul(mb, N, Dh, RowMajor(dw, Dh), Transposed(v, Dh), big, N, false);
    for (int l = 0; l < mb; ++l) {
      SoftmaxGradRow(bm + int64_t(l) * N, N, big + int64_t(l) * N);
    }
    Matmul(mb, Dh, N, RowMajor(big, N), RowMajor(k, Dh), dqt, Dh, true, qs);
    Matmul(N, Dh, mb, Transposed(big, N), RowMajor(qt, Dh), dk, Dh, true, qs);
    // Z = pinv(A) by the iteration, A = softmax(Q~ K~^T / sqrt(Dh)).
    PinvBackward(a, z, mb, iterations_, col_max_[bh], col_arg_[bh], dz, da,
                 pinv_scratch);
    for (int l = 0; l < mb; ++l) {
      SoftmaxGradRow(a + l * mb, mb, da + l * mb);  // dS2 [mb, mb]
    }
    Matmul(mb, Dh, mb, RowMajor(da, mb), RowMajor(kt, Dh), dqt, Dh, true);
    Matmul(mb, Dh, mb, Transposed(da, mb), RowMajor(qt, Dh), dkt, Dh, true);
  }
  // Landmarks are segment means of Dh^-1/4 q and k.
  for (int l = 0; l < mb; ++l) {
    const int r0 = SegmentStart(l, n, mb), r1 = SegmentStart(l + 1, n, mb);
    const float share = qs / (r1 - r0);
    for (int r = r0; r < r1; ++r) {
      Axpy(share, dqt + int64_t(l) * Dh, Dh, dq + int64_t(real[r]) * Dh);
      Axpy(share, dkt + int64_t(l) * Dh, Dh, dk + int64_t(real[r]) * Dh);
    }
  }
}

void NystromformerAttention::ForEachParameter(const ParameterVisitor& fn) {
  if (conv_ > 0) fn("conv_weight", conv_weight_, conv_weight_grad_);
}

void NystromformerAttention::InitParameters(uint64_t seed) {
  // PyTorch's default for a convolution: uniform in +-1/sqrt(fan_in), with
  // fan_in = conv_kernel for a depthwise kernel.
  const float bound = 1.0f / std::sqrt(static_cast<float>(std::max(conv_, 1)));
  for (int64_t e = 0; e < conv_weight_.size(); ++e) {
    conv_weight_[e] =
        bound * (2.0f * UniformFloat(DeriveSeed(seed, 0x4e7953), e) - 1.0f);
  }
}

AttentionPlugin NystromformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "nystromformer";
  plugin.description =
      "Nyström approximation of softmax attention: segment-mean landmarks of "
      "the real tokens, iterative pseudo-inverse, optional depthwise "
      "convolution skip on the values (Xiong et al. 2021)";
  plugin.params = {
      PluginParamSpec::Number(
          "num_landmarks", 64,
          "landmarks m (segment means of the real tokens); an example with at "
          "most m real tokens gets exact softmax attention"),
      PluginParamSpec::Number("pinv_iterations", 6,
                              "iterations of the pseudo-inverse of the m x m "
                              "landmark kernel"),
      PluginParamSpec::Number(
          "conv_kernel", 35,
          "odd width of the depthwise convolution skip on the values, learnt "
          "per head (0 = off; 35 as in the paper's LRA runs)"),
  };
  plugin.capabilities.key_padding_mask = true;
  // The convolution kernel is the only own parameter: conv_kernel 0 has none
  // (the flag is per plugin; every test case below keeps the convolution).
  plugin.capabilities.learnable = true;
  plugin.capabilities.complexity = "O(N m Dh + m^3 iterations)";
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(
        const int landmarks,
        WholeNumberParam(params, "nystromformer", "num_landmarks", 1, 4096));
    ASSIGN_OR_RETURN(
        const int iterations,
        WholeNumberParam(params, "nystromformer", "pinv_iterations", 0, 100));
    constexpr char kConvAllowed[] =
        "0 (off) or an odd whole number from 1 to 4095";
    ASSIGN_OR_RETURN(const int conv,
                     WholeNumberParam(params, "nystromformer", "conv_kernel", 0,
                                      4095, kConvAllowed));
    if (conv > 0 && conv % 2 == 0) {
      return ParamError("nystromformer", "conv_kernel", conv, kConvAllowed);
    }
    RETURN_IF_ERROR(CheckPositiveShape("nystromformer", shape));
    RETURN_IF_ERROR(CheckDropoutRate("nystromformer", shape));
    // More landmarks than positions buy nothing: exact attention either way.
    const int m = std::min(static_cast<int>(landmarks), shape.seq_len);
    return std::unique_ptr<Attention>(std::make_unique<NystromformerAttention>(
        shape, m, static_cast<int>(iterations), static_cast<int>(conv)));
  };
  // Eight landmarks make N = 37 and 130 approximate (segments of 4-5 and
  // 16-17 tokens; the quarter-length padded example has 9 or 32 real tokens),
  // while N = 1 and the defaults at N = 37 take the exact path. Every case
  // keeps a convolution, since `learnable` is declared for the plugin
  // (conv_kernel 0 is covered by nystromformer_attention_test).
  plugin.test_cases = {
      {"landmarks 8, conv 5",
       {NumberParam("num_landmarks", 8), NumberParam("conv_kernel", 5)}},
      {"landmarks 5, conv 3, 3 iterations",
       {NumberParam("num_landmarks", 5), NumberParam("conv_kernel", 3),
        NumberParam("pinv_iterations", 3)}},
      {"defaults", {}},
  };
  return plugin;
}

}  // namespace lra
