#include "models/sequence/transformer_xl/relative_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "models/attention/kernels/tile_kernels.h"
#include "models/internal/scratch_carver.h"
#include "models/layers.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::AccumulateTile;
using internal::DropoutTile;
using internal::ExpShiftRow;
using internal::kKeyBlock;
using internal::ScaleRow;
using internal::ScoreTile;
using internal::SoftmaxGradRow;
using internal::SoftmaxRowUpdate;

// Queries per block and keys per tile; one tile of scores is [kB, kB].
constexpr int kB = kKeyBlock;
constexpr int kTile = kB * kB;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

using internal::RoundUp16;

// Per-thread buffers, carved out of one block of floats; each piece starts
// on a 64-byte boundary.
struct ThreadScratch {
  float* qu;    // [kB, Dh] the block's q + u
  float* qv;    // [kB, Dh] the block's q + v
  float* dob;   // [kB, Dh] the block's dO (backward)
  float* acc;   // [kB, Dh] output accumulator (forward), d(q + u) (backward)
  float* dqv;   // [kB, Dh] d(q + v) (backward)
  float* s;     // [kB, kB] scores, then probabilities
  float* ds;    // [kB, kB] dP, then dS (backward)
  float* pd;    // [kB, kB] probabilities after dropout (backward)
  float* bd;    // [tiles, kB, kB] position scores of the block, tiled
  float* dbd;   // [tiles, kB, kB] their gradient (backward)
  float* m;     // [kB] running row max (forward)
  float* l;     // [kB] running row sum (forward)
  float* dd;    // [kB] rowsum(dO * O) (backward), lse (backward)
  float* bias;  // [kB] 0 for a real key of the tile, -inf otherwise
  float* dk;    // [T, Dh] the window's key gradient (backward)
  float* dv;    // [T, Dh] the window's value gradient (backward)
  float* du;    // [Q] d(u) partial sum (backward)
  float* dvb;   // [Q] d(v) partial sum (backward)
  float* dr;    // [H, rel rows, Dh] d(projected distances) (backward)
  float* ln;    // [2 D] dgamma, dbeta partial sums

  // All of the pieces, each rounded up: what Floats() returns.
  int64_t floats;

  static int64_t Floats(int dh, int tiles, int t, int q, int h, int rel_rows,
                        int d) {
    return ThreadScratch(nullptr, dh, tiles, t, q, h, rel_rows, d).floats;
  }
  ThreadScratch(float* base, int dh, int tiles, int t, int q, int h,
                int rel_rows, int d) {
    internal::ScratchCarver carve(base);
    qu = carve.Take(kB * dh);
    qv = carve.Take(kB * dh);
    dob = carve.Take(kB * dh);
    acc = carve.Take(kB * dh);
    dqv = carve.Take(kB * dh);
    s = carve.Take(kTile);
    ds = carve.Take(kTile);
    pd = carve.Take(kTile);
    bd = carve.Take(static_cast<int64_t>(tiles) * kTile);
    dbd = carve.Take(static_cast<int64_t>(tiles) * kTile);
    m = carve.Take(kB);
    l = carve.Take(kB);
    dd = carve.Take(kB);
    bias = carve.Take(kB);
    dk = carve.Take(static_cast<int64_t>(t) * dh);
    dv = carve.Take(static_cast<int64_t>(t) * dh);
    du = carve.Take(q);
    dvb = carve.Take(q);
    dr = carve.Take(static_cast<int64_t>(h) * rel_rows * dh);
    ln = carve.Take(2 * d);
    floats = carve.taken();
  }
};

// The tiled position scores bd [tiles, kB, kB] hold row r's column c at
// bd[(c / kB) * kTile + r * kB + c % kB]. s [cols] += row r's columns
// c0 .. c0 + cols - 1 (cols <= kB: at most two tiles).
inline void AddShifted(const float* bd, int r, int c0, int cols, float* s) {
  const int first = std::min(cols, kB - c0 % kB);
  const float* a = bd + (c0 / kB) * kTile + r * kB + c0 % kB;
#pragma omp simd
  for (int c = 0; c < first; ++c) s[c] += a[c];
  const float* b = bd + (c0 / kB + 1) * kTile + r * kB - first;
#pragma omp simd
  for (int c = first; c < cols; ++c) s[c] += b[c];
}

// The reverse: row r's columns c0 .. c0 + cols - 1 of dbd += ds [cols].
inline void ScatterShifted(const float* ds, int r, int c0, int cols,
                           float* dbd) {
  const int first = std::min(cols, kB - c0 % kB);
  float* a = dbd + (c0 / kB) * kTile + r * kB + c0 % kB;
#pragma omp simd
  for (int c = 0; c < first; ++c) a[c] += ds[c];
  float* b = dbd + (c0 / kB + 1) * kTile + r * kB - first;
#pragma omp simd
  for (int c = first; c < cols; ++c) b[c] += ds[c];
}

// bias [kB]: 0 where key j0 + c (c < cols) is real, -inf elsewhere; returns
// whether any key is real.
inline bool TileBias(const uint8_t* mask, int j0, int cols, float* bias) {
  bool live = false;
  for (int c = 0; c < kB; ++c) {
    const bool real = c < cols && mask[j0 + c];
    bias[c] = real ? 0.0f : kNegInf;
    live |= real;
  }
  return live;
}

// The window of segment g: queries at [gS, gS + S); keys at [ws, gS + S)
// with ws = gS - M, the memory part [max(0, ws), gS) and the segment's own
// part [gS, gS + S), each cut into tiles of kB keys so that no tile mixes
// memory and own keys. Window index jw = position - ws.
struct Window {
  int ws, kstart, gs, ge, jw_start;
  Window(int g, int s, int m) {
    gs = g * s;
    ge = gs + s;
    ws = gs - m;
    kstart = std::max(0, ws);
    jw_start = kstart - ws;
  }
};

// Calls fn(j0, cols, memory) for every key tile of the window.
template <typename Fn>
inline void ForEachKeyTile(const Window& w, Fn&& fn) {
  for (int j0 = w.kstart; j0 < w.gs; j0 += kB) {
    fn(j0, std::min(kB, w.gs - j0), true);
  }
  for (int j0 = w.gs; j0 < w.ge; j0 += kB) {
    fn(j0, std::min(kB, w.ge - j0), false);
  }
}

}  // namespace

RelativeAttention::RelativeAttention(const RelativeAttentionShape& shape,
                                     ScratchBuffers* scratch)
    : shape_(shape),
      s_(shape.seg_len),
      g_(shape.num_segments),
      n_(shape.seg_len * shape.num_segments),
      m_(shape.mem_len),
      t_(shape.mem_len + shape.seg_len),
      d_(shape.d_model),
      h_(shape.heads),
      dh_(shape.qkv_dim / shape.heads),
      q_dim_(shape.qkv_dim),
      num_rel_(shape.mem_len + 2 * shape.seg_len - 1),
      scale_(1.0f / std::sqrt(static_cast<float>(shape.qkv_dim / shape.heads))),
      num_threads_(std::max(1, omp_get_max_threads())),
      w_(shape.d_model, shape.qkv_dim),
      grad_(shape.d_model, shape.qkv_dim),
      q_proj_(shape.d_model, shape.qkv_dim),
      k_proj_(shape.d_model, shape.qkv_dim),
      v_proj_(shape.d_model, shape.qkv_dim),
      r_proj_(shape.d_model, shape.qkv_dim),
      o_proj_(shape.qkv_dim, shape.d_model) {
  const int64_t B = shape.max_seqs, N = n_, D = d_, H = h_, Q = q_dim_,
                R = num_rel_, Dh = dh_;
  // Tiles read up to kB - 1 columns past their first, so every transposed
  // layout has room for one more tile of zeros, plus a cache line against
  // power-of-two strides.
  kt_stride_ = static_cast<int>(RoundUp16(N + kB) + 16);
  rel_stride_ = static_cast<int>(RoundUp16(R + kB) + 16);
  rel_rows_count_ = static_cast<int>(R + kB);
  // A query block's position scores span rows - 1 + T - jw_start < kB + T
  // columns.
  max_bd_tiles_ = (kB - 1 + t_ + kB - 1) / kB;
  thread_floats_ = ThreadScratch::Floats(dh_, max_bd_tiles_, t_, q_dim_, h_,
                                         rel_rows_count_, d_);
  // Row r holds the distance M + S - 1 - r (query position minus key
  // position, both counted in the [memory | segment] window), interleaved
  // sin / cos as in layers.h's table; negative distances are keys after the
  // query.
  rel_table_ = Tensor({R, D});
  for (int64_t r = 0; r < R; ++r) {
    const double dist = static_cast<double>(m_ + s_ - 1 - r);
    for (int64_t i = 0; 2 * i < D; ++i) {
      const double angle =
          dist / std::pow(10000.0, static_cast<double>(2 * i) / D);
      rel_table_[r * D + 2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < D) {
        rel_table_[r * D + 2 * i + 1] = static_cast<float>(std::cos(angle));
      }
    }
  }
  q_ = Tensor({B, N, Q});
  k_ = Tensor({B, N, Q});
  v_ = Tensor({B, N, Q});
  const int64_t sep = shape.separate_memory ? 1 : 0;
  mem_norm_ = Tensor({std::max<int64_t>(1, sep * B * N * D)});
  mem_mean_ = Tensor({std::max<int64_t>(1, sep * B * N)});
  mem_rstd_ = Tensor({std::max<int64_t>(1, sep * B * N)});
  km_ = Tensor({std::max<int64_t>(1, sep * B * N * Q)});
  vm_ = Tensor({std::max<int64_t>(1, sep * B * N * Q)});
  rk_ = Tensor({R, Q});
  o_ = Tensor({B, N, Q});
  lse_ = Tensor({B, H, N});
  rel_t_ = Tensor({H, Dh, rel_stride_});
  rel_rows_ = Tensor({H, rel_rows_count_, Dh});
  ln_partial_ = Tensor({num_threads_, 2 * D});
  const int64_t transposed = B * H * Dh * kt_stride_;
  keys_t_ = scratch->Reserve("txl.keys_t", transposed);
  values_t_ = scratch->Reserve("txl.values_t", transposed);
  heads_ = scratch->Reserve("txl.heads", B * H * N * Dh);
  mem_keys_t_ = scratch->Reserve("txl.mem_keys_t",
                                 std::max<int64_t>(1, sep * transposed));
  mem_values_t_ = scratch->Reserve("txl.mem_values_t",
                                   std::max<int64_t>(1, sep * transposed));
  mem_heads_ = scratch->Reserve("txl.mem_heads",
                                std::max<int64_t>(1, sep * B * H * N * Dh));
  d_o_ = scratch->Reserve("txl.d_o", B * N * Q);
  d_q_ = scratch->Reserve("txl.d_q", B * N * Q);
  d_k_ = scratch->Reserve("txl.d_k", B * N * Q);
  d_v_ = scratch->Reserve("txl.d_v", B * N * Q);
  d_km_ = scratch->Reserve("txl.d_km", B * N * Q);
  d_vm_ = scratch->Reserve("txl.d_vm", B * N * Q);
  d_mem_norm_ = scratch->Reserve("txl.d_mem_norm", B * N * D);
  d_rk_ = scratch->Reserve("txl.d_rk", R * Q);
  threads_ = scratch->Reserve("txl.threads", num_threads_ * thread_floats_);
}

void RelativeAttention::ForEachWeight(const WeightVisitor& fn) {
  fn("wq", w_.wq, grad_.wq, {Init::kXavier});
  fn("wk", w_.wk, grad_.wk, {Init::kXavier});
  fn("wv", w_.wv, grad_.wv, {Init::kXavier});
  fn("wr", w_.wr, grad_.wr, {Init::kXavier});
  // The global content and position biases (the paper's u and v).
  fn("u", w_.u, grad_.u, {Init::kNormal, 1.0f, false});
  fn("v", w_.v, grad_.v, {Init::kNormal, 1.0f, false});
  fn("wo", w_.wo, grad_.wo, {Init::kXavier});
  fn("bo", w_.bo, grad_.bo, {Init::kZero});
}

void RelativeAttention::Transpose(const float* rows, float* out) const {
  const int B = seqs_, N = n_, H = h_, Dh = dh_, Q = q_dim_;
  const int stride = kt_stride_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      float* o = out + (static_cast<int64_t>(b) * H + h) * Dh * stride;
      const float* in = rows + static_cast<int64_t>(b) * N * Q + h * Dh;
      // Blocks of 16 positions keep the strided writes within few lines.
      for (int p0 = 0; p0 < N; p0 += 16) {
        const int p1 = std::min(N, p0 + 16);
        for (int x = 0; x < Dh; ++x) {
          float* dst = o + static_cast<int64_t>(x) * stride;
          for (int p = p0; p < p1; ++p) {
            dst[p] = in[static_cast<int64_t>(p) * Q + x];
          }
        }
      }
      for (int x = 0; x < Dh; ++x) {
        std::memset(o + static_cast<int64_t>(x) * stride + N, 0,
                    sizeof(float) * (stride - N));
      }
    }
  }
}

void RelativeAttention::Split(const float* rows, float* out) const {
  const int B = seqs_, N = n_, H = h_, Dh = dh_, Q = q_dim_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      float* o = out + (static_cast<int64_t>(b) * H + h) * N * Dh;
      const float* in = rows + static_cast<int64_t>(b) * N * Q + h * Dh;
      for (int p = 0; p < N; ++p) {
        std::memcpy(o + static_cast<int64_t>(p) * Dh,
                    in + static_cast<int64_t>(p) * Q, sizeof(float) * Dh);
      }
    }
  }
}

void RelativeAttention::SplitDistances() {
  const int R = num_rel_, H = h_, Dh = dh_, Q = q_dim_;
  // Columns and rows past R stay zero from construction.
  for (int h = 0; h < H; ++h) {
    float* t = rel_t_.data() + static_cast<int64_t>(h) * Dh * rel_stride_;
    float* rows =
        rel_rows_.data() + static_cast<int64_t>(h) * rel_rows_count_ * Dh;
    for (int r = 0; r < R; ++r) {
      const float* src = rk_.data() + static_cast<int64_t>(r) * Q + h * Dh;
      std::memcpy(rows + static_cast<int64_t>(r) * Dh, src, sizeof(float) * Dh);
      for (int x = 0; x < Dh; ++x) {
        t[static_cast<int64_t>(x) * rel_stride_ + r] = src[x];
      }
    }
  }
}

void RelativeAttention::Forward(const float* x, const MixerStep& step,
                                float* y) {
  const int B = step.seqs, D = d_;
  const int64_t rows = static_cast<int64_t>(B) * n_;
  x_ = x;
  key_mask_ = step.key_mask;
  seqs_ = B;
  dropout_active_ = step.training && shape_.attention_dropout > 0.0f;
  seed_ = step.seed;
  separate_used_ = m_ > 0 && separate_ && shape_.separate_memory;
  q_proj_.Forward(x, w_.wq.data(), nullptr, q_.data(), rows);
  k_proj_.Forward(x, w_.wk.data(), nullptr, k_.data(), rows);
  v_proj_.Forward(x, w_.wv.data(), nullptr, v_.data(), rows);
  if (separate_used_) {
    // The memory keys and values come from LN1 of the separate source.
    LayerNormForward(mem_source_, ln_->gamma.data(), ln_->beta.data(), rows, D,
                     mem_norm_.data(), mem_mean_.data(), mem_rstd_.data());
    k_proj_.Forward(mem_norm_.data(), w_.wk.data(), nullptr, km_.data(), rows);
    v_proj_.Forward(mem_norm_.data(), w_.wv.data(), nullptr, vm_.data(), rows);
  }
  r_proj_.Forward(rel_table_.data(), w_.wr.data(), nullptr, rk_.data(),
                  num_rel_);
  SplitDistances();
  Transpose(k_.data(), keys_t_.data());
  Split(v_.data(), heads_.data());
  if (separate_used_) {
    Transpose(km_.data(), mem_keys_t_.data());
    Split(vm_.data(), mem_heads_.data());
  }
  KernelForward();
  o_proj_.Forward(o_.data(), w_.wo.data(), w_.bo.data(), y, rows);
}

void RelativeAttention::KernelForward() {
  const int B = seqs_, H = h_, G = g_, S = s_, M = m_, T = t_, N = n_, Dh = dh_,
            Q = q_dim_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const bool dropout = dropout_active_;
  const int nqb = (S + kB - 1) / kB;
  const int kt_stride = kt_stride_, rel_stride = rel_stride_;
  const float* own_kt = keys_t_.data();
  const float* own_vh = heads_.data();
  const float* mem_kt = separate_used_ ? mem_keys_t_.data() : own_kt;
  const float* mem_vh = separate_used_ ? mem_heads_.data() : own_vh;
#pragma omp parallel for collapse(4) schedule(dynamic) num_threads(threads)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      for (int g = 0; g < G; ++g) {
        for (int ib = 0; ib < nqb; ++ib) {
          ThreadScratch w(
              threads_.data() + omp_get_thread_num() * thread_floats_, Dh,
              max_bd_tiles_, T, Q, H, rel_rows_count_, d_);
          const Window win(g, S, M);
          const int i0 = ib * kB;
          const int rows = std::min(kB, S - i0);
          const int p0 = win.gs + i0;  // position of the block's first row
          const int64_t head = static_cast<int64_t>(b) * H + h;
          const uint8_t* mask = key_mask_ + static_cast<int64_t>(b) * N;
          const uint64_t head_seed = DeriveSeed(seed_, head);
          for (int r = 0; r < rows; ++r) {
            const float* qi =
                q_.data() + (static_cast<int64_t>(b) * N + p0 + r) * Q + h * Dh;
            // Element-wise (no reduction): vectorised, values unchanged.
#pragma omp simd
            for (int x = 0; x < Dh; ++x) {
              w.qu[r * Dh + x] = qi[x] + w_.u[h * Dh + x];
              w.qv[r * Dh + x] = qi[x] + w_.v[h * Dh + x];
            }
          }
          // Position scores of the block against its whole window: column c
          // is the distance row base + c; row r, window key jw reads column
          // rows - 1 - r + jw - jw_start.
          const int base = S - 1 - (i0 + rows - 1) + win.jw_start;
          const int width = rows - 1 + T - win.jw_start;
          const int tiles = (width + kB - 1) / kB;
          const float* rt = rel_t_.data() + h * Dh * rel_stride;
          for (int ct = 0; ct < tiles; ++ct) {
            ScoreTile(w.qv, rows, Dh, rt + base + ct * kB, rel_stride, scale_,
                      nullptr, w.bd + ct * kTile);
          }
          for (int r = 0; r < rows; ++r) {
            w.m[r] = kNegInf;
            w.l[r] = 0.0f;
          }
          std::memset(w.acc, 0, sizeof(float) * rows * Dh);
          ForEachKeyTile(win, [&](int j0, int cols, bool memory) {
            if (!TileBias(mask, j0, cols, w.bias)) return;
            const float* kt =
                (memory ? mem_kt : own_kt) + head * Dh * kt_stride;
            const float* vh = (memory ? mem_vh : own_vh) + head * N * Dh;
            ScoreTile(w.qu, rows, Dh, kt + j0, kt_stride, scale_, w.bias, w.s);
            const int jw0 = j0 - win.ws;
            for (int r = 0; r < rows; ++r) {
              AddShifted(w.bd, r, rows - 1 - r + jw0 - win.jw_start, cols,
                         w.s + r * kB);
            }
            for (int r = 0; r < rows; ++r) {
              const float alpha =
                  SoftmaxRowUpdate(w.s + r * kB, &w.m[r], &w.l[r]);
              if (alpha != 1.0f) ScaleRow(w.acc + r * Dh, Dh, alpha);
            }
            if (dropout) {
              DropoutTile(head_seed, threshold, keep_scale, p0, jw0, rows, kB,
                          T, w.s);
            }
            AccumulateTile(w.s, kB, 1, rows, cols,
                           vh + static_cast<int64_t>(j0) * Dh, Dh, w.acc);
          });
          float* lse = lse_.data() + head * N + p0;
          for (int r = 0; r < rows; ++r) {
            const float l = w.l[r];
            const float inv = l > 0.0f ? 1.0f / l : 0.0f;
            float* oi =
                o_.data() + (static_cast<int64_t>(b) * N + p0 + r) * Q + h * Dh;
            for (int x = 0; x < Dh; ++x) oi[x] = w.acc[r * Dh + x] * inv;
            // No real key: the output is zero, and lse = +inf makes every
            // recomputed probability zero.
            lse[r] = l > 0.0f ? w.m[r] + std::log(l)
                              : std::numeric_limits<float>::infinity();
          }
        }
      }
    }
  }
}

void RelativeAttention::Backward(const float* dy, float* dx) {
  const int B = seqs_;
  const int64_t rows = static_cast<int64_t>(B) * n_;
  // y = o Wo + bo.
  o_proj_.BackwardParams(o_.data(), dy, grad_.wo.data(), grad_.bo.data(), rows);
  o_proj_.BackwardInput(dy, w_.wo.data(), d_o_.data(), rows, false);
  Transpose(k_.data(), keys_t_.data());
  Transpose(v_.data(), values_t_.data());
  Split(k_.data(), heads_.data());
  if (separate_used_) {
    Transpose(km_.data(), mem_keys_t_.data());
    Transpose(vm_.data(), mem_values_t_.data());
    Split(km_.data(), mem_heads_.data());
  }
  KernelBackward();
  // q, k, v = x Wq, x Wk, x Wv: as keys of their own segment, the keys and
  // values pass their gradient on to the layer input.
  const int64_t elements = rows * q_dim_;
  q_proj_.BackwardParams(x_, d_q_.data(), grad_.wq.data(), nullptr, rows);
  q_proj_.BackwardInput(d_q_.data(), w_.wq.data(), dx, rows, false);
  k_proj_.BackwardInput(d_k_.data(), w_.wk.data(), dx, rows, true);
  v_proj_.BackwardInput(d_v_.data(), w_.wv.data(), dx, rows, true);
  r_proj_.BackwardParams(rel_table_.data(), d_rk_.data(), grad_.wr.data(),
                         nullptr, num_rel_);
  if (m_ > 0) {
    // As memory of later segments: into Wk, Wv and, through LN1(memory),
    // LN1's gamma and beta; the cache itself gets nothing (stop-gradient).
    k_proj_.BackwardInput(d_km_.data(), w_.wk.data(), d_mem_norm_.data(), rows,
                          false);
    v_proj_.BackwardInput(d_vm_.data(), w_.wv.data(), d_mem_norm_.data(), rows,
                          true);
    if (mem_source_ == nullptr) std::abort();  // the handler sets it
    MemoryLayerNormBackward(mem_source_);
    if (separate_used_) {
      k_proj_.BackwardParams(mem_norm_.data(), d_km_.data(), grad_.wk.data(),
                             nullptr, rows);
      v_proj_.BackwardParams(mem_norm_.data(), d_vm_.data(), grad_.wv.data(),
                             nullptr, rows);
    } else {
      // The memory rows are rows of x: one product for both roles.
      AddInPlace(d_km_.data(), elements, d_k_.data());
      AddInPlace(d_vm_.data(), elements, d_v_.data());
    }
  }
  k_proj_.BackwardParams(x_, d_k_.data(), grad_.wk.data(), nullptr, rows);
  v_proj_.BackwardParams(x_, d_v_.data(), grad_.wv.data(), nullptr, rows);
}

void RelativeAttention::MemoryLayerNormBackward(const float* source) {
  const int D = d_;
  const int64_t rows = static_cast<int64_t>(seqs_) * n_;
  const float* d_norm = d_mem_norm_.data();
  const int threads = std::min(num_threads_, omp_get_max_threads());
  ln_partial_.Zero();
#pragma omp parallel num_threads(threads)
  {
    float* part = ln_partial_.data() + omp_get_thread_num() * 2 * D;
#pragma omp for schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      const float* dy = d_norm + row * D;
      bool any = false;
      for (int c = 0; c < D; ++c) any |= dy[c] != 0.0f;
      if (!any) continue;  // not in any later segment's memory
      const float* xr = source + row * D;
      // The statistics LayerNormForward uses: biased variance, epsilon.
      float mean = 0.0f;
      for (int c = 0; c < D; ++c) mean += xr[c];
      mean /= D;
      float var = 0.0f;
      for (int c = 0; c < D; ++c) var += (xr[c] - mean) * (xr[c] - mean);
      var /= D;
      const float rstd = 1.0f / std::sqrt(var + kLayerNormEpsilon);
      for (int c = 0; c < D; ++c) {
        part[c] += dy[c] * (xr[c] - mean) * rstd;
        part[D + c] += dy[c];
      }
    }
  }
  for (int t = 0; t < num_threads_; ++t) {
    const float* part = ln_partial_.data() + t * 2 * D;
    for (int c = 0; c < D; ++c) {
      ln_grad_->gamma[c] += part[c];
      ln_grad_->beta[c] += part[D + c];
    }
  }
}

void RelativeAttention::KernelBackward() {
  const int B = seqs_, H = h_, G = g_, S = s_, M = m_, T = t_, N = n_, Dh = dh_,
            Q = q_dim_, R = num_rel_, RR = rel_rows_count_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const bool dropout = dropout_active_;
  const bool broken = shape_.broken_position_gradient;
  const int nqb = (S + kB - 1) / kB;
  const int kt_stride = kt_stride_, rel_stride = rel_stride_;
  const float* own_kt = keys_t_.data();
  const float* own_vt = values_t_.data();
  const float* own_kh = heads_.data();
  const float* mem_kt = separate_used_ ? mem_keys_t_.data() : own_kt;
  const float* mem_vt = separate_used_ ? mem_values_t_.data() : own_vt;
  const float* mem_kh = separate_used_ ? mem_heads_.data() : own_kh;
  float* d_q = d_q_.data();
  float* d_k = d_k_.data();
  float* d_v = d_v_.data();
  float* d_km = d_km_.data();
  float* d_vm = d_vm_.data();
  const float* d_o = d_o_.data();
  // Every thread's partial sums start at zero (also those of threads the
  // runtime may not start).
  for (int t = 0; t < threads; ++t) {
    ThreadScratch w(threads_.data() + t * thread_floats_, Dh, max_bd_tiles_, T,
                    Q, H, RR, d_);
    std::memset(w.du, 0, sizeof(float) * Q);
    std::memset(w.dvb, 0, sizeof(float) * Q);
    std::memset(w.dr, 0, sizeof(float) * H * RR * Dh);
  }
#pragma omp parallel num_threads(threads)
  {
    ThreadScratch w(threads_.data() + omp_get_thread_num() * thread_floats_, Dh,
                    max_bd_tiles_, T, Q, H, RR, d_);
    // One (b, h) per task: a key receives gradient from the query blocks of
    // its own segment and of the later segments whose memory holds it.
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < H; ++h) {
        const int64_t head = static_cast<int64_t>(b) * H + h;
        const uint8_t* mask = key_mask_ + static_cast<int64_t>(b) * N;
        const uint64_t head_seed = DeriveSeed(seed_, head);
        const int64_t seq_row = static_cast<int64_t>(b) * N;
        for (int p = 0; p < N; ++p) {
          std::memset(d_km + (seq_row + p) * Q + h * Dh, 0, sizeof(float) * Dh);
          std::memset(d_vm + (seq_row + p) * Q + h * Dh, 0, sizeof(float) * Dh);
        }
        const float* rt = rel_t_.data() + h * Dh * rel_stride;
        const float* rrows =
            rel_rows_.data() + static_cast<int64_t>(h) * RR * Dh;
        float* dr = w.dr + static_cast<int64_t>(h) * RR * Dh;
        for (int g = 0; g < G; ++g) {
          const Window win(g, S, M);
          std::memset(w.dk, 0, sizeof(float) * T * Dh);
          std::memset(w.dv, 0, sizeof(float) * T * Dh);
          for (int ib = 0; ib < nqb; ++ib) {
            const int i0 = ib * kB;
            const int rows = std::min(kB, S - i0);
            const int p0 = win.gs + i0;
            float* dqu = w.acc;
            for (int r = 0; r < rows; ++r) {
              const int64_t off = (seq_row + p0 + r) * Q + h * Dh;
              const float* qi = q_.data() + off;
              const float* oi = o_.data() + off;
              const float* doi = d_o + off;
              // The copies vectorise; the sum keeps its sequential order.
#pragma omp simd
              for (int x = 0; x < Dh; ++x) {
                w.qu[r * Dh + x] = qi[x] + w_.u[h * Dh + x];
                w.qv[r * Dh + x] = qi[x] + w_.v[h * Dh + x];
                w.dob[r * Dh + x] = doi[x];
              }
              float d = 0.0f;
              for (int x = 0; x < Dh; ++x) d += doi[x] * oi[x];
              // D_i = rowsum(dO_i * O_i) = rowsum(P_i * dP_i).
              w.dd[r] = d;
            }
            const float* lse = lse_.data() + head * N + p0;
            const int base = S - 1 - (i0 + rows - 1) + win.jw_start;
            const int width = rows - 1 + T - win.jw_start;
            const int tiles = (width + kB - 1) / kB;
            for (int ct = 0; ct < tiles; ++ct) {
              ScoreTile(w.qv, rows, Dh, rt + base + ct * kB, rel_stride, scale_,
                        nullptr, w.bd + ct * kTile);
            }
            std::memset(w.dbd, 0, sizeof(float) * tiles * kTile);
            std::memset(dqu, 0, sizeof(float) * rows * Dh);
            std::memset(w.dqv, 0, sizeof(float) * rows * Dh);
            ForEachKeyTile(win, [&](int j0, int cols, bool memory) {
              if (!TileBias(mask, j0, cols, w.bias)) return;
              const int64_t kt_off = head * Dh * kt_stride + j0;
              const float* kt = (memory ? mem_kt : own_kt) + kt_off;
              const float* vt = (memory ? mem_vt : own_vt) + kt_off;
              const float* kh = (memory ? mem_kh : own_kh) + head * N * Dh +
                                static_cast<int64_t>(j0) * Dh;
              const int jw0 = j0 - win.ws;
              // P = exp(S - lse): the forward's probabilities before dropout.
              ScoreTile(w.qu, rows, Dh, kt, kt_stride, scale_, w.bias, w.s);
              for (int r = 0; r < rows; ++r) {
                AddShifted(w.bd, r, rows - 1 - r + jw0 - win.jw_start, cols,
                           w.s + r * kB);
                ExpShiftRow(w.s + r * kB, lse[r]);
              }
              // dP [rows, kB] = dO V^T.
              ScoreTile(w.dob, rows, Dh, vt, kt_stride, 1.0f, nullptr, w.ds);
              const float* p_used = w.s;
              if (dropout) {
                // Pd = P * mask / (1 - rate) fed V; dP flows back through
                // the same mask.
                std::memcpy(w.pd, w.s, sizeof(float) * rows * kB);
                DropoutTile(head_seed, threshold, keep_scale, p0, jw0, rows, kB,
                            T, w.pd);
                for (int r = 0; r < rows; ++r) {
                  const uint64_t idx = static_cast<uint64_t>(p0 + r) * T + jw0;
                  for (int c = 0; c < kB; ++c) {
                    w.ds[r * kB + c] *=
                        KeepElement(head_seed, idx + c, threshold) ? keep_scale
                                                                   : 0.0f;
                  }
                }
                p_used = w.pd;
              }
              // dV [cols, Dh] += Pd^T dO.
              AccumulateTile(p_used, 1, kB, cols, rows, w.dob, Dh,
                             w.dv + static_cast<int64_t>(jw0) * Dh);
              // dS = P * (dP - D) / sqrt(Dh).
              for (int r = 0; r < rows; ++r) {
                SoftmaxGradRow(w.s + r * kB, w.dd[r], scale_, w.ds + r * kB);
              }
              // Content term: dK += dS^T (q + u); d(q + u) += dS K.
              AccumulateTile(w.ds, 1, kB, cols, rows, w.qu, Dh,
                             w.dk + static_cast<int64_t>(jw0) * Dh);
              AccumulateTile(w.ds, kB, 1, rows, cols, kh, Dh, dqu);
              // Position term: dS shifted back into the block's distances.
              for (int r = 0; r < rows; ++r) {
                ScatterShifted(w.ds + r * kB, r,
                               rows - 1 - r + jw0 - win.jw_start, cols, w.dbd);
              }
            });
            // d(q + v) += dBD R; dR += dBD^T (q + v), per 64 distances.
            for (int ct = 0; ct < tiles; ++ct) {
              const int64_t r0 = base + ct * kB;
              AccumulateTile(w.dbd + ct * kTile, kB, 1, rows, kB,
                             rrows + r0 * Dh, Dh, w.dqv);
              AccumulateTile(w.dbd + ct * kTile, 1, kB, kB, rows, w.qv, Dh,
                             dr + r0 * Dh);
            }
            for (int r = 0; r < rows; ++r) {
              float* dqi = d_q + (seq_row + p0 + r) * Q + h * Dh;
              const float* qa = dqu + r * Dh;
              const float* qc = w.dqv + r * Dh;
              float* du = w.du + h * Dh;
              float* dvb = w.dvb + h * Dh;
              if (broken) {
                std::memcpy(dqi, qa, sizeof(float) * Dh);
              } else {
#pragma omp simd
                for (int x = 0; x < Dh; ++x) dqi[x] = qa[x] + qc[x];
              }
#pragma omp simd
              for (int x = 0; x < Dh; ++x) {
                du[x] += qa[x];
                dvb[x] += qc[x];
              }
            }
          }
          // The segment's own keys are complete; memory keys add up over
          // the later segments that read them.
          for (int jw = win.jw_start; jw < T; ++jw) {
            const int64_t off = (seq_row + win.ws + jw) * Q + h * Dh;
            const float* dk = w.dk + static_cast<int64_t>(jw) * Dh;
            const float* dv = w.dv + static_cast<int64_t>(jw) * Dh;
            if (jw >= M) {
              std::memcpy(d_k + off, dk, sizeof(float) * Dh);
              std::memcpy(d_v + off, dv, sizeof(float) * Dh);
            } else {
#pragma omp simd
              for (int x = 0; x < Dh; ++x) {
                d_km[off + x] += dk[x];
                d_vm[off + x] += dv[x];
              }
            }
          }
        }
      }
    }
  }
  // Sum the threads' shares of the shared parameters.
  float* d_rk = d_rk_.data();
  std::memset(d_rk, 0, sizeof(float) * R * Q);
  for (int t = 0; t < threads; ++t) {
    ThreadScratch w(threads_.data() + t * thread_floats_, Dh, max_bd_tiles_, T,
                    Q, H, RR, d_);
    for (int h = 0; h < H; ++h) {
      const float* dr = w.dr + static_cast<int64_t>(h) * RR * Dh;
      for (int r = 0; r < R; ++r) {
        for (int x = 0; x < Dh; ++x) {
          d_rk[static_cast<int64_t>(r) * Q + h * Dh + x] +=
              dr[static_cast<int64_t>(r) * Dh + x];
        }
      }
    }
    for (int c = 0; c < Q; ++c) {
      grad_.u[c] += w.du[c];
      grad_.v[c] += w.dvb[c];
    }
  }
}

}  // namespace lra
