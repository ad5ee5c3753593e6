#include "models/attention/full/full_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "models/internal/fast_math.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::FastExp;

constexpr int kBr = FullAttention::kBlockRows;
constexpr int kBc = FullAttention::kBlockCols;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t RoundUp16(int64_t n) { return (n + 15) / 16 * 16; }

// Per-thread scratch, carved out of one buffer. Every piece is a multiple of
// 16 floats so that each starts on a 64-byte boundary.
struct Scratch {
  float* s;    // [kBr, kBc] scores, then probabilities
  float* ds;   // [kBr, kBc] d(scores) (backward)
  float* kt;   // [Dh, kBc] key block transposed
  float* vt;   // [Dh, kBc] value block transposed (backward)
  float* acc;  // [kBr, Dh] output accumulator (forward)
  float* dk;   // [kBc, Dh] key-block gradient accumulator (backward)
  float* dv;   // [kBc, Dh] value-block gradient accumulator (backward)
  float* m;    // [kBr] running row max (forward)
  float* l;    // [kBr] running row sum (forward)
  float* d;    // [N] rowsum(dout * out) (backward)

  static int64_t Floats(int dh, int n) {
    return 2 * RoundUp16(kBr * kBc) + 2 * RoundUp16(dh * kBc) +
           RoundUp16(kBr * dh) + 2 * RoundUp16(kBc * dh) + 2 * RoundUp16(kBr) +
           RoundUp16(n);
  }
  Scratch(float* base, int dh, int n) {
    float* p = base;
    auto take = [&p](int64_t count) {
      float* r = p;
      p += RoundUp16(count);
      return r;
    };
    s = take(kBr * kBc);
    ds = take(kBr * kBc);
    kt = take(dh * kBc);
    vt = take(dh * kBc);
    acc = take(kBr * dh);
    dk = take(kBc * dh);
    dv = take(kBc * dh);
    m = take(kBr);
    l = take(kBr);
    d = take(n);
  }
};

// dst [Dh, kBc] = src [cols, Dh] transposed; columns past `cols` are zero.
void TransposeBlock(const float* src, int cols, int dh, float* dst) {
  for (int c = 0; c < cols; ++c) {
    for (int x = 0; x < dh; ++x) dst[x * kBc + c] = src[c * dh + x];
  }
  for (int x = 0; x < dh; ++x) {
    for (int c = cols; c < kBc; ++c) dst[x * kBc + c] = 0.0f;
  }
}

// s [rows, kBc] = scale * q [rows, Dh] kt [Dh, kBc] + bias [kBc] (bias may be
// nullptr).
void ScoresBlock(const float* q, const float* kt, const float* bias, int rows,
                 int dh, float scale, float* s) {
  for (int r = 0; r < rows; ++r) {
    float row[kBc];
#pragma omp simd
    for (int c = 0; c < kBc; ++c) row[c] = 0.0f;
    for (int x = 0; x < dh; ++x) {
      const float qv = q[r * dh + x];
      const float* kr = kt + x * kBc;
#pragma omp simd
      for (int c = 0; c < kBc; ++c) row[c] += qv * kr[c];
    }
    if (bias != nullptr) {
#pragma omp simd
      for (int c = 0; c < kBc; ++c) s[r * kBc + c] = row[c] * scale + bias[c];
    } else {
#pragma omp simd
      for (int c = 0; c < kBc; ++c) s[r * kBc + c] = row[c] * scale;
    }
  }
}

// Applies the attention-dropout keep mask of block (i0, j0) to p in place,
// scaled by 1 / (1 - rate). Element (i, j) of head bh uses index i * N + j.
void DropoutBlock(uint64_t seed, uint32_t threshold, float keep_scale, int i0,
                  int j0, int rows, int cols, int n, float* p) {
  for (int r = 0; r < rows; ++r) {
    const uint64_t base = static_cast<uint64_t>(i0 + r) * n + j0;
    for (int c = 0; c < cols; ++c) {
      p[r * kBc + c] = KeepElement(seed, base + c, threshold)
                           ? p[r * kBc + c] * keep_scale
                           : 0.0f;
    }
  }
}

}  // namespace

FullAttention::FullAttention(const AttentionShape& shape)
    : shape_(shape),
      scale_(1.0f / std::sqrt(static_cast<float>(shape.head_dim))),
      num_threads_(std::max(1, omp_get_max_threads())),
      num_key_blocks_((shape.seq_len + kBc - 1) / kBc),
      lse_({shape.max_batch, shape.num_heads, shape.seq_len}),
      key_bias_({shape.max_batch, static_cast<int64_t>(num_key_blocks_) * kBc}),
      block_live_(static_cast<size_t>(shape.max_batch) * num_key_blocks_),
      scratch_(
          {num_threads_ * Scratch::Floats(shape.head_dim, shape.seq_len)}) {}

void FullAttention::Forward(const float* q, const float* k, const float* v,
                            const uint8_t* key_mask, int batch, bool training,
                            uint64_t seed, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int nkb = num_key_blocks_;
  const int64_t bias_stride = static_cast<int64_t>(nkb) * kBc;
  q_ = q;
  k_ = k;
  v_ = v;
  out_ = out;
  key_mask_ = key_mask;
  batch_ = batch;
  dropout_active_ = training && shape_.attention_dropout > 0.0f;
  seed_ = seed;
  // Additive key bias: -inf on padding and on the tail past N, so the last
  // partial block needs no special case in the score kernel.
  for (int b = 0; b < batch; ++b) {
    float* kb = key_bias_.data() + b * bias_stride;
    for (int j = 0; j < bias_stride; ++j) {
      const bool real = j < N && (key_mask == nullptr ||
                                  key_mask[static_cast<int64_t>(b) * N + j]);
      kb[j] = real ? 0.0f : kNegInf;
    }
    for (int jb = 0; jb < nkb; ++jb) {
      bool live = false;
      for (int c = 0; c < kBc; ++c) live |= kb[jb * kBc + c] == 0.0f;
      block_live_[b * nkb + jb] = live;
    }
  }
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const int nqb = (N + kBr - 1) / kBr;
  const int64_t scratch_floats = Scratch::Floats(Dh, N);

#pragma omp parallel for collapse(3) schedule(dynamic) num_threads(num_threads_)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < H; ++h) {
      for (int ib = 0; ib < nqb; ++ib) {
        Scratch w(scratch_.data() + omp_get_thread_num() * scratch_floats, Dh,
                  N);
        const int64_t head = (static_cast<int64_t>(b) * H + h) * N;
        const int i0 = ib * kBr;
        const int rows = std::min(kBr, N - i0);
        const float* qb = q + (head + i0) * Dh;
        const uint64_t head_seed = DeriveSeed(seed, b * H + h);
        for (int r = 0; r < rows; ++r) {
          w.m[r] = kNegInf;
          w.l[r] = 0.0f;
        }
        std::memset(w.acc, 0, sizeof(float) * rows * Dh);
        for (int jb = 0; jb < nkb; ++jb) {
          if (!block_live_[b * nkb + jb]) continue;
          const int j0 = jb * kBc;
          const int cols = std::min(kBc, N - j0);
          TransposeBlock(k + (head + j0) * Dh, cols, Dh, w.kt);
          ScoresBlock(qb, w.kt, key_bias_.data() + b * bias_stride + j0, rows,
                      Dh, scale_, w.s);
          // Online softmax: rescale the running sums to the new row max.
          for (int r = 0; r < rows; ++r) {
            float* sr = w.s + r * kBc;
            float mx = w.m[r];
            for (int c = 0; c < kBc; ++c) mx = std::max(mx, sr[c]);
            if (mx == kNegInf) {
              // No real key so far: nothing to add.
              for (int c = 0; c < kBc; ++c) sr[c] = 0.0f;
              continue;
            }
            const float alpha = FastExp(w.m[r] - mx);
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int c = 0; c < kBc; ++c) {
              sr[c] = FastExp(sr[c] - mx);
              sum += sr[c];
            }
            w.l[r] = w.l[r] * alpha + sum;
            w.m[r] = mx;
            float* ar = w.acc + r * Dh;
#pragma omp simd
            for (int x = 0; x < Dh; ++x) ar[x] *= alpha;
          }
          if (dropout_active_) {
            DropoutBlock(head_seed, threshold, keep_scale, i0, j0, rows, cols,
                         N, w.s);
          }
          // acc [rows, Dh] += p [rows, cols] v [cols, Dh].
          const float* vb = v + (head + j0) * Dh;
          for (int r = 0; r < rows; ++r) {
            float* ar = w.acc + r * Dh;
            const float* pr = w.s + r * kBc;
            for (int c = 0; c < cols; ++c) {
              const float p = pr[c];
              const float* vr = vb + c * Dh;
#pragma omp simd
              for (int x = 0; x < Dh; ++x) ar[x] += p * vr[x];
            }
          }
        }
        float* ob = out + (head + i0) * Dh;
        float* lse = lse_.data() + head + i0;
        for (int r = 0; r < rows; ++r) {
          const float l = w.l[r];
          const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma omp simd
          for (int x = 0; x < Dh; ++x) ob[r * Dh + x] = w.acc[r * Dh + x] * inv;
          // A row without any real key keeps lse = +inf so that the backward
          // pass recomputes probabilities of exactly zero.
          lse[r] = l > 0.0f ? w.m[r] + std::log(l)
                            : std::numeric_limits<float>::infinity();
        }
      }
    }
  }
}

void FullAttention::Backward(const float* dout, float* dq, float* dk,
                             float* dv) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int nkb = num_key_blocks_;
  const int64_t bias_stride = static_cast<int64_t>(nkb) * kBc;
  const int nqb = (N + kBr - 1) / kBr;
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const int64_t scratch_floats = Scratch::Floats(Dh, N);
  const int batch = batch_;

  // One (b, h) per task: dq rows receive contributions from every key block,
  // so splitting a head across threads would need a reduction.
#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(num_threads_)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < H; ++h) {
      Scratch w(scratch_.data() + omp_get_thread_num() * scratch_floats, Dh, N);
      const int64_t head = (static_cast<int64_t>(b) * H + h) * N;
      const float* qh = q_ + head * Dh;
      const float* kh = k_ + head * Dh;
      const float* vh = v_ + head * Dh;
      const float* oh = out_ + head * Dh;
      const float* doh = dout + head * Dh;
      const float* lse = lse_.data() + head;
      float* dqh = dq + head * Dh;
      float* dkh = dk + head * Dh;
      float* dvh = dv + head * Dh;
      const uint64_t head_seed = DeriveSeed(seed_, b * H + h);
      // D_i = rowsum(dO_i * O_i), which equals rowsum(P_i * dP_i).
      for (int i = 0; i < N; ++i) {
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int x = 0; x < Dh; ++x) sum += doh[i * Dh + x] * oh[i * Dh + x];
        w.d[i] = sum;
      }
      std::memset(dqh, 0, sizeof(float) * N * Dh);
      for (int jb = 0; jb < nkb; ++jb) {
        const int j0 = jb * kBc;
        const int cols = std::min(kBc, N - j0);
        float* dkb = dkh + static_cast<int64_t>(j0) * Dh;
        float* dvb = dvh + static_cast<int64_t>(j0) * Dh;
        if (!block_live_[b * nkb + jb]) {
          std::memset(dkb, 0, sizeof(float) * cols * Dh);
          std::memset(dvb, 0, sizeof(float) * cols * Dh);
          continue;
        }
        const float* kb = kh + static_cast<int64_t>(j0) * Dh;
        const float* vb = vh + static_cast<int64_t>(j0) * Dh;
        TransposeBlock(kb, cols, Dh, w.kt);
        TransposeBlock(vb, cols, Dh, w.vt);
        std::memset(w.dk, 0, sizeof(float) * kBc * Dh);
        std::memset(w.dv, 0, sizeof(float) * kBc * Dh);
        for (int ib = 0; ib < nqb; ++ib) {
          const int i0 = ib * kBr;
          const int rows = std::min(kBr, N - i0);
          const float* qb = qh + static_cast<int64_t>(i0) * Dh;
          const float* dob = doh + static_cast<int64_t>(i0) * Dh;
          ScoresBlock(qb, w.kt, key_bias_.data() + b * bias_stride + j0, rows,
                      Dh, scale_, w.s);
          // P = exp(S - lse): the forward's probabilities, without dropout.
          for (int r = 0; r < rows; ++r) {
            const float l = lse[i0 + r];
            float* sr = w.s + r * kBc;
#pragma omp simd
            for (int c = 0; c < kBc; ++c) sr[c] = FastExp(sr[c] - l);
          }
          // dP [rows, kBc] = dO [rows, Dh] V^T, kept in w.ds.
          ScoresBlock(dob, w.vt, nullptr, rows, Dh, 1.0f, w.ds);
          if (dropout_active_) {
            // With Pd = P * M / (1 - rate): dV uses Pd, and dP flows back
            // through the same mask.
            for (int r = 0; r < rows; ++r) {
              const uint64_t base = static_cast<uint64_t>(i0 + r) * N + j0;
              for (int c = 0; c < cols; ++c) {
                const bool keep = KeepElement(head_seed, base + c, threshold);
                const float p = w.s[r * kBc + c];
                const float dpd = w.ds[r * kBc + c];
                const float pd = keep ? p * keep_scale : 0.0f;
                const float dp = keep ? dpd * keep_scale : 0.0f;
                // dV_c += Pd_rc * dO_r
                for (int x = 0; x < Dh; ++x)
                  w.dv[c * Dh + x] += pd * dob[r * Dh + x];
                w.ds[r * kBc + c] = p * (dp - w.d[i0 + r]);
              }
              for (int c = cols; c < kBc; ++c) w.ds[r * kBc + c] = 0.0f;
            }
          } else {
            // dV [cols, Dh] += P^T dO.
            for (int r = 0; r < rows; ++r) {
              const float* dor = dob + r * Dh;
              for (int c = 0; c < cols; ++c) {
                const float p = w.s[r * kBc + c];
                float* dvr = w.dv + c * Dh;
#pragma omp simd
                for (int x = 0; x < Dh; ++x) dvr[x] += p * dor[x];
              }
            }
            // dS = P * (dP - D).
            for (int r = 0; r < rows; ++r) {
              const float di = w.d[i0 + r];
              float* dsr = w.ds + r * kBc;
              const float* pr = w.s + r * kBc;
#pragma omp simd
              for (int c = 0; c < kBc; ++c) dsr[c] = pr[c] * (dsr[c] - di);
            }
          }
          // dK [cols, Dh] += scale * dS^T Q;  dQ [rows, Dh] += scale * dS K.
          for (int r = 0; r < rows; ++r) {
            const float* qr = qb + r * Dh;
            float* dqr = dqh + static_cast<int64_t>(i0 + r) * Dh;
            for (int c = 0; c < cols; ++c) {
              const float g = w.ds[r * kBc + c] * scale_;
              float* dkr = w.dk + c * Dh;
              const float* kr = kb + c * Dh;
#pragma omp simd
              for (int x = 0; x < Dh; ++x) {
                dkr[x] += g * qr[x];
                dqr[x] += g * kr[x];
              }
            }
          }
        }
        std::memcpy(dkb, w.dk, sizeof(float) * cols * Dh);
        std::memcpy(dvb, w.dv, sizeof(float) * cols * Dh);
      }
    }
  }
}

AttentionPlugin FullAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "full";
  plugin.description =
      "Softmax attention over all keys (Vaswani et al.), tiled so that the "
      "N x N scores are never stored.";
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = false;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity = "O(N^2)";
  plugin.factory = [](const AttentionParams& params,
                      const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    if (shape.max_batch <= 0 || shape.num_heads <= 0 || shape.seq_len <= 0 ||
        shape.head_dim <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "full attention: shape must be positive, got max_batch=",
          shape.max_batch, " heads=", shape.num_heads,
          " seq_len=", shape.seq_len, " head_dim=", shape.head_dim));
    }
    return std::unique_ptr<Attention>(new FullAttention(shape));
  };
  return plugin;
}

}  // namespace lra
