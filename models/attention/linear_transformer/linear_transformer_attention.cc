#include "models/attention/linear_transformer/linear_transformer_attention.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// phi(x) = elu(x) + 1 > 0, and its derivative.
float Feature(float x) { return x > 0.0f ? x + 1.0f : std::exp(x); }
float FeatureDerivative(float x) { return x > 0.0f ? 1.0f : std::exp(x); }

void Features(const float* x, int n, float* f) {
  for (int a = 0; a < n; ++a) f[a] = Feature(x[a]);
}

}  // namespace

LinearTransformerAttention::LinearTransformerAttention(
    const AttentionShape& shape, bool causal, float eps)
    : shape_(shape),
      causal_(causal),
      eps_(eps),
      denominator_({shape.max_batch, shape.num_heads, shape.seq_len}),
      d_numerator_(
          {shape.max_batch, shape.num_heads, shape.seq_len, shape.head_dim}),
      d_denominator_({shape.max_batch, shape.num_heads, shape.seq_len}),
      state_(
          {shape.max_batch, shape.num_heads, shape.head_dim, shape.head_dim}),
      state_sum_({shape.max_batch, shape.num_heads, shape.head_dim}),
      features_({shape.max_batch, shape.num_heads, shape.head_dim}) {}

void LinearTransformerAttention::Forward(const AttentionInputs& in,
                                         float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  q_ = in.q;
  k_ = in.k;
  v_ = in.v;
  key_mask_ = in.key_mask;
  batch_ = in.batch;
  const float *q = in.q, *k = in.k, *v = in.v;
  const uint8_t* key_mask = in.key_mask;
  // (example, head) pairs are independent: no shared writes, and the result
  // does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    float* S = state_.data() + int64_t(bh) * Dh * Dh;    // [Dh, Dh]
    float* z = state_sum_.data() + int64_t(bh) * Dh;     // [Dh]
    float* f = features_.data() + int64_t(bh) * Dh;      // [Dh]
    float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    std::fill(S, S + Dh * Dh, 0.0f);
    std::fill(z, z + Dh, 0.0f);
    // Adds key j to S and z; padded keys contribute nothing.
    auto add_key = [&](int j) {
      if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) return;
      Features(k + base + int64_t(j) * Dh, Dh, f);
      const float* vj = v + base + int64_t(j) * Dh;
      for (int a = 0; a < Dh; ++a) {
        z[a] += f[a];
        for (int c = 0; c < Dh; ++c) S[a * Dh + c] += f[a] * vj[c];
      }
    };
    if (!causal_) {
      for (int j = 0; j < N; ++j) add_key(j);
    }
    for (int i = 0; i < N; ++i) {
      if (causal_) add_key(i);
      Features(q + base + int64_t(i) * Dh, Dh, f);
      float* o = out + base + int64_t(i) * Dh;
      std::fill(o, o + Dh, 0.0f);
      float d = eps_;
      for (int a = 0; a < Dh; ++a) {
        d += f[a] * z[a];
        for (int c = 0; c < Dh; ++c) o[c] += f[a] * S[a * Dh + c];
      }
      den[i] = d;
      for (int c = 0; c < Dh; ++c) o[c] /= d;
    }
  }
}

void LinearTransformerAttention::Backward(const float* dout,
                                          const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const float *q = q_, *k = k_, *v = v_;
  const uint8_t* key_mask = key_mask_;
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch_ * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    float* S = state_.data() + int64_t(bh) * Dh * Dh;          // [Dh, Dh]
    float* z = state_sum_.data() + int64_t(bh) * Dh;           // [Dh]
    float* f = features_.data() + int64_t(bh) * Dh;            // [Dh]
    const float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    float* dnum = d_numerator_.data() + base;                  // [N, Dh]
    float* dden = d_denominator_.data() + int64_t(bh) * N;     // [N]
    auto real = [&](int j) {
      return key_mask == nullptr || key_mask[int64_t(b) * N + j] != 0;
    };
    // Pass 1, queries in order, with S and z rebuilt as in Forward:
    // out_i = num_i / den_i gives d(num_i) = g / den_i and
    // d(den_i) = -g . num_i / den_i^2; then
    // d(phi(q_i)) = S d(num_i) + z d(den_i).
    std::fill(S, S + Dh * Dh, 0.0f);
    std::fill(z, z + Dh, 0.0f);
    auto add_key = [&](int j) {
      if (!real(j)) return;
      Features(k + base + int64_t(j) * Dh, Dh, f);
      const float* vj = v + base + int64_t(j) * Dh;
      for (int a = 0; a < Dh; ++a) {
        z[a] += f[a];
        for (int c = 0; c < Dh; ++c) S[a * Dh + c] += f[a] * vj[c];
      }
    };
    if (!causal_) {
      for (int j = 0; j < N; ++j) add_key(j);
    }
    for (int i = 0; i < N; ++i) {
      if (causal_) add_key(i);
      const float* qi = q + base + int64_t(i) * Dh;
      const float* g = dout + base + int64_t(i) * Dh;
      Features(qi, Dh, f);
      float g_dot_num = 0.0f;
      for (int c = 0; c < Dh; ++c) {
        float num = 0.0f;
        for (int a = 0; a < Dh; ++a) num += f[a] * S[a * Dh + c];
        g_dot_num += g[c] * num;
      }
      const float d = den[i];
      float* dn = dnum + int64_t(i) * Dh;
      for (int c = 0; c < Dh; ++c) dn[c] = g[c] / d;
      dden[i] = -g_dot_num / (d * d);
      float* dqi = dq + base + int64_t(i) * Dh;
      for (int a = 0; a < Dh; ++a) {
        float df = z[a] * dden[i];
        for (int c = 0; c < Dh; ++c) df += S[a * Dh + c] * dn[c];
        dqi[a] = df * FeatureDerivative(qi[a]);
      }
    }
    // Pass 2, keys: dS = sum_i phi(q_i) d(num_i)^T and dz = sum_i phi(q_i)
    // d(den_i) over the queries that see key j (all, or i >= j when causal,
    // as suffix sums); then d(phi(k_j)) = dS v_j + dz and dv_j = dS^T
    // phi(k_j). S and z now hold dS and dz.
    std::fill(S, S + Dh * Dh, 0.0f);
    std::fill(z, z + Dh, 0.0f);
    auto add_query = [&](int i) {
      Features(q + base + int64_t(i) * Dh, Dh, f);
      const float* dn = dnum + int64_t(i) * Dh;
      for (int a = 0; a < Dh; ++a) {
        z[a] += f[a] * dden[i];
        for (int c = 0; c < Dh; ++c) S[a * Dh + c] += f[a] * dn[c];
      }
    };
    if (!causal_) {
      for (int i = 0; i < N; ++i) add_query(i);
    }
    for (int j = N - 1; j >= 0; --j) {
      if (causal_) add_query(j);
      float* dkj = dk + base + int64_t(j) * Dh;
      float* dvj = dv + base + int64_t(j) * Dh;
      if (!real(j)) {
        std::fill(dkj, dkj + Dh, 0.0f);
        std::fill(dvj, dvj + Dh, 0.0f);
        continue;
      }
      const float* kj = k + base + int64_t(j) * Dh;
      const float* vj = v + base + int64_t(j) * Dh;
      Features(kj, Dh, f);
      std::fill(dvj, dvj + Dh, 0.0f);
      for (int a = 0; a < Dh; ++a) {
        float df = z[a];
        for (int c = 0; c < Dh; ++c) {
          df += S[a * Dh + c] * vj[c];
          dvj[c] += f[a] * S[a * Dh + c];
        }
        dkj[a] = df * FeatureDerivative(kj[a]);
      }
    }
  }
}

AttentionPlugin LinearTransformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "linear_transformer";
  plugin.description =
      "linear attention with the feature map elu(x) + 1 (Katharopoulos et "
      "al.); causal mode by prefix sums";
  plugin.params = {
      PluginParamSpec::Number("eps", 1e-6,
                              "added to the normaliser phi(q) . z (> 0)"),
      PluginParamSpec::Flag("causal", false,
                            "attend only to keys at or before the query"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = true;
  plugin.capabilities.complexity = "O(N Dh^2)";
  plugin.capabilities.exemptions = {
      {"DropoutApplied", AttentionExemption::Treatment::kSkip,
       "linear attention never forms attention weights, so there are none "
       "to drop; the plugin applies no attention dropout"},
  };
  // The defaults of AttentionTolerances hold: the normaliser is a sum of
  // positive features, far from zero for the suite's inputs.
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(const double eps, params.Number("eps"));
    ASSIGN_OR_RETURN(const bool causal, params.Flag("causal"));
    if (!(eps > 0 && eps <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'eps' of attention 'linear_transformer' is ",
          eps, "; allowed: a number in (0, 1]"));
    }
    if (shape.max_batch < 1 || shape.num_heads < 1 || shape.seq_len < 1 ||
        shape.head_dim < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention 'linear_transformer': batch, heads, seq_len and "
          "head_dim must be >= 1; got ",
          shape.max_batch, ", ", shape.num_heads, ", ", shape.seq_len, ", ",
          shape.head_dim));
    }
    return std::unique_ptr<Attention>(
        std::make_unique<LinearTransformerAttention>(shape, causal,
                                                     static_cast<float>(eps)));
  };
  return plugin;
}

}  // namespace lra
