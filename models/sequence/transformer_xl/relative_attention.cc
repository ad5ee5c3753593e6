#include "models/sequence/transformer_xl/relative_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "models/layers.h"
#include "models/rng.h"

namespace lra {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline float Dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int x = 0; x < n; ++x) sum += a[x] * b[x];
  return sum;
}

// y [n] += alpha * x [n].
inline void Axpy(float alpha, const float* x, int n, float* y) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

RelativeAttention::RelativeAttention(const RelativeAttentionShape& shape,
                                     ScratchBuffers* scratch)
    : shape_(shape),
      s_(shape.seg_len),
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
      g_(shape.d_model, shape.qkv_dim),
      q_proj_(shape.d_model, shape.qkv_dim),
      k_proj_(shape.d_model, shape.qkv_dim),
      v_proj_(shape.d_model, shape.qkv_dim),
      r_proj_(shape.d_model, shape.qkv_dim),
      o_proj_(shape.qkv_dim, shape.d_model) {
  const int64_t B = shape.max_seqs, S = s_, M = m_, T = t_, D = d_, H = h_,
                Q = q_dim_, R = num_rel_;
  // Row r holds the distance M + S - 1 - r (query position minus key
  // position, both counted in the [memory | segment] frame), interleaved
  // sin / cos as in layers.h's table; negative distances are keys after the
  // query.
  rel_table_ = Tensor({R, D});
  for (int64_t r = 0; r < R; ++r) {
    const double dist = static_cast<double>(M + S - 1 - r);
    for (int64_t i = 0; 2 * i < D; ++i) {
      const double angle =
          dist / std::pow(10000.0, static_cast<double>(2 * i) / D);
      rel_table_[r * D + 2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < D) {
        rel_table_[r * D + 2 * i + 1] = static_cast<float>(std::cos(angle));
      }
    }
  }
  memory_ = Tensor({B, M, D});
  memory_mask_.assign(static_cast<size_t>(B * M), 0);
  mem_norm_ = Tensor({B, M, D});
  mem_mean_ = Tensor({B, M});
  mem_rstd_ = Tensor({B, M});
  cat_ = Tensor({B, T, D});
  key_mask_.assign(static_cast<size_t>(B * T), 0);
  q_ = Tensor({B, S, Q});
  k_ = Tensor({B, T, Q});
  v_ = Tensor({B, T, Q});
  rk_ = Tensor({R, Q});
  o_ = Tensor({B, S, Q});
  lse_ = Tensor({B, H, S});
  d_o_ = scratch->Reserve("txl.d_o", B * S * Q);
  d_q_ = scratch->Reserve("txl.d_q", B * S * Q);
  d_k_ = scratch->Reserve("txl.d_k", B * T * Q);
  d_v_ = scratch->Reserve("txl.d_v", B * T * Q);
  d_cat_ = scratch->Reserve("txl.d_cat", B * T * D);
  d_mem_norm_ =
      scratch->Reserve("txl.d_mem_norm", std::max<int64_t>(1, B * M * D));
  d_mem_discarded_ =
      scratch->Reserve("txl.d_mem_discarded", std::max<int64_t>(1, B * M * D));
  d_rk_ = scratch->Reserve("txl.d_rk", R * Q);
  rows_ = scratch->Reserve("txl.rows", num_threads_ * (2 * T + 2 * dh_));
}

void RelativeAttention::ForEachWeight(const WeightVisitor& fn) {
  fn("wq", w_.wq, g_.wq, {Init::kXavier});
  fn("wk", w_.wk, g_.wk, {Init::kXavier});
  fn("wv", w_.wv, g_.wv, {Init::kXavier});
  fn("wr", w_.wr, g_.wr, {Init::kXavier});
  // The global content and position biases (the paper's u and v).
  fn("u", w_.u, g_.u, {Init::kNormal, 1.0f, false});
  fn("v", w_.v, g_.v, {Init::kNormal, 1.0f, false});
  fn("wo", w_.wo, g_.wo, {Init::kXavier});
  fn("bo", w_.bo, g_.bo, {Init::kZero});
}

void RelativeAttention::Forward(const float* x, const MixerStep& step,
                                float* y) {
  const int B = step.seqs, S = s_, M = m_, T = t_, D = d_;
  x_ = x;
  seqs_ = B;
  dropout_active_ = step.training && shape_.attention_dropout > 0.0f;
  seed_ = step.seed;
  // cat [B', T, D] = [LN1(memory) | x]; keys [B', T] real where marked.
  if (M > 0) {
    LayerNormForward(memory_.data(), ln_->gamma.data(), ln_->beta.data(),
                     static_cast<int64_t>(B) * M, D, mem_norm_.data(),
                     mem_mean_.data(), mem_rstd_.data());
  }
  for (int b = 0; b < B; ++b) {
    float* row = cat_.data() + static_cast<int64_t>(b) * T * D;
    std::memcpy(row, mem_norm_.data() + static_cast<int64_t>(b) * M * D,
                sizeof(float) * M * D);
    std::memcpy(row + static_cast<int64_t>(M) * D,
                x + static_cast<int64_t>(b) * S * D, sizeof(float) * S * D);
    uint8_t* km = key_mask_.data() + static_cast<int64_t>(b) * T;
    std::memcpy(km, memory_mask_.data() + static_cast<int64_t>(b) * M, M);
    std::memcpy(km + M, step.key_mask + static_cast<int64_t>(b) * S, S);
  }
  q_proj_.Forward(x, w_.wq.data(), nullptr, q_.data(),
                  static_cast<int64_t>(B) * S);
  k_proj_.Forward(cat_.data(), w_.wk.data(), nullptr, k_.data(),
                  static_cast<int64_t>(B) * T);
  v_proj_.Forward(cat_.data(), w_.wv.data(), nullptr, v_.data(),
                  static_cast<int64_t>(B) * T);
  r_proj_.Forward(rel_table_.data(), w_.wr.data(), nullptr, rk_.data(),
                  num_rel_);
  KernelForward();
  o_proj_.Forward(o_.data(), w_.wo.data(), w_.bo.data(), y,
                  static_cast<int64_t>(B) * S);
}

void RelativeAttention::KernelForward() {
  const int B = seqs_, S = s_, T = t_, H = h_, Dh = dh_, Q = q_dim_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const bool dropout = dropout_active_;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      float* s = rows_.data() + omp_get_thread_num() * (2 * T + 2 * Dh);
      float* qu = s + 2 * T;
      float* qv = qu + Dh;
      const uint8_t* km = key_mask_.data() + static_cast<int64_t>(b) * T;
      const float* kb = k_.data() + static_cast<int64_t>(b) * T * Q + h * Dh;
      const float* vb = v_.data() + static_cast<int64_t>(b) * T * Q + h * Dh;
      const float* rb = rk_.data() + h * Dh;
      const uint64_t head_seed = DeriveSeed(seed_, b * H + h);
      for (int i = 0; i < S; ++i) {
        const float* qi = q_.data() + (static_cast<int64_t>(b) * S + i) * Q;
        for (int x = 0; x < Dh; ++x) {
          qu[x] = qi[h * Dh + x] + w_.u[h * Dh + x];
          qv[x] = qi[h * Dh + x] + w_.v[h * Dh + x];
        }
        float mx = kNegInf;
        for (int j = 0; j < T; ++j) {
          if (!km[j]) {
            s[j] = kNegInf;
            continue;
          }
          // Distance row S - 1 - i + j: distance (M + i) - j.
          const float* r = rb + static_cast<int64_t>(S - 1 - i + j) * Q;
          s[j] =
              (Dot(qu, kb + static_cast<int64_t>(j) * Q, Dh) + Dot(qv, r, Dh)) *
              scale_;
          mx = std::max(mx, s[j]);
        }
        float* oi = o_.data() + (static_cast<int64_t>(b) * S + i) * Q + h * Dh;
        float* lse = lse_.data() + (static_cast<int64_t>(b) * H + h) * S + i;
        std::memset(oi, 0, sizeof(float) * Dh);
        if (mx == kNegInf) {
          // No real key: the output is zero and so is every gradient.
          *lse = std::numeric_limits<float>::infinity();
          continue;
        }
        float sum = 0.0f;
        for (int j = 0; j < T; ++j) {
          s[j] = km[j] ? std::exp(s[j] - mx) : 0.0f;
          sum += s[j];
        }
        *lse = mx + std::log(sum);
        const float inv = 1.0f / sum;
        for (int j = 0; j < T; ++j) {
          if (s[j] == 0.0f) continue;
          float p = s[j] * inv;
          if (dropout) {
            p = KeepElement(head_seed, static_cast<uint64_t>(i) * T + j,
                            threshold)
                    ? p * keep_scale
                    : 0.0f;
          }
          Axpy(p, vb + static_cast<int64_t>(j) * Q, Dh, oi);
        }
      }
    }
  }
}

void RelativeAttention::Backward(const float* dy, float* dx) {
  const int B = seqs_, S = s_, M = m_, T = t_, D = d_, Q = q_dim_;
  const int64_t rows_s = static_cast<int64_t>(B) * S,
                rows_t = static_cast<int64_t>(B) * T;
  // y = o Wo + bo.
  o_proj_.BackwardParams(o_.data(), dy, g_.wo.data(), g_.bo.data(), rows_s);
  o_proj_.BackwardInput(dy, w_.wo.data(), d_o_.data(), rows_s, false);
  KernelBackward();
  // q = x Wq; k, v = cat Wk, cat Wv; rk = R Wr.
  q_proj_.BackwardParams(x_, d_q_.data(), g_.wq.data(), nullptr, rows_s);
  q_proj_.BackwardInput(d_q_.data(), w_.wq.data(), dx, rows_s, false);
  k_proj_.BackwardParams(cat_.data(), d_k_.data(), g_.wk.data(), nullptr,
                         rows_t);
  v_proj_.BackwardParams(cat_.data(), d_v_.data(), g_.wv.data(), nullptr,
                         rows_t);
  k_proj_.BackwardInput(d_k_.data(), w_.wk.data(), d_cat_.data(), rows_t,
                        false);
  v_proj_.BackwardInput(d_v_.data(), w_.wv.data(), d_cat_.data(), rows_t, true);
  r_proj_.BackwardParams(rel_table_.data(), d_rk_.data(), g_.wr.data(), nullptr,
                         num_rel_);
  // Split d(cat): the segment rows join dx, the memory rows reach LN1's
  // parameters and stop there (no gradient into the cache).
  float* d_mem_norm = d_mem_norm_.data();
  for (int b = 0; b < B; ++b) {
    const float* dc = d_cat_.data() + static_cast<int64_t>(b) * T * D;
    std::memcpy(d_mem_norm + static_cast<int64_t>(b) * M * D, dc,
                sizeof(float) * M * D);
    AddInPlace(dc + static_cast<int64_t>(M) * D, static_cast<int64_t>(S) * D,
               dx + static_cast<int64_t>(b) * S * D);
  }
  if (M > 0) {
    float* discarded = d_mem_discarded_.data();
    std::memset(discarded, 0, sizeof(float) * B * M * D);
    LayerNormBackward(d_mem_norm, memory_.data(), mem_mean_.data(),
                      mem_rstd_.data(), ln_->gamma.data(),
                      static_cast<int64_t>(B) * M, D, discarded,
                      ln_grad_->gamma.data(), ln_grad_->beta.data());
  }
}

void RelativeAttention::KernelBackward() {
  const int B = seqs_, S = s_, T = t_, H = h_, Dh = dh_, Q = q_dim_;
  const int threads = std::min(num_threads_, omp_get_max_threads());
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const bool dropout = dropout_active_;
  const bool broken = shape_.broken_position_gradient;
  float* d_rk = d_rk_.data();
  std::memset(d_rk, 0, sizeof(float) * num_rel_ * Q);
  // One head per task: the distance rows of d_rk and the bias gradients are
  // shared by every sequence and query of a head, so each task owns its
  // head's columns.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int h = 0; h < H; ++h) {
    float* p = rows_.data() + omp_get_thread_num() * (2 * T + 2 * Dh);
    float* dp = p + T;
    float* qu = dp + T;
    float* qv = qu + Dh;
    const float* u = w_.u.data() + h * Dh;
    const float* vbias = w_.v.data() + h * Dh;
    float* du = g_.u.data() + h * Dh;
    float* dvbias = g_.v.data() + h * Dh;
    const float* rb = rk_.data() + h * Dh;
    float* drb = d_rk + h * Dh;
    for (int b = 0; b < B; ++b) {
      const uint8_t* km = key_mask_.data() + static_cast<int64_t>(b) * T;
      const int64_t kt = static_cast<int64_t>(b) * T * Q + h * Dh;
      const float* kb = k_.data() + kt;
      const float* vb = v_.data() + kt;
      float* dkb = d_k_.data() + kt;
      float* dvb = d_v_.data() + kt;
      for (int j = 0; j < T; ++j) {
        std::memset(dkb + static_cast<int64_t>(j) * Q, 0, sizeof(float) * Dh);
        std::memset(dvb + static_cast<int64_t>(j) * Q, 0, sizeof(float) * Dh);
      }
      const uint64_t head_seed = DeriveSeed(seed_, b * H + h);
      for (int i = 0; i < S; ++i) {
        const int64_t qi_off = (static_cast<int64_t>(b) * S + i) * Q + h * Dh;
        const float* qi = q_.data() + qi_off;
        const float* doi = d_o_.data() + qi_off;
        float* dqi = d_q_.data() + qi_off;
        std::memset(dqi, 0, sizeof(float) * Dh);
        const float lse = lse_[(static_cast<int64_t>(b) * H + h) * S + i];
        if (std::isinf(lse)) continue;  // no real key: nothing flows
        for (int x = 0; x < Dh; ++x) {
          qu[x] = qi[x] + u[x];
          qv[x] = qi[x] + vbias[x];
        }
        // P recomputed; dP = dO V^T through the dropout mask; dV += Pd^T dO.
        float row_dot = 0.0f;
        for (int j = 0; j < T; ++j) {
          if (!km[j]) {
            p[j] = 0.0f;
            dp[j] = 0.0f;
            continue;
          }
          const float* r = rb + static_cast<int64_t>(S - 1 - i + j) * Q;
          const float sc =
              (Dot(qu, kb + static_cast<int64_t>(j) * Q, Dh) + Dot(qv, r, Dh)) *
              scale_;
          p[j] = std::exp(sc - lse);
          float f = 1.0f;
          if (dropout) {
            f = KeepElement(head_seed, static_cast<uint64_t>(i) * T + j,
                            threshold)
                    ? keep_scale
                    : 0.0f;
          }
          dp[j] = Dot(doi, vb + static_cast<int64_t>(j) * Q, Dh) * f;
          if (p[j] * f != 0.0f) {
            Axpy(p[j] * f, doi, Dh, dvb + static_cast<int64_t>(j) * Q);
          }
          row_dot += p[j] * dp[j];
        }
        // dS = P (dP - rowsum(P dP)) / sqrt(Dh), then into both terms.
        for (int j = 0; j < T; ++j) {
          if (!km[j]) continue;
          const float ds = p[j] * (dp[j] - row_dot) * scale_;
          if (ds == 0.0f) continue;
          const int64_t rrow = static_cast<int64_t>(S - 1 - i + j) * Q;
          const float* kj = kb + static_cast<int64_t>(j) * Q;
          Axpy(ds, kj, Dh, dqi);
          Axpy(ds, kj, Dh, du);
          if (!broken) Axpy(ds, rb + rrow, Dh, dqi);
          Axpy(ds, rb + rrow, Dh, dvbias);
          Axpy(ds, qu, Dh, dkb + static_cast<int64_t>(j) * Q);
          Axpy(ds, qv, Dh, drb + rrow);
        }
      }
    }
  }
}

}  // namespace lra
