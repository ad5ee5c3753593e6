#include "models/attention/full/full_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "models/attention/kernels/tile_kernels.h"
#include "models/internal/scratch_carver.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::AccumulateTile;
using internal::DropoutTile;
using internal::ExpShiftRow;
using internal::ScaleRow;
using internal::ScoreTileCols;
using internal::SoftmaxGradRow;
using internal::SoftmaxRowUpdate;

constexpr int kBr = FullAttention::kBlockRows;
constexpr int kBc = FullAttention::kBlockCols;
static_assert(kBc == internal::kKeyBlock, "the kernels work on 64-key blocks");
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Per-thread scratch, carved out of one buffer. Every piece is a multiple of
// 16 floats so that each starts on a 64-byte boundary.
struct Scratch {
  float* s;    // [kBr, kBc] scores, then probabilities
  float* ds;   // [kBr, kBc] dP, then dS (backward)
  float* pd;   // [kBr, kBc] probabilities after dropout (backward)
  float* kt;   // [Dh, kBc] key block transposed
  float* vt;   // [Dh, kBc] value block transposed (backward)
  float* acc;  // [kBr, Dh] output accumulator (forward)
  float* m;    // [kBr] running row max (forward)
  float* l;    // [kBr] running row sum (forward)
  float* d;    // [N] rowsum(dout * out) (backward)

  // All of the pieces, each rounded up: what Floats() returns.
  int64_t floats;

  static int64_t Floats(int dh, int n) {
    return Scratch(nullptr, dh, n).floats;
  }
  Scratch(float* base, int dh, int n) {
    internal::ScratchCarver carve(base);
    s = carve.Take(kBr * kBc);
    ds = carve.Take(kBr * kBc);
    pd = carve.Take(kBr * kBc);
    kt = carve.Take(dh * kBc);
    vt = carve.Take(dh * kBc);
    acc = carve.Take(kBr * dh);
    m = carve.Take(kBr);
    l = carve.Take(kBr);
    d = carve.Take(n);
    floats = carve.taken();
  }
};

// Row stride of the transposed keys [Dh, stride]: whole blocks plus one cache
// line, so that the Dh rows a score tile reads do not all map to the same L1
// set (a power-of-two stride of 4 KiB or more would alias them).
int KeysTransposedStride(int key_blocks) { return key_blocks * kBc + 16; }

// dst [Dh, kBc] = src [cols, Dh] transposed; columns past `cols` are zero.
void TransposeBlock(const float* src, int cols, int dh, float* dst) {
  for (int c = 0; c < cols; ++c) {
    for (int x = 0; x < dh; ++x) dst[x * kBc + c] = src[c * dh + x];
  }
  for (int x = 0; x < dh; ++x) {
    for (int c = cols; c < kBc; ++c) dst[x * kBc + c] = 0.0f;
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
      query_live_(static_cast<size_t>(shape.max_batch) *
                  ((shape.seq_len + kBr - 1) / kBr)),
      keys_t_({shape.max_batch, shape.num_heads, shape.head_dim,
               KeysTransposedStride(num_key_blocks_)}),
      scratch_(
          {num_threads_ * Scratch::Floats(shape.head_dim, shape.seq_len)}) {}

void FullAttention::Forward(const AttentionInputs& in, float* out) {
  const float *q = in.q, *k = in.k, *v = in.v;
  const uint8_t* key_mask = in.key_mask;
  const int batch = in.batch;
  const uint64_t seed = in.seed;
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int nkb = num_key_blocks_;
  const int64_t bias_stride = static_cast<int64_t>(nkb) * kBc;
  // Never more threads than the scratch was sized for, nor than the caller
  // currently allows (the trainer may lower the OpenMP thread count).
  const int threads = std::min(num_threads_, omp_get_max_threads());
  in_ = in;
  out_ = out;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
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
  const int nqb = (N + kBr - 1) / kBr;
  // A query block is computed when one of its rows is a real position (or
  // always, with skipping off). With kBr == kBc a query block covers the
  // same positions as the key block of the same index.
  static_assert(kBr == kBc, "query and key blocks share their liveness");
  for (int b = 0; b < batch; ++b) {
    for (int ib = 0; ib < nqb; ++ib) {
      query_live_[b * nqb + ib] =
          !skip_padded_queries_ || block_live_[b * nkb + ib];
    }
  }
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const int64_t scratch_floats = Scratch::Floats(Dh, N);
  // Keys transposed once per head ([Dh, N] padded to whole blocks with
  // zeros), so the score kernel streams contiguous rows of 64 keys.
  const int kt_stride = KeysTransposedStride(nkb);
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t head = (static_cast<int64_t>(b) * H + h);
      const float* kh = k + head * N * Dh;
      float* kt = keys_t_.data() + head * Dh * kt_stride;
      for (int jb = 0; jb < nkb; ++jb) {
        // Blocks of padded keys are never scored: no need to transpose them.
        if (!block_live_[b * nkb + jb]) continue;
        const int j0 = jb * kBc;
        const int cols = std::min(kBc, N - j0);
        for (int c = 0; c < cols; ++c) {
          for (int x = 0; x < Dh; ++x) {
            kt[static_cast<int64_t>(x) * kt_stride + j0 + c] =
                kh[static_cast<int64_t>(j0 + c) * Dh + x];
          }
        }
        for (int x = 0; x < Dh; ++x) {
          for (int c = cols; c < kBc; ++c) {
            kt[static_cast<int64_t>(x) * kt_stride + j0 + c] = 0.0f;
          }
        }
      }
    }
  }

#pragma omp parallel for collapse(3) schedule(dynamic) num_threads(threads)
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
        const float* kt_head =
            keys_t_.data() + (static_cast<int64_t>(b) * H + h) * Dh * kt_stride;
        float* ob = out + (head + i0) * Dh;
        float* lse = lse_.data() + head + i0;
        if (!query_live_[b * nqb + ib]) {
          // Only padded queries: zero output, and lse = +inf so that the
          // backward pass would recompute probabilities of exactly zero.
          std::memset(ob, 0, sizeof(float) * rows * Dh);
          for (int r = 0; r < rows; ++r) {
            lse[r] = std::numeric_limits<float>::infinity();
          }
          continue;
        }
        for (int r = 0; r < rows; ++r) {
          w.m[r] = kNegInf;
          w.l[r] = 0.0f;
        }
        std::memset(w.acc, 0, sizeof(float) * rows * Dh);
        for (int jb = 0; jb < nkb; ++jb) {
          if (!block_live_[b * nkb + jb]) continue;
          const int j0 = jb * kBc;
          const int cols = std::min(kBc, N - j0);
          // A short last key block scores only its 16-key chunks in use.
          ScoreTileCols(qb, rows, Dh, kt_head + j0, kt_stride, scale_,
                        key_bias_.data() + b * bias_stride + j0, cols, w.s);
          // Online softmax: rescale the running sums to the new row max.
          for (int r = 0; r < rows; ++r) {
            const float alpha =
                SoftmaxRowUpdate(w.s + r * kBc, &w.m[r], &w.l[r]);
            if (alpha != 1.0f) ScaleRow(w.acc + r * Dh, Dh, alpha);
          }
          if (dropout_active_) {
            DropoutTile(head_seed, threshold, keep_scale, i0, j0, rows, cols, N,
                        w.s);
          }
          // acc [rows, Dh] += p [rows, cols] v [cols, Dh].
          AccumulateTile(w.s, kBc, 1, rows, cols, v + (head + j0) * Dh, Dh,
                         w.acc);
        }
        const uint8_t* row_mask =
            skip_padded_queries_ && key_mask != nullptr
                ? key_mask + static_cast<int64_t>(b) * N + i0
                : nullptr;
        for (int r = 0; r < rows; ++r) {
          // A padded query row (in a block with real rows) outputs zero too.
          if (row_mask != nullptr && row_mask[r] == 0) {
            std::memset(ob + r * Dh, 0, sizeof(float) * Dh);
            lse[r] = std::numeric_limits<float>::infinity();
            continue;
          }
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

void FullAttention::Backward(const float* dout,
                             const AttentionGradients& grads) {
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;

  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int nkb = num_key_blocks_;
  const int64_t bias_stride = static_cast<int64_t>(nkb) * kBc;
  const int nqb = (N + kBr - 1) / kBr;
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const int64_t scratch_floats = Scratch::Floats(Dh, N);
  const int batch = in_.batch;
  const int threads = std::min(num_threads_, omp_get_max_threads());

  // One (b, h) per task: dq rows receive contributions from every key block,
  // so splitting a head across threads would need a reduction.
#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(threads)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < H; ++h) {
      Scratch w(scratch_.data() + omp_get_thread_num() * scratch_floats, Dh, N);
      const int64_t head = (static_cast<int64_t>(b) * H + h) * N;
      const float* qh = in_.q + head * Dh;
      const float* kh = in_.k + head * Dh;
      const float* vh = in_.v + head * Dh;
      const float* oh = out_ + head * Dh;
      const float* doh = dout + head * Dh;
      const float* lse = lse_.data() + head;
      float* dqh = dq + head * Dh;
      float* dkh = dk + head * Dh;
      float* dvh = dv + head * Dh;
      const uint64_t head_seed = DeriveSeed(in_.seed, b * H + h);
      // D_i = rowsum(dO_i * O_i), which equals rowsum(P_i * dP_i).
      for (int i = 0; i < N; ++i) {
        float sum = 0.0f;
        if (query_live_[b * nqb + i / kBr]) {
#pragma omp simd reduction(+ : sum)
          for (int x = 0; x < Dh; ++x) sum += doh[i * Dh + x] * oh[i * Dh + x];
        }
        w.d[i] = sum;
      }
      std::memset(dqh, 0, sizeof(float) * N * Dh);
      for (int jb = 0; jb < nkb; ++jb) {
        const int j0 = jb * kBc;
        const int cols = std::min(kBc, N - j0);
        // dK and dV of this key block accumulate over all query blocks.
        float* dkb = dkh + static_cast<int64_t>(j0) * Dh;
        float* dvb = dvh + static_cast<int64_t>(j0) * Dh;
        std::memset(dkb, 0, sizeof(float) * cols * Dh);
        std::memset(dvb, 0, sizeof(float) * cols * Dh);
        if (!block_live_[b * nkb + jb]) continue;
        const float* kb = kh + static_cast<int64_t>(j0) * Dh;
        TransposeBlock(kb, cols, Dh, w.kt);
        TransposeBlock(vh + static_cast<int64_t>(j0) * Dh, cols, Dh, w.vt);
        const float* bias = key_bias_.data() + b * bias_stride + j0;
        for (int ib = 0; ib < nqb; ++ib) {
          // Rows of padded queries get no gradient and give none.
          if (!query_live_[b * nqb + ib]) continue;
          const int i0 = ib * kBr;
          const int rows = std::min(kBr, N - i0);
          const float* qb = qh + static_cast<int64_t>(i0) * Dh;
          const float* dob = doh + static_cast<int64_t>(i0) * Dh;
          // P = exp(S - lse): the forward's probabilities before dropout.
          ScoreTileCols(qb, rows, Dh, w.kt, kBc, scale_, bias, cols, w.s);
          for (int r = 0; r < rows; ++r)
            ExpShiftRow(w.s + r * kBc, lse[i0 + r]);
          // dP [rows, kBc] = dO V^T.
          ScoreTileCols(dob, rows, Dh, w.vt, kBc, 1.0f, nullptr, cols, w.ds);
          const float* p_used = w.s;
          if (dropout_active_) {
            // Pd = P * M / (1 - rate) fed V in the forward, so dV uses Pd
            // and dP flows back through the same mask.
            for (int r = 0; r < rows; ++r) {
              const uint64_t base = static_cast<uint64_t>(i0 + r) * N + j0;
              for (int c = 0; c < kBc; ++c) {
                const bool keep =
                    c < cols && KeepElement(head_seed, base + c, threshold);
                const float f = keep ? keep_scale : 0.0f;
                w.pd[r * kBc + c] = w.s[r * kBc + c] * f;
                w.ds[r * kBc + c] *= f;
              }
            }
            p_used = w.pd;
          }
          // dV [cols, Dh] += P^T dO.
          AccumulateTile(p_used, 1, kBc, cols, rows, dob, Dh, dvb);
          // dS = P * (dP - D) * scale (the score scale folded in).
          for (int r = 0; r < rows; ++r) {
            SoftmaxGradRow(w.s + r * kBc, w.d[i0 + r], scale_, w.ds + r * kBc);
          }
          // dK [cols, Dh] += dS^T Q;  dQ [rows, Dh] += dS K.
          AccumulateTile(w.ds, 1, kBc, cols, rows, qb, Dh, dkb);
          AccumulateTile(w.ds, kBc, 1, rows, cols, kb, Dh,
                         dqh + static_cast<int64_t>(i0) * Dh);
        }
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
  // Q K^T and P V, per head n x n x Dh each.
  plugin.flops = [](const PluginParams&, int qkv_dim,
                    const std::vector<int>& positions) {
    double flops = 0;
    for (int n : positions) flops += 2.0 * 2 * n * n * qkv_dim;
    return flops;
  };
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
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
