#include "models/attention/linformer/linformer_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

float Dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
  for (int x = 0; x < n; ++x) sum += a[x] * b[x];
  return sum;
}

// y += a * x over n entries.
void Axpy(float a, const float* x, float* y, int n) {
  for (int t = 0; t < n; ++t) y[t] += a * x[t];
}

bool Real(const uint8_t* key_mask, int b, int N, int j) {
  return key_mask == nullptr || key_mask[int64_t(b) * N + j] != 0;
}

// P = M (m * X): rows of x [N, Dh] where the mask is set, mixed by the
// projection M [k, N] into p [k, Dh].
void Project(const float* m, const float* x, const uint8_t* key_mask, int b,
             int k_rows, int N, int Dh, float* p) {
  std::fill(p, p + int64_t(k_rows) * Dh, 0.0f);
  for (int r = 0; r < k_rows; ++r) {
    float* pr = p + int64_t(r) * Dh;
    const float* mr = m + int64_t(r) * N;
    for (int j = 0; j < N; ++j) {
      if (!Real(key_mask, b, N, j) || mr[j] == 0.0f) continue;
      Axpy(mr[j], x + int64_t(j) * Dh, pr, Dh);
    }
  }
}

// dx_j = m_j sum_r M[r, j] dp_r: the gradient of the rows of x from that of
// p = M (m * X); dx [N, Dh] is overwritten.
void ProjectBackward(const float* m, const float* dp, const uint8_t* key_mask,
                     int b, int k_rows, int N, int Dh, float* dx) {
  for (int j = 0; j < N; ++j) {
    float* dxj = dx + int64_t(j) * Dh;
    std::fill(dxj, dxj + Dh, 0.0f);
    if (!Real(key_mask, b, N, j)) continue;
    for (int r = 0; r < k_rows; ++r) {
      Axpy(m[int64_t(r) * N + j], dp + int64_t(r) * Dh, dxj, Dh);
    }
  }
}

}  // namespace

LinformerAttention::LinformerAttention(const AttentionShape& shape,
                                       int projected_len, bool share_kv)
    : shape_(shape),
      k_rows_(projected_len),
      share_kv_(share_kv),
      scale_(1.0f / std::sqrt(static_cast<float>(shape.head_dim))),
      e_({projected_len, shape.seq_len}),
      e_grad_({projected_len, shape.seq_len}),
      kp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      vp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      weights_(
          {shape.max_batch, shape.num_heads, shape.seq_len, projected_len}),
      dkp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      dvp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}) {
  if (!share_kv_) {
    f_ = Tensor({projected_len, shape.seq_len});
    f_grad_ = Tensor({projected_len, shape.seq_len});
  }
}

float LinformerAttention::DropoutFactor(int bh, int i, int r) const {
  if (!dropout_active_) return 1.0f;
  const float rate = shape_.attention_dropout;
  const bool keep =
      KeepElement(DeriveSeed(seed_, static_cast<uint64_t>(bh)),
                  static_cast<uint64_t>(i) * k_rows_ + r, DropThreshold(rate));
  return keep ? 1.0f / (1.0f - rate) : 0.0f;
}

void LinformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int K = k_rows_;
  q_ = in.q;
  k_ = in.k;
  v_ = in.v;
  key_mask_ = in.key_mask;
  batch_ = in.batch;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  seed_ = in.seed;
  const float* f = share_kv_ ? e_.data() : f_.data();
  // Each (example, head) pair is independent: threads never share a write.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch_ * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;      // start of [b, h] in q/k/v
    float* kp = kp_.data() + int64_t(bh) * K * Dh;  // [k, Dh]
    float* vp = vp_.data() + int64_t(bh) * K * Dh;  // [k, Dh]
    Project(e_.data(), k_ + base, key_mask_, b, K, N, Dh, kp);
    Project(f, v_ + base, key_mask_, b, K, N, Dh, vp);
    for (int i = 0; i < N; ++i) {
      float* w = weights_.data() + (int64_t(bh) * N + i) * K;  // [k]
      const float* qi = q_ + base + int64_t(i) * Dh;
      float max_score = -std::numeric_limits<float>::infinity();
      for (int r = 0; r < K; ++r) {
        w[r] = scale_ * Dot(qi, kp + int64_t(r) * Dh, Dh);
        max_score = std::max(max_score, w[r]);
      }
      float sum = 0.0f;
      for (int r = 0; r < K; ++r) {
        w[r] = std::exp(w[r] - max_score);
        sum += w[r];
      }
      float* o = out + base + int64_t(i) * Dh;
      std::fill(o, o + Dh, 0.0f);
      for (int r = 0; r < K; ++r) {
        w[r] /= sum;
        const float p = w[r] * DropoutFactor(bh, i, r);
        if (p != 0.0f) Axpy(p, vp + int64_t(r) * Dh, o, Dh);
      }
    }
  }
}

void LinformerAttention::Backward(const float* dout,
                                  const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int K = k_rows_;
  const float* f = share_kv_ ? e_.data() : f_.data();
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch_ * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* kp = kp_.data() + int64_t(bh) * K * Dh;  // [k, Dh]
    const float* vp = vp_.data() + int64_t(bh) * K * Dh;  // [k, Dh]
    float* dkp = dkp_.data() + int64_t(bh) * K * Dh;      // [k, Dh]
    float* dvp = dvp_.data() + int64_t(bh) * K * Dh;      // [k, Dh]
    std::fill(dkp, dkp + int64_t(K) * Dh, 0.0f);
    std::fill(dvp, dvp + int64_t(K) * Dh, 0.0f);
    for (int i = 0; i < N; ++i) {
      const float* w = weights_.data() + (int64_t(bh) * N + i) * K;
      const float* g = dout + base + int64_t(i) * Dh;
      const float* qi = q_ + base + int64_t(i) * Dh;
      float* dqi = grads.dq + base + int64_t(i) * Dh;
      std::fill(dqi, dqi + Dh, 0.0f);
      // out_i = sum_r w_r d_r vp_r: dvp_r += w_r d_r g, d(w_r) = d_r g.vp_r,
      // and the softmax gives d(score_r) = w_r (d(w_r) - sum_l w_l d(w_l)).
      float weighted = 0.0f;
      for (int r = 0; r < K; ++r) {
        const float wd = w[r] * DropoutFactor(bh, i, r);
        if (wd == 0.0f) continue;
        Axpy(wd, g, dvp + int64_t(r) * Dh, Dh);
        weighted += wd * Dot(g, vp + int64_t(r) * Dh, Dh);
      }
      for (int r = 0; r < K; ++r) {
        const float dw =
            DropoutFactor(bh, i, r) * Dot(g, vp + int64_t(r) * Dh, Dh);
        const float dscore = scale_ * w[r] * (dw - weighted);
        if (dscore == 0.0f) continue;
        Axpy(dscore, kp + int64_t(r) * Dh, dqi, Dh);
        Axpy(dscore, qi, dkp + int64_t(r) * Dh, Dh);
      }
    }
    ProjectBackward(e_.data(), dkp, key_mask_, b, K, N, Dh, grads.dk + base);
    ProjectBackward(f, dvp, key_mask_, b, K, N, Dh, grads.dv + base);
  }
  // d(loss)/dE[r, j] = sum over (b, h) of m_j dkp_r . k_j (plus dvp_r . v_j
  // when E also projects the values), summed in a fixed order so that the
  // result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int64_t rj = 0; rj < int64_t(K) * N; ++rj) {
    const int r = rj / N, j = rj % N;
    float ge = 0.0f, gf = 0.0f;
    for (int bh = 0; bh < batch_ * H; ++bh) {
      if (!Real(key_mask_, bh / H, N, j)) continue;
      const int64_t row = (int64_t(bh) * N + j) * Dh;
      const int64_t proj = (int64_t(bh) * K + r) * Dh;
      ge += Dot(dkp_.data() + proj, k_ + row, Dh);
      gf += Dot(dvp_.data() + proj, v_ + row, Dh);
    }
    if (share_kv_) {
      e_grad_[rj] += ge + gf;
    } else {
      e_grad_[rj] += ge;
      f_grad_[rj] += gf;
    }
  }
}

void LinformerAttention::ForEachParameter(const ParameterVisitor& fn) {
  fn("e", e_, e_grad_);
  if (!share_kv_) fn("f", f_, f_grad_);
}

void LinformerAttention::InitParameters(uint64_t seed) {
  // Normal with standard deviation 1/sqrt(N) (LeCun normal for a dense layer
  // over the sequence axis, fan-in N), so a projected row has the magnitude
  // of one key.
  const double stddev = 1.0 / std::sqrt(static_cast<double>(shape_.seq_len));
  const uint64_t e_seed = DeriveSeed(seed, 1), f_seed = DeriveSeed(seed, 2);
  for (int64_t t = 0; t < e_.size(); ++t) {
    e_[t] = static_cast<float>(stddev * NormalDouble(e_seed, t));
  }
  for (int64_t t = 0; t < f_.size(); ++t) {
    f_[t] = static_cast<float>(stddev * NormalDouble(f_seed, t));
  }
}

AttentionPlugin LinformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "linformer";
  plugin.description =
      "softmax attention over keys and values projected along the sequence "
      "to k rows by learnable [k, N] matrices (Linformer)";
  plugin.params = {
      PluginParamSpec::Number("k", 16,
                              "projected length: rows of E and F (a whole "
                              "number >= 1; LRA: 16)"),
      PluginParamSpec::Flag("share_kv", true,
                            "one projection E for keys and values (LRA's "
                            "code); false = separate E and F (the paper)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.learnable = true;
  plugin.capabilities.complexity = "O(N k)";
  plugin.capabilities.length_dependent_parameters = true;
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(const double k, params.Number("k"));
    ASSIGN_OR_RETURN(const bool share_kv, params.Flag("share_kv"));
    if (!(k >= 1 && k <= 65536 && k == std::floor(k))) {
      return absl::InvalidArgumentError(
          absl::StrCat("model.attention.param 'k' of attention 'linformer' is ",
                       k, "; allowed: a whole number from 1 to 65536"));
    }
    if (shape.max_batch < 1 || shape.num_heads < 1 || shape.seq_len < 1 ||
        shape.head_dim < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention 'linformer': batch, heads, seq_len and head_dim must be "
          ">= 1; got ",
          shape.max_batch, ", ", shape.num_heads, ", ", shape.seq_len, ", ",
          shape.head_dim));
    }
    if (!(shape.attention_dropout >= 0.0f && shape.attention_dropout < 1.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attention 'linformer': attention dropout ",
                       shape.attention_dropout, "; allowed: [0, 1)"));
    }
    return std::unique_ptr<Attention>(std::make_unique<LinformerAttention>(
        shape, static_cast<int>(k), share_kv));
  };
  // The LRA setting, the paper's separate projections with k below the test
  // lengths, and k = 1 (every query sees one mixed key).
  plugin.test_cases = {
      {"k 16, shared", {}},
      {"k 5, separate E and F",
       {NumberParam("k", 5), FlagParam("share_kv", false)}},
      {"k 1", {NumberParam("k", 1)}},
  };
  return plugin;
}

}  // namespace lra
