#include "models/attention/performer/performer_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {

PerformerAttention::PerformerAttention(const AttentionShape& shape,
                                       Kernel kernel, int features,
                                       int redraw_interval)
    : shape_(shape),
      kernel_(kernel),
      features_(features),
      redraw_interval_(redraw_interval),
      data_scale_(kernel == Kernel::kSoftmax
                      ? 1.0f / std::sqrt(std::sqrt(float(shape.head_dim)))
                      : 1.0f),
      projection_({features, shape.head_dim}),
      gaussian_({shape.head_dim, shape.head_dim}),
      key_stabiliser_({shape.max_batch, shape.num_heads}),
      denominator_({shape.max_batch, shape.num_heads, shape.seq_len}),
      state_({shape.max_batch, shape.num_heads, features, shape.head_dim}),
      state_sum_({shape.max_batch, shape.num_heads, features}),
      d_state_({shape.max_batch, shape.num_heads, features, shape.head_dim}),
      d_state_sum_({shape.max_batch, shape.num_heads, features}),
      u_({shape.max_batch, shape.num_heads, features}),
      phi_({shape.max_batch, shape.num_heads, features}),
      d_phi_({shape.max_batch, shape.num_heads, features}),
      d_numerator_({shape.max_batch, shape.num_heads, shape.head_dim}) {
  DrawProjection(0);
}

void PerformerAttention::DrawProjection(int64_t epoch) {
  const int Dh = shape_.head_dim, M = features_;
  const uint64_t seed = DeriveSeed(
      DeriveSeed(DeriveSeed(shape_.seed, 0x9e4f0a11), shape_.layer_index),
      static_cast<uint64_t>(epoch));
  for (int start = 0, block = 0; start < M; start += Dh, ++block) {
    const uint64_t block_seed = DeriveSeed(seed, 2 * block);
    const uint64_t norm_seed = DeriveSeed(seed, 2 * block + 1);
    float* g = gaussian_.data();  // [Dh, Dh] rows made orthonormal
    for (int e = 0; e < Dh * Dh; ++e) g[e] = float(NormalDouble(block_seed, e));
    // Modified Gram-Schmidt, in double accumulators.
    for (int r = 0; r < Dh; ++r) {
      float* row = g + r * Dh;
      for (int p = 0; p < r; ++p) {
        const float* prev = g + p * Dh;
        double dot = 0;
        for (int x = 0; x < Dh; ++x) dot += double(row[x]) * prev[x];
        for (int x = 0; x < Dh; ++x) row[x] -= float(dot) * prev[x];
      }
      double norm = 0;
      for (int x = 0; x < Dh; ++x) norm += double(row[x]) * row[x];
      const float inv = float(1.0 / std::sqrt(norm));
      for (int x = 0; x < Dh; ++x) row[x] *= inv;
    }
    const int rows = std::min(Dh, M - start);
    for (int r = 0; r < rows; ++r) {
      // The length of a Gaussian vector: the rows are then marginally
      // Gaussian, as the unbiased softmax estimator needs.
      double length = 0;
      for (int x = 0; x < Dh; ++x) {
        const double n = NormalDouble(norm_seed, int64_t(r) * Dh + x);
        length += n * n;
      }
      length = std::sqrt(length);
      float* w = projection_.data() + int64_t(start + r) * Dh;
      for (int x = 0; x < Dh; ++x) w[x] = float(length) * g[r * Dh + x];
    }
  }
  epoch_ = epoch;
}

void PerformerAttention::SetStep(int64_t step) {
  if (redraw_interval_ <= 0) return;
  const int64_t epoch = std::max<int64_t>(step, 0) / redraw_interval_;
  if (epoch != epoch_) DrawProjection(epoch);
}

void PerformerAttention::SetProjection(const Tensor& projection) {
  std::copy_n(projection.data(), projection_.size(), projection_.data());
}

float PerformerAttention::MaxExponent(const float* x, float* u) const {
  const int Dh = shape_.head_dim;
  double sq = 0;
  for (int a = 0; a < Dh; ++a) sq += double(x[a]) * x[a];
  const float half_norm = float(0.5 * sq) * data_scale_ * data_scale_;
  float best = -std::numeric_limits<float>::infinity();
  for (int m = 0; m < features_; ++m) {
    const float* w = projection_.data() + int64_t(m) * Dh;
    float dot = 0;
    for (int a = 0; a < Dh; ++a) dot += w[a] * x[a];
    u[m] = dot * data_scale_;
    best = std::max(best, u[m] - half_norm);
  }
  return best;
}

void PerformerAttention::FeatureRow(const float* x, const float* stabiliser,
                                    float* u, float* phi) const {
  const int Dh = shape_.head_dim, M = features_;
  const float inv_sqrt_m = 1.0f / std::sqrt(float(M));
  if (kernel_ == Kernel::kRelu) {
    for (int m = 0; m < M; ++m) {
      const float* w = projection_.data() + int64_t(m) * Dh;
      float dot = 0;
      for (int a = 0; a < Dh; ++a) dot += w[a] * x[a];
      u[m] = dot;
      phi[m] = std::max(dot, 0.0f) * inv_sqrt_m + kReluEpsilon;
    }
    return;
  }
  // Softmax: phi_m = exp(w_m . x' - |x'|^2 / 2 - c) / sqrt(M), with c the
  // row's own max for a query and the max over all real keys for a key; c
  // scales numerator and denominator alike, so it cancels exactly.
  const float row_max = MaxExponent(x, u);
  double sq = 0;
  for (int a = 0; a < Dh; ++a) sq += double(x[a]) * x[a];
  const float half_norm = float(0.5 * sq) * data_scale_ * data_scale_;
  const float c = stabiliser != nullptr ? *stabiliser : row_max;
  for (int m = 0; m < M; ++m) {
    phi[m] = std::exp(u[m] - half_norm - c) * inv_sqrt_m;
  }
}

void PerformerAttention::FeatureRowBackward(const float* x, const float* u,
                                            const float* phi, const float* dphi,
                                            float* dx) const {
  const int Dh = shape_.head_dim, M = features_;
  std::fill(dx, dx + Dh, 0.0f);
  if (kernel_ == Kernel::kRelu) {
    const float inv_sqrt_m = 1.0f / std::sqrt(float(M));
    for (int m = 0; m < M; ++m) {
      if (!(u[m] > 0.0f)) continue;
      const float t = dphi[m] * inv_sqrt_m;
      const float* w = projection_.data() + int64_t(m) * Dh;
      for (int a = 0; a < Dh; ++a) dx[a] += t * w[a];
    }
    return;
  }
  // d(phi_m)/dx' = phi_m (w_m - x'); the stabiliser is held constant.
  float total = 0;
  for (int m = 0; m < M; ++m) {
    const float t = dphi[m] * phi[m];
    total += t;
    const float* w = projection_.data() + int64_t(m) * Dh;
    for (int a = 0; a < Dh; ++a) dx[a] += t * w[a];
  }
  const float s2 = data_scale_ * data_scale_;
  for (int a = 0; a < Dh; ++a) {
    dx[a] = dx[a] * data_scale_ - total * x[a] * s2;
  }
}

void PerformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int M = features_;
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
    float* S = state_.data() + int64_t(bh) * M * Dh;     // [M, Dh]
    float* z = state_sum_.data() + int64_t(bh) * M;      // [M]
    float* u = u_.data() + int64_t(bh) * M;              // [M]
    float* phi = phi_.data() + int64_t(bh) * M;          // [M]
    float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    float& stabiliser = key_stabiliser_[bh];
    auto real = [&](int j) {
      return key_mask == nullptr || key_mask[int64_t(b) * N + j] != 0;
    };
    stabiliser = 0.0f;
    if (kernel_ == Kernel::kSoftmax) {
      float best = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < N; ++j) {
        if (real(j)) best = std::max(best, MaxExponent(k + base + j * Dh, u));
      }
      if (std::isfinite(best)) stabiliser = best;
    }
    std::fill(S, S + int64_t(M) * Dh, 0.0f);
    std::fill(z, z + M, 0.0f);
    for (int j = 0; j < N; ++j) {
      if (!real(j)) continue;  // padded keys contribute nothing
      FeatureRow(k + base + int64_t(j) * Dh, &stabiliser, u, phi);
      const float* vj = v + base + int64_t(j) * Dh;
      for (int m = 0; m < M; ++m) {
        z[m] += phi[m];
        float* Sm = S + int64_t(m) * Dh;
        for (int c = 0; c < Dh; ++c) Sm[c] += phi[m] * vj[c];
      }
    }
    for (int i = 0; i < N; ++i) {
      FeatureRow(q + base + int64_t(i) * Dh, nullptr, u, phi);
      float* o = out + base + int64_t(i) * Dh;
      std::fill(o, o + Dh, 0.0f);
      float d = 0.0f;
      for (int m = 0; m < M; ++m) {
        d += phi[m] * z[m];
        const float* Sm = S + int64_t(m) * Dh;
        for (int c = 0; c < Dh; ++c) o[c] += phi[m] * Sm[c];
      }
      // No real key (or every feature underflowed): the row stays zero.
      if (!(d > 0.0f)) {
        den[i] = 0.0f;
        std::fill(o, o + Dh, 0.0f);
        continue;
      }
      den[i] = d;
      for (int c = 0; c < Dh; ++c) o[c] /= d;
    }
  }
}

void PerformerAttention::Backward(const float* dout,
                                  const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int M = features_;
  const float *q = q_, *k = k_, *v = v_;
  const uint8_t* key_mask = key_mask_;
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch_ * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* S = state_.data() + int64_t(bh) * M * Dh;     // [M, Dh]
    const float* z = state_sum_.data() + int64_t(bh) * M;      // [M]
    float* dS = d_state_.data() + int64_t(bh) * M * Dh;        // [M, Dh]
    float* dz = d_state_sum_.data() + int64_t(bh) * M;         // [M]
    float* u = u_.data() + int64_t(bh) * M;                    // [M]
    float* phi = phi_.data() + int64_t(bh) * M;                // [M]
    float* dphi = d_phi_.data() + int64_t(bh) * M;             // [M]
    float* dnum = d_numerator_.data() + int64_t(bh) * Dh;      // [Dh]
    const float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    const float stabiliser = key_stabiliser_[bh];
    std::fill(dS, dS + int64_t(M) * Dh, 0.0f);
    std::fill(dz, dz + M, 0.0f);
    // Queries: out_i = num_i / den_i gives d(num_i) = g / den_i and
    // d(den_i) = -g . num_i / den_i^2, so d(phi(q_i)) = S d(num_i) +
    // z d(den_i); meanwhile dS += phi(q_i) d(num_i)^T, dz += phi(q_i) d(den_i).
    for (int i = 0; i < N; ++i) {
      const float* qi = q + base + int64_t(i) * Dh;
      float* dqi = dq + base + int64_t(i) * Dh;
      if (!(den[i] > 0.0f)) {
        std::fill(dqi, dqi + Dh, 0.0f);
        continue;
      }
      FeatureRow(qi, nullptr, u, phi);
      const float* g = dout + base + int64_t(i) * Dh;
      float g_dot_num = 0.0f;
      std::fill(dnum, dnum + Dh, 0.0f);
      for (int m = 0; m < M; ++m) {
        const float* Sm = S + int64_t(m) * Dh;
        for (int c = 0; c < Dh; ++c) dnum[c] += phi[m] * Sm[c];  // num
      }
      for (int c = 0; c < Dh; ++c) g_dot_num += g[c] * dnum[c];
      const float d = den[i];
      const float dden = -g_dot_num / (d * d);
      for (int c = 0; c < Dh; ++c) dnum[c] = g[c] / d;
      for (int m = 0; m < M; ++m) {
        const float* Sm = S + int64_t(m) * Dh;
        float* dSm = dS + int64_t(m) * Dh;
        float t = z[m] * dden;
        for (int c = 0; c < Dh; ++c) {
          t += Sm[c] * dnum[c];
          dSm[c] += phi[m] * dnum[c];
        }
        dphi[m] = t;
        dz[m] += phi[m] * dden;
      }
      FeatureRowBackward(qi, u, phi, dphi, dqi);
    }
    // Keys: d(phi(k_j)) = dS v_j + dz, dv_j = dS^T phi(k_j).
    for (int j = 0; j < N; ++j) {
      float* dkj = dk + base + int64_t(j) * Dh;
      float* dvj = dv + base + int64_t(j) * Dh;
      if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) {
        std::fill(dkj, dkj + Dh, 0.0f);
        std::fill(dvj, dvj + Dh, 0.0f);
        continue;
      }
      const float* kj = k + base + int64_t(j) * Dh;
      const float* vj = v + base + int64_t(j) * Dh;
      FeatureRow(kj, &stabiliser, u, phi);
      std::fill(dvj, dvj + Dh, 0.0f);
      for (int m = 0; m < M; ++m) {
        const float* dSm = dS + int64_t(m) * Dh;
        float t = dz[m];
        for (int c = 0; c < Dh; ++c) {
          t += dSm[c] * vj[c];
          dvj[c] += phi[m] * dSm[c];
        }
        dphi[m] = t;
      }
      FeatureRowBackward(kj, u, phi, dphi, dkj);
    }
  }
}

AttentionPlugin PerformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "performer";
  plugin.description =
      "FAVOR+ (Performer): positive orthogonal random features for the "
      "softmax kernel, or the generalized ReLU kernel; features fixed or "
      "redrawn every K steps";
  plugin.params = {
      PluginParamSpec::Text("kernel", "relu",
                            "\"relu\" (generalized kernel, LRA) or "
                            "\"softmax\" (positive random features)"),
      PluginParamSpec::Number("features", 256, "random features M (>= 1)"),
      PluginParamSpec::Number(
          "redraw_interval", 0,
          "redraw the features every this many steps (0 = never)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.complexity = "O(N M Dh)";
  plugin.capabilities.redraws_structure = true;
  plugin.capabilities.exemptions = {
      {"DropoutApplied", AttentionExemption::Treatment::kSkip,
       "FAVOR+ never forms attention weights, so there are none to drop; the "
       "plugin applies no attention dropout"},
  };
  // Default tolerances: the relu kernel's kinks sit where w_m . x = 0 and a
  // central-difference step rarely crosses one; each feature weighs 1/M.
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(const std::string kernel, params.Text("kernel"));
    ASSIGN_OR_RETURN(const double features, params.Number("features"));
    ASSIGN_OR_RETURN(const double redraw, params.Number("redraw_interval"));
    if (kernel != "relu" && kernel != "softmax") {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'kernel' of attention 'performer' is \"",
          kernel, "\"; allowed: \"relu\", \"softmax\""));
    }
    if (!(features >= 1 && features <= 65536 &&
          features == std::floor(features))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'features' of attention 'performer' is ",
          features, "; allowed: a whole number from 1 to 65536"));
    }
    if (!(redraw >= 0 && redraw <= 1e9 && redraw == std::floor(redraw))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'redraw_interval' of attention 'performer' "
          "is ",
          redraw, "; allowed: a whole number from 0 (never) to 1e9"));
    }
    if (shape.max_batch < 1 || shape.num_heads < 1 || shape.seq_len < 1 ||
        shape.head_dim < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention 'performer': batch, heads, seq_len and head_dim must be "
          ">= 1; got ",
          shape.max_batch, ", ", shape.num_heads, ", ", shape.seq_len, ", ",
          shape.head_dim));
    }
    return std::unique_ptr<Attention>(std::make_unique<PerformerAttention>(
        shape,
        kernel == "softmax" ? PerformerAttention::Kernel::kSoftmax
                            : PerformerAttention::Kernel::kRelu,
        static_cast<int>(features), static_cast<int>(redraw)));
  };
  plugin.test_cases = {
      {"relu", {}},
      {"softmax 64",
       {TextParam("kernel", "softmax"), NumberParam("features", 64)}},
      {"softmax 20, redraw 3",
       {TextParam("kernel", "softmax"), NumberParam("features", 20),
        NumberParam("redraw_interval", 3)}},
  };
  return plugin;
}

}  // namespace lra
