#include "models/attention/linformer/linformer_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/attention/factory_checks.h"
#include "models/batched_matmul.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

bool Real(const uint8_t* key_mask, int b, int N, int j) {
  return key_mask == nullptr || key_mask[int64_t(b) * N + j] != 0;
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
      e_masked_({shape.max_batch, projected_len, shape.seq_len}),
      kp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      vp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      weights_(
          {shape.max_batch, shape.num_heads, shape.seq_len, projected_len}),
      d_weights_(
          {shape.max_batch, shape.num_heads, shape.seq_len, projected_len}),
      dkp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      dvp_({shape.max_batch, shape.num_heads, projected_len, shape.head_dim}),
      e_grad_parts_({shape.max_batch, projected_len, shape.seq_len}) {
  if (!share_kv_) {
    f_ = Tensor({projected_len, shape.seq_len});
    f_grad_ = Tensor({projected_len, shape.seq_len});
    f_masked_ = Tensor({shape.max_batch, projected_len, shape.seq_len});
    f_grad_parts_ = Tensor({shape.max_batch, projected_len, shape.seq_len});
  }
  if (shape.attention_dropout > 0.0f) {
    dropped_ = Tensor(
        {shape.max_batch, shape.num_heads, shape.seq_len, projected_len});
  }
}

float LinformerAttention::DropoutFactor(int bh, int i, int r) const {
  return HeadDropoutFactor(dropout_active_, in_.seed, static_cast<uint64_t>(bh),
                           static_cast<uint64_t>(i) * k_rows_ + r,
                           shape_.attention_dropout);
}

void LinformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int K = k_rows_;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  const int64_t KN = int64_t(K) * N;
  // E and F with padded columns zeroed, per example.
#pragma omp parallel for schedule(static)
  for (int b = 0; b < in_.batch; ++b) {
    for (int pass = 0; pass < (share_kv_ ? 1 : 2); ++pass) {
      const float* m = pass == 0 ? e_.data() : f_.data();
      float* masked = (pass == 0 ? e_masked_ : f_masked_).data() + b * KN;
      for (int r = 0; r < K; ++r) {
#pragma omp simd
        for (int j = 0; j < N; ++j) {
          masked[r * int64_t(N) + j] =
              Real(in_.key_mask, b, N, j) ? m[r * int64_t(N) + j] : 0.0f;
        }
      }
    }
  }
  // Each (example, head) pair is independent: threads never share a write.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;    // start of [b, h] in q/k/v
    const float* em = e_masked_.data() + b * KN;  // [k, N]
    const float* fm = share_kv_ ? em : f_masked_.data() + b * KN;  // [k, N]
    float* kp = kp_.data() + int64_t(bh) * K * Dh;                 // [k, Dh]
    float* vp = vp_.data() + int64_t(bh) * K * Dh;                 // [k, Dh]
    float* w = weights_.data() + int64_t(bh) * N * K;              // [N, k]
    Matmul(K, Dh, N, RowMajor(em, N), RowMajor(in_.k + base, Dh), kp, Dh,
           false);
    Matmul(K, Dh, N, RowMajor(fm, N), RowMajor(in_.v + base, Dh), vp, Dh,
           false);
    // Scores Q Kp^T / sqrt(Dh), then a softmax over the k projected keys.
    Matmul(N, K, Dh, RowMajor(in_.q + base, Dh), Transposed(kp, Dh), w, K,
           false, scale_);
    for (int i = 0; i < N; ++i) {
      float* wi = w + int64_t(i) * K;
      const float inv = 1.0f / ExpShifted(wi, K, RowMax(wi, K), 1.0f, wi);
#pragma omp simd
      for (int r = 0; r < K; ++r) wi[r] *= inv;
    }
    const float* p = w;
    if (dropout_active_) {
      float* pd = dropped_.data() + int64_t(bh) * N * K;  // [N, k]
      for (int i = 0; i < N; ++i) {
        for (int r = 0; r < K; ++r) {
          pd[int64_t(i) * K + r] =
              w[int64_t(i) * K + r] * DropoutFactor(bh, i, r);
        }
      }
      p = pd;
    }
    Matmul(N, Dh, K, RowMajor(p, K), RowMajor(vp, Dh), out + base, Dh, false);
  }
}

void LinformerAttention::Backward(const float* dout,
                                  const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int K = k_rows_;
  const int64_t KN = int64_t(K) * N;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* em = e_masked_.data() + b * KN;                   // [k, N]
    const float* fm = share_kv_ ? em : f_masked_.data() + b * KN;  // [k, N]
    const float* kp = kp_.data() + int64_t(bh) * K * Dh;           // [k, Dh]
    const float* vp = vp_.data() + int64_t(bh) * K * Dh;           // [k, Dh]
    const float* w = weights_.data() + int64_t(bh) * N * K;        // [N, k]
    const float* p =
        dropout_active_ ? dropped_.data() + int64_t(bh) * N * K : w;
    float* dw = d_weights_.data() + int64_t(bh) * N * K;  // [N, k]
    float* dkp = dkp_.data() + int64_t(bh) * K * Dh;      // [k, Dh]
    float* dvp = dvp_.data() + int64_t(bh) * K * Dh;      // [k, Dh]
    const float* g = dout + base;                         // [N, Dh]
    // out = P' Vp with P' the weights after dropout: dVp = P'^T G and
    // d(P') = G Vp^T; the softmax gives d(score) = P (dP - sum_l P_l dP_l).
    Matmul(K, Dh, N, Transposed(p, K), RowMajor(g, Dh), dvp, Dh, false);
    Matmul(N, K, Dh, RowMajor(g, Dh), Transposed(vp, Dh), dw, K, false);
    for (int i = 0; i < N; ++i) {
      const float* wi = w + int64_t(i) * K;
      float* di = dw + int64_t(i) * K;
      if (dropout_active_) {
        for (int r = 0; r < K; ++r) di[r] *= DropoutFactor(bh, i, r);
      }
      float weighted = 0.0f;
#pragma omp simd reduction(+ : weighted)
      for (int r = 0; r < K; ++r) weighted += wi[r] * di[r];
#pragma omp simd
      for (int r = 0; r < K; ++r) di[r] = scale_ * wi[r] * (di[r] - weighted);
    }
    Matmul(N, Dh, K, RowMajor(dw, K), RowMajor(kp, Dh), grads.dq + base, Dh,
           false);
    Matmul(K, Dh, N, Transposed(dw, K), RowMajor(in_.q + base, Dh), dkp, Dh,
           false);
    // Kp = (m E) K: dK = (m E)^T dKp, zero at padded keys; likewise dV.
    Matmul(N, Dh, K, Transposed(em, N), RowMajor(dkp, Dh), grads.dk + base, Dh,
           false);
    Matmul(N, Dh, K, Transposed(fm, N), RowMajor(dvp, Dh), grads.dv + base, Dh,
           false);
  }
  // d(loss)/dE[r, j] = sum over (b, h) of m_j dkp_r . k_j (plus dvp_r . v_j
  // when E also projects the values): per example the products dKp K^T
  // summed over heads, then the examples in a fixed order, so that the
  // result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int b = 0; b < in_.batch; ++b) {
    float* ge = e_grad_parts_.data() + b * KN;                   // [k, N]
    float* gf = share_kv_ ? ge : f_grad_parts_.data() + b * KN;  // [k, N]
    for (int h = 0; h < H; ++h) {
      const int bh = b * H + h;
      const int64_t base = int64_t(bh) * N * Dh;
      const float* dkp = dkp_.data() + int64_t(bh) * K * Dh;
      const float* dvp = dvp_.data() + int64_t(bh) * K * Dh;
      Matmul(K, N, Dh, RowMajor(dkp, Dh), Transposed(in_.k + base, Dh), ge, N,
             /*accumulate=*/h > 0);
      Matmul(K, N, Dh, RowMajor(dvp, Dh), Transposed(in_.v + base, Dh), gf, N,
             /*accumulate=*/share_kv_ || h > 0);
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t rj = 0; rj < KN; ++rj) {
    const int j = rj % N;
    float ge = 0.0f, gf = 0.0f;
    for (int b = 0; b < in_.batch; ++b) {
      if (!Real(in_.key_mask, b, N, j)) continue;
      ge += e_grad_parts_[b * KN + rj];
      if (!share_kv_) gf += f_grad_parts_[b * KN + rj];
    }
    e_grad_[rj] += ge;
    if (!share_kv_) f_grad_[rj] += gf;
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
    ASSIGN_OR_RETURN(const int k,
                     WholeNumberParam(params, "linformer", "k", 1, 65536));
    ASSIGN_OR_RETURN(const bool share_kv, params.Flag("share_kv"));
    RETURN_IF_ERROR(CheckPositiveShape("linformer", shape));
    RETURN_IF_ERROR(CheckDropoutRate("linformer", shape));
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
