#include "models/attention/block_sparse/block_sparse_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention/kernels/tile_kernels.h"
#include "models/internal/scratch_carver.h"
#include "models/rng.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace lra {
namespace {

using internal::AccumulateTile;
using internal::ExpShiftRow;
using internal::ScaleRow;
using internal::ScoreKeys;
using internal::SoftmaxGradRow;
using internal::SoftmaxRowUpdate;

constexpr int kT = kSparseTile;
static_assert(kT == internal::kKeyBlock, "tiles are the kernels' 64 keys");
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

using internal::RoundUp16;

// Row stride of a [Dh, n] transposed copy: room for a 64-wide tile starting
// at any position below n, plus one cache line so that the Dh rows a score
// tile reads do not all map to the same L1 set.
int64_t TransposedStride(int64_t n) { return RoundUp16(n + kT) + 16; }

uint64_t LowBits(int count) {
  return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
}

// s [64] = -inf where bit c of `allowed` is clear.
inline void MaskRow(float* s, uint64_t allowed) {
#if defined(__AVX512F__)
  const __m512 neg_inf = _mm512_set1_ps(kNegInf);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __mmask16 keep = static_cast<__mmask16>(allowed >> (16 * j));
    _mm512_storeu_ps(
        s + 16 * j,
        _mm512_mask_mov_ps(neg_inf, keep, _mm512_loadu_ps(s + 16 * j)));
  }
#else
  for (int c = 0; c < kT; ++c) {
    if (((allowed >> c) & 1u) == 0) s[c] = kNegInf;
  }
#endif
}

// Applies the pattern's element mask of key block `kb` (or, for a tile of
// fewer than 64 keys, the tile width) to scores s [rows, 64].
void ApplyMask(const BlockSparsePattern& p, const SparseKeyBlock& kb, int rows,
               float* s) {
  if (kb.mask >= 0) {
    const uint64_t* bits = p.masks.data() + kb.mask;
    for (int r = 0; r < rows; ++r) MaskRow(s + r * kT, bits[r]);
  } else if (kb.keys.count < kT) {
    const uint64_t bits = LowBits(kb.keys.count);
    for (int r = 0; r < rows; ++r) MaskRow(s + r * kT, bits);
  }
}

// dst [dh, stride] = src [n, dh] transposed, 16 source rows at a time so
// that each destination row is written in runs of 16 floats.
void Transpose(const float* src, int n, int dh, float* dst, int64_t stride) {
  for (int j0 = 0; j0 < n; j0 += 16) {
    const int count = std::min(16, n - j0);
    for (int x = 0; x < dh; ++x) {
      float* d = dst + x * stride + j0;
      for (int c = 0; c < count; ++c) {
        d[c] = src[static_cast<int64_t>(j0 + c) * dh + x];
      }
    }
  }
}

// Folds a tile's partial softmax state (max tm, sum tl, unnormalised output
// acc) into its row's running state (m, l, out).
void MergeRow(float tm, float tl, const float* acc, int dh, float* m, float* l,
              float* out) {
  if (tl == 0.0f) return;  // the tile allowed no real key for this row
  if (*l == 0.0f) {
    *m = tm;
    *l = tl;
    std::memcpy(out, acc, sizeof(float) * dh);
    return;
  }
  const float mn = std::max(*m, tm);
  const float a = std::exp(*m - mn), c = std::exp(tm - mn);
#pragma omp simd
  for (int x = 0; x < dh; ++x) out[x] = out[x] * a + acc[x] * c;
  *l = *l * a + tl * c;
  *m = mn;
}

// Whether the query block `rows` holds a real position: one prefix lookup
// for a natural tile, a look at each row of a gathered one.
bool AnyRealRow(const BlockSparsePattern& p, const SparseTile& rows,
                const int32_t* prefix) {
  if (!rows.gathered)
    return prefix[rows.begin + rows.count] > prefix[rows.begin];
  for (int r = 0; r < rows.count; ++r) {
    const int i = p.Position(rows, r);
    if (prefix[i + 1] > prefix[i]) return true;
  }
  return false;
}

// Whether the key tile `t` holds a real key: one prefix lookup for a natural
// tile, a look at each key's bias (gbias, 0 for a real one) of a gathered
// one.
bool AnyRealKey(const SparseTile& t, const float* gbias,
                const int32_t* prefix) {
  if (!t.gathered) return prefix[t.begin + t.count] > prefix[t.begin];
  bool live = false;
  for (int c = 0; c < t.count; ++c) live |= gbias[t.begin + c] == 0.0f;
  return live;
}

}  // namespace

// Per-thread buffers, carved out of one allocation; each piece starts on a
// 64-byte boundary. One head is processed by one thread from start to end.
struct BlockSparseAttention::Scratch {
  float* s;         // [64, 64] scores, then probabilities
  float* ds;        // [64, 64] dP, then dS (backward)
  float* pd;        // [64, 64] probabilities after dropout (backward)
  float* acc;       // [64, Dh] tile output (forward) or dQ (backward)
  float* tile_m;    // [64] running max of the tile's rows (forward)
  float* tile_l;    // [64] running sum (forward)
  float* tile_lse;  // [64] the rows' log-sum-exp (backward)
  float* tile_d;    // [64] the rows' rowsum(dO * O) (backward)
  float* kt;        // [Dh, natural_stride] keys transposed
  float* vt;        // [Dh, natural_stride] values transposed (backward)
  float* kgt;       // [Dh, gather_stride] gathered keys transposed
  float* vgt;       // [Dh, gather_stride] gathered values transposed
  float* kg;        // [G, Dh] gathered keys (backward)
  float* vg;        // [G, Dh] gathered values (forward)
  float* qg;        // [G, Dh] gathered queries
  float* dog;       // [G, Dh] gathered output gradients (backward)
  float* dkg;       // [G, Dh] gradients of the gathered keys (backward)
  float* dvg;       // [G, Dh] gradients of the gathered values (backward)
  float* gbias;     // [gather_stride] key bias of the gathered positions
  float* row_a;     // [N] running max (forward) or rowsum(dO * O) (backward)
  float* row_b;     // [N] running sum (forward)

  // All of the pieces, each rounded up: what Floats() returns.
  int64_t floats;

  static int64_t Floats(int dh, int n, int g, int64_t ns, int64_t gs) {
    return Scratch(nullptr, dh, n, g, ns, gs).floats;
  }
  Scratch(float* base, int dh, int n, int g, int64_t ns, int64_t gs) {
    internal::ScratchCarver carve(base);
    s = carve.Take(kT * kT);
    ds = carve.Take(kT * kT);
    pd = carve.Take(kT * kT);
    acc = carve.Take(int64_t{kT} * dh);
    tile_m = carve.Take(kT);
    tile_l = carve.Take(kT);
    tile_lse = carve.Take(kT);
    tile_d = carve.Take(kT);
    kt = carve.Take(dh * ns);
    vt = carve.Take(dh * ns);
    kgt = carve.Take(dh * gs);
    vgt = carve.Take(dh * gs);
    const int64_t gd = int64_t{g} * dh;
    kg = carve.Take(gd);
    vg = carve.Take(gd);
    qg = carve.Take(gd);
    dog = carve.Take(gd);
    dkg = carve.Take(gd);
    dvg = carve.Take(gd);
    gbias = carve.Take(gs);
    row_a = carve.Take(n);
    row_b = carve.Take(n);
    floats = carve.taken();
  }
};

// What ForwardHead and BackwardHead both read of head h of sequence b.
struct BlockSparseAttention::HeadView {
  const BlockSparsePattern& p;
  int64_t index;          // b * H + h
  int64_t off;            // index * N * Dh: the head's [N, Dh] rows
  const float* bias;      // [natural_stride] key bias of sequence b
  const int32_t* prefix;  // [N + 1] real keys before each position of b
  uint64_t seed;          // the head's dropout stream
};

template <typename Fn>
void BlockSparseAttention::ForEachHead(Fn fn) {
  const int N = shape_.seq_len, H = shape_.num_heads, Dh = shape_.head_dim;
  const int batch = in_.batch;
  // Never more threads than the scratch was sized for, nor than the caller
  // currently allows (the trainer may lower the OpenMP thread count).
  const int threads = std::min(num_threads_, omp_get_max_threads());
  // One head per task: a row's softmax state may collect tiles from several
  // query blocks (natural and gathered), which one thread then merges, and
  // dK and dV rows collect contributions from many query blocks, so
  // splitting a head across threads would need a reduction.
#pragma omp parallel for collapse(2) schedule(dynamic) num_threads(threads)
  for (int b = 0; b < batch; ++b) {
    for (int h = 0; h < H; ++h) {
      Scratch w(scratch_.data() + omp_get_thread_num() * scratch_floats_, Dh, N,
                max_gather_, natural_stride_, gather_stride_);
      const int64_t index = static_cast<int64_t>(b) * H + h;
      const HeadView head{
          pattern(h),
          index,
          index * N * Dh,
          key_bias_.data() + b * natural_stride_,
          real_prefix_.data() + static_cast<int64_t>(b) * (N + 1),
          DeriveSeed(in_.seed, static_cast<uint64_t>(index))};
      fn(head, w);
    }
  }
}

absl::StatusOr<std::unique_ptr<BlockSparseAttention>>
BlockSparseAttention::Create(const AttentionShape& shape,
                             std::vector<BlockSparsePattern> patterns) {
  if (shape.max_batch <= 0 || shape.num_heads <= 0 || shape.seq_len <= 0 ||
      shape.head_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "block-sparse attention: shape must be positive, got max_batch=",
        shape.max_batch, " heads=", shape.num_heads, " seq_len=", shape.seq_len,
        " head_dim=", shape.head_dim));
  }
  if (patterns.size() != 1 &&
      patterns.size() != static_cast<size_t>(shape.num_heads)) {
    return absl::InvalidArgumentError(
        absl::StrCat("block-sparse attention: need 1 pattern or one per head (",
                     shape.num_heads, "), got ", patterns.size()));
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (patterns[i].seq_len != shape.seq_len) {
      return absl::InvalidArgumentError(absl::StrCat(
          "block-sparse attention: pattern ", i, " is for ",
          patterns[i].seq_len, " positions, the shape has ", shape.seq_len));
    }
  }
  return std::unique_ptr<BlockSparseAttention>(
      new BlockSparseAttention(shape, std::move(patterns)));
}

BlockSparseAttention::BlockSparseAttention(
    const AttentionShape& shape, std::vector<BlockSparsePattern> patterns)
    : shape_(shape),
      patterns_(std::move(patterns)),
      scale_(1.0f / std::sqrt(static_cast<float>(shape.head_dim))),
      drop_threshold_(DropThreshold(shape.attention_dropout)),
      keep_scale_(1.0f / (1.0f - shape.attention_dropout)),
      num_threads_(std::max(1, omp_get_max_threads())) {
  max_gather_ = 0;
  for (const BlockSparsePattern& p : patterns_) {
    max_gather_ = std::max(max_gather_, static_cast<int>(p.gather.size()));
  }
  natural_stride_ = TransposedStride(shape.seq_len);
  gather_stride_ = TransposedStride(max_gather_);
  scratch_floats_ = Scratch::Floats(shape.head_dim, shape.seq_len, max_gather_,
                                    natural_stride_, gather_stride_);
  lse_ = Tensor({shape.max_batch, shape.num_heads, shape.seq_len});
  key_bias_ = Tensor({shape.max_batch, natural_stride_});
  real_prefix_.assign(
      static_cast<size_t>(shape.max_batch) * (shape.seq_len + 1), 0);
  scratch_ = Tensor({num_threads_ * scratch_floats_});
}

void BlockSparseAttention::Forward(const AttentionInputs& in, float* out) {
  const uint8_t* key_mask = in.key_mask;
  const int batch = in.batch;
  const int N = shape_.seq_len;
  in_ = in;
  out_ = out;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  // Additive key bias (-inf on padding and past N) and prefix counts of real
  // keys, so that a tile of only padded keys is skipped without a scan.
  for (int b = 0; b < batch; ++b) {
    float* bias = key_bias_.data() + b * natural_stride_;
    int32_t* prefix = real_prefix_.data() + static_cast<int64_t>(b) * (N + 1);
    prefix[0] = 0;
    for (int64_t j = 0; j < natural_stride_; ++j) {
      const bool real =
          j < N && (key_mask == nullptr ||
                    key_mask[static_cast<int64_t>(b) * N + j] != 0);
      bias[j] = real ? 0.0f : kNegInf;
      if (j < N) prefix[j + 1] = prefix[j] + (real ? 1 : 0);
    }
  }
  ForEachHead([&](const HeadView& head, const Scratch& w) {
    ForwardHead(head, out, w);
  });
}

void BlockSparseAttention::ForwardHead(const HeadView& head, float* out,
                                       const Scratch& w) {
  const int N = shape_.seq_len, Dh = shape_.head_dim;
  const BlockSparsePattern& p = head.p;
  const int G = static_cast<int>(p.gather.size());
  const float* qh = in_.q + head.off;         // [N, Dh]
  const float* kh = in_.k + head.off;         // [N, Dh]
  const float* vh = in_.v + head.off;         // [N, Dh]
  float* oh = out + head.off;                 // [N, Dh]
  float* lse = lse_.data() + head.index * N;  // [N]
  const float* bias = head.bias;
  const int32_t* prefix = head.prefix;
  const int64_t ns = natural_stride_, gs = gather_stride_;

  Transpose(kh, N, Dh, w.kt, ns);
  for (int g = 0; g < G; ++g) {
    const int64_t src = static_cast<int64_t>(p.gather[g]) * Dh;
    for (int x = 0; x < Dh; ++x) w.kgt[x * gs + g] = kh[src + x];
    std::memcpy(w.vg + int64_t{g} * Dh, vh + src, sizeof(float) * Dh);
    std::memcpy(w.qg + int64_t{g} * Dh, qh + src, sizeof(float) * Dh);
    w.gbias[g] = bias[p.gather[g]];
  }
  float* row_m = w.row_a;
  float* row_l = w.row_b;
  for (int i = 0; i < N; ++i) {
    row_m[i] = kNegInf;
    row_l[i] = 0.0f;
  }
  std::memset(oh, 0, sizeof(float) * N * Dh);

  int row_pos[kT], col_pos[kT];
  for (const SparseQueryBlock& qb : p.query_blocks) {
    // A block of padded queries only: their outputs are zero.
    if (skip_padded_queries_ && !AnyRealRow(p, qb.rows, prefix)) continue;
    const int rows = qb.rows.count;
    const float* qp = (qb.rows.gathered ? w.qg : qh) +
                      static_cast<int64_t>(qb.rows.begin) * Dh;
    for (int r = 0; r < rows; ++r) {
      row_pos[r] = p.Position(qb.rows, r);
      w.tile_m[r] = kNegInf;
      w.tile_l[r] = 0.0f;
    }
    std::memset(w.acc, 0, sizeof(float) * rows * Dh);
    for (int kk = 0; kk < qb.num_keys; ++kk) {
      const SparseKeyBlock& kb = p.key_blocks[qb.first_key + kk];
      const SparseTile& t = kb.keys;
      if (!AnyRealKey(t, w.gbias, prefix)) continue;
      const float *bt, *tile_bias, *vp;
      int64_t stride;
      if (t.gathered) {
        bt = w.kgt + t.begin;
        stride = gs;
        tile_bias = w.gbias + t.begin;
        vp = w.vg + static_cast<int64_t>(t.begin) * Dh;
      } else {
        bt = w.kt + t.begin;
        stride = ns;
        tile_bias = bias + t.begin;
        vp = vh + static_cast<int64_t>(t.begin) * Dh;
      }
      // s [rows, 64] = q k^T * scale + key bias, then the pattern's mask.
      ScoreKeys(qp, rows, Dh, bt, static_cast<int>(stride), scale_, tile_bias,
                t.count, w.s);
      ApplyMask(p, kb, rows, w.s);
      // Online softmax over this query block's tiles.
      for (int r = 0; r < rows; ++r) {
        const float alpha =
            SoftmaxRowUpdate(w.s + r * kT, &w.tile_m[r], &w.tile_l[r]);
        if (alpha != 1.0f) ScaleRow(w.acc + r * Dh, Dh, alpha);
      }
      if (dropout_active_) {
        for (int c = 0; c < t.count; ++c) col_pos[c] = p.Position(t, c);
        for (int r = 0; r < rows; ++r) {
          const uint64_t base = static_cast<uint64_t>(row_pos[r]) * N;
          float* sr = w.s + r * kT;
          for (int c = 0; c < t.count; ++c) {
            sr[c] = KeepElement(head.seed, base + col_pos[c], drop_threshold_)
                        ? sr[c] * keep_scale_
                        : 0.0f;
          }
        }
      }
      // acc [rows, Dh] += p [rows, count] v [count, Dh].
      AccumulateTile(w.s, kT, 1, rows, t.count, vp, Dh, w.acc);
    }
    for (int r = 0; r < rows; ++r) {
      const int i = row_pos[r];
      MergeRow(w.tile_m[r], w.tile_l[r], w.acc + r * Dh, Dh, &row_m[i],
               &row_l[i], oh + static_cast<int64_t>(i) * Dh);
    }
  }
  for (int i = 0; i < N; ++i) {
    // A padded query row outputs zero (with lse = +inf, no gradient).
    if (skip_padded_queries_ && prefix[i + 1] == prefix[i]) {
      std::memset(oh + static_cast<int64_t>(i) * Dh, 0, sizeof(float) * Dh);
      lse[i] = std::numeric_limits<float>::infinity();
      continue;
    }
    const float l = row_l[i];
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    ScaleRow(oh + static_cast<int64_t>(i) * Dh, Dh, inv);
    // A row without any real allowed key keeps lse = +inf so that the
    // backward pass recomputes probabilities of exactly zero.
    lse[i] = l > 0.0f ? row_m[i] + std::log(l)
                      : std::numeric_limits<float>::infinity();
  }
}

void BlockSparseAttention::Backward(const float* dout,
                                    const AttentionGradients& grads) {
  ForEachHead([&](const HeadView& head, const Scratch& w) {
    BackwardHead(head, dout, grads.dq, grads.dk, grads.dv, w);
  });
}

void BlockSparseAttention::BackwardHead(const HeadView& head, const float* dout,
                                        float* dq, float* dk, float* dv,
                                        const Scratch& w) {
  const int N = shape_.seq_len, Dh = shape_.head_dim;
  const BlockSparsePattern& p = head.p;
  const int G = static_cast<int>(p.gather.size());
  const int64_t off = head.off;
  const float* qh = in_.q + off;  // [N, Dh]
  const float* kh = in_.k + off;  // [N, Dh]
  const float* vh = in_.v + off;  // [N, Dh]
  const float* oh = out_ + off;   // [N, Dh]
  const float* doh = dout + off;  // [N, Dh]
  float* dqh = dq + off;          // [N, Dh]
  float* dkh = dk + off;          // [N, Dh]
  float* dvh = dv + off;          // [N, Dh]
  const float* lse = lse_.data() + head.index * N;
  const float* bias = head.bias;
  const int32_t* prefix = head.prefix;
  const int64_t ns = natural_stride_, gs = gather_stride_;

  Transpose(kh, N, Dh, w.kt, ns);
  Transpose(vh, N, Dh, w.vt, ns);
  for (int g = 0; g < G; ++g) {
    const int64_t src = static_cast<int64_t>(p.gather[g]) * Dh;
    const int64_t dst = int64_t{g} * Dh;
    for (int x = 0; x < Dh; ++x) {
      w.kgt[x * gs + g] = kh[src + x];
      w.vgt[x * gs + g] = vh[src + x];
    }
    std::memcpy(w.kg + dst, kh + src, sizeof(float) * Dh);
    std::memcpy(w.qg + dst, qh + src, sizeof(float) * Dh);
    std::memcpy(w.dog + dst, doh + src, sizeof(float) * Dh);
    w.gbias[g] = bias[p.gather[g]];
  }
  std::memset(w.dkg, 0, sizeof(float) * G * Dh);
  std::memset(w.dvg, 0, sizeof(float) * G * Dh);
  // D_i = rowsum(dO_i * O_i), which equals rowsum(P_i * dP_i) (dropout
  // included, since O is the output after dropout).
  float* row_d = w.row_a;
  for (int i = 0; i < N; ++i) {
    float sum = 0.0f;
    const float* a = doh + static_cast<int64_t>(i) * Dh;
    const float* o = oh + static_cast<int64_t>(i) * Dh;
    if (!skip_padded_queries_ || prefix[i + 1] > prefix[i]) {
#pragma omp simd reduction(+ : sum)
      for (int x = 0; x < Dh; ++x) sum += a[x] * o[x];
    }
    row_d[i] = sum;
  }
  std::memset(dqh, 0, sizeof(float) * N * Dh);
  std::memset(dkh, 0, sizeof(float) * N * Dh);
  std::memset(dvh, 0, sizeof(float) * N * Dh);

  int row_pos[kT], col_pos[kT];
  for (const SparseQueryBlock& qb : p.query_blocks) {
    // Padded queries get no gradient and give none.
    if (skip_padded_queries_ && !AnyRealRow(p, qb.rows, prefix)) continue;
    const int rows = qb.rows.count;
    const int64_t row_off = static_cast<int64_t>(qb.rows.begin) * Dh;
    const float* qp = (qb.rows.gathered ? w.qg : qh) + row_off;
    const float* dop = (qb.rows.gathered ? w.dog : doh) + row_off;
    for (int r = 0; r < rows; ++r) {
      row_pos[r] = p.Position(qb.rows, r);
      w.tile_lse[r] = lse[row_pos[r]];
      w.tile_d[r] = row_d[row_pos[r]];
    }
    std::memset(w.acc, 0, sizeof(float) * rows * Dh);
    for (int kk = 0; kk < qb.num_keys; ++kk) {
      const SparseKeyBlock& kb = p.key_blocks[qb.first_key + kk];
      const SparseTile& t = kb.keys;
      if (!AnyRealKey(t, w.gbias, prefix)) continue;
      const int64_t key_off = static_cast<int64_t>(t.begin) * Dh;
      const float *bt, *vtp, *tile_bias, *kp;
      float *dkp, *dvp;
      int64_t stride;
      if (t.gathered) {
        bt = w.kgt + t.begin;
        vtp = w.vgt + t.begin;
        stride = gs;
        tile_bias = w.gbias + t.begin;
        kp = w.kg + key_off;
        dkp = w.dkg + key_off;
        dvp = w.dvg + key_off;
      } else {
        bt = w.kt + t.begin;
        vtp = w.vt + t.begin;
        stride = ns;
        tile_bias = bias + t.begin;
        kp = kh + key_off;
        dkp = dkh + key_off;
        dvp = dvh + key_off;
      }
      // P = exp(S - lse): the forward's probabilities before dropout.
      ScoreKeys(qp, rows, Dh, bt, static_cast<int>(stride), scale_, tile_bias,
                t.count, w.s);
      ApplyMask(p, kb, rows, w.s);
      for (int r = 0; r < rows; ++r) ExpShiftRow(w.s + r * kT, w.tile_lse[r]);
      // dP [rows, 64] = dO V^T.
      ScoreKeys(dop, rows, Dh, vtp, static_cast<int>(stride), 1.0f, nullptr,
                t.count, w.ds);
      const float* p_used = w.s;
      if (dropout_active_) {
        // Pd = P * M / (1 - rate) fed V in the forward, so dV uses Pd and
        // dP flows back through the same mask.
        for (int c = 0; c < t.count; ++c) col_pos[c] = p.Position(t, c);
        for (int r = 0; r < rows; ++r) {
          const uint64_t base = static_cast<uint64_t>(row_pos[r]) * N;
          for (int c = 0; c < kT; ++c) {
            const bool keep =
                c < t.count &&
                KeepElement(head.seed, base + col_pos[c], drop_threshold_);
            const float f = keep ? keep_scale_ : 0.0f;
            w.pd[r * kT + c] = w.s[r * kT + c] * f;
            w.ds[r * kT + c] *= f;
          }
        }
        p_used = w.pd;
      }
      // dV [count, Dh] += P^T dO.
      AccumulateTile(p_used, 1, kT, t.count, rows, dop, Dh, dvp);
      // dS = P * (dP - D) * scale (the score scale folded in).
      for (int r = 0; r < rows; ++r) {
        SoftmaxGradRow(w.s + r * kT, w.tile_d[r], scale_, w.ds + r * kT);
      }
      // dK [count, Dh] += dS^T Q;  dQ [rows, Dh] += dS K.
      AccumulateTile(w.ds, 1, kT, t.count, rows, qp, Dh, dkp);
      AccumulateTile(w.ds, kT, 1, rows, t.count, kp, Dh, w.acc);
    }
    for (int r = 0; r < rows; ++r) {
      float* dst = dqh + static_cast<int64_t>(row_pos[r]) * Dh;
      const float* src = w.acc + r * Dh;
#pragma omp simd
      for (int x = 0; x < Dh; ++x) dst[x] += src[x];
    }
  }
  // The gathered copies' gradients belong to their sequence positions.
  for (int g = 0; g < G; ++g) {
    const int64_t dst = static_cast<int64_t>(p.gather[g]) * Dh;
    const int64_t src = int64_t{g} * Dh;
#pragma omp simd
    for (int x = 0; x < Dh; ++x) {
      dkh[dst + x] += w.dkg[src + x];
      dvh[dst + x] += w.dvg[src + x];
    }
  }
}

}  // namespace lra
