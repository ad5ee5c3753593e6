#include "models/attention/performer/performer_attention.h"

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

// Feature rows per block: large enough that each product amortises its
// register tiles, small enough that a block's features stay in cache.
constexpr int kChunk = 128;

}  // namespace

PerformerAttention::PerformerAttention(const AttentionShape& shape,
                                       Kernel kernel, int features,
                                       int redraw_interval)
    : shape_(shape),
      kernel_(kernel),
      features_(features),
      redraw_interval_(redraw_interval),
      chunk_(std::min(kChunk, shape.seq_len)),
      data_scale_(kernel == Kernel::kSoftmax
                      ? 1.0f / std::sqrt(std::sqrt(float(shape.head_dim)))
                      : 1.0f),
      projection_({features, shape.head_dim}),
      projection_t_({shape.head_dim, features}),
      gaussian_({shape.head_dim, shape.head_dim}),
      key_stabiliser_({shape.max_batch, shape.num_heads}),
      denominator_({shape.max_batch, shape.num_heads, shape.seq_len}),
      output_(
          {shape.max_batch, shape.num_heads, shape.seq_len, shape.head_dim}),
      state_({shape.max_batch, shape.num_heads, features, shape.head_dim}),
      state_sum_({shape.max_batch, shape.num_heads, features}),
      d_state_({shape.max_batch, shape.num_heads, features, shape.head_dim}),
      d_state_sum_({shape.max_batch, shape.num_heads, features}),
      u_({shape.max_batch, shape.num_heads, chunk_, features}),
      phi_({shape.max_batch, shape.num_heads, chunk_, features}),
      d_phi_({shape.max_batch, shape.num_heads, chunk_, features}),
      d_numerator_({shape.max_batch, shape.num_heads, chunk_, shape.head_dim}),
      d_den_({shape.max_batch, shape.num_heads, chunk_}) {
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
  TransposeProjection();
  epoch_ = epoch;
}

void PerformerAttention::TransposeProjection() {
  const int Dh = shape_.head_dim, M = features_;
  for (int m = 0; m < M; ++m) {
    for (int a = 0; a < Dh; ++a) {
      projection_t_[int64_t(a) * M + m] = projection_[int64_t(m) * Dh + a];
    }
  }
}

void PerformerAttention::SetStep(int64_t step) {
  if (redraw_interval_ <= 0) return;
  const int64_t epoch = std::max<int64_t>(step, 0) / redraw_interval_;
  if (epoch != epoch_) DrawProjection(epoch);
}

void PerformerAttention::SetProjection(const Tensor& projection) {
  std::copy_n(projection.data(), projection_.size(), projection_.data());
  TransposeProjection();
}

void PerformerAttention::Exponents(const float* x, int rows, float* u) const {
  const int Dh = shape_.head_dim, M = features_;
  Matmul(rows, M, Dh, RowMajor(x, Dh), RowMajor(projection_t_.data(), M), u, M,
         /*accumulate=*/false);
  if (kernel_ == Kernel::kRelu) return;
  // u = s (W x) - s^2 |x|^2 / 2 with s = Dh^(-1/4).
  const float s = data_scale_;
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + int64_t(r) * Dh;
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int a = 0; a < Dh; ++a) sq += double(xr[a]) * xr[a];
    const float half_norm = float(0.5 * sq) * s * s;
    float* ur = u + int64_t(r) * M;
#pragma omp simd
    for (int m = 0; m < M; ++m) ur[m] = ur[m] * s - half_norm;
  }
}

void PerformerAttention::FeatureRow(const float* ur, float shift,
                                    float inv_sqrt_m, float* pr) const {
  const int M = features_;
  if (kernel_ == Kernel::kRelu) {
#pragma omp simd
    for (int m = 0; m < M; ++m) {
      pr[m] = (ur[m] > 0.0f ? ur[m] : 0.0f) * inv_sqrt_m + kReluEpsilon;
    }
    return;
  }
  ExpShifted(ur, M, shift, inv_sqrt_m, pr);
}

void PerformerAttention::QueryFeatures(const float* u, int rows,
                                       float* phi) const {
  const int M = features_;
  const float inv_sqrt_m = 1.0f / std::sqrt(float(M));
  for (int r = 0; r < rows; ++r) {
    const float* ur = u + int64_t(r) * M;
    // The row's own max: it scales numerator and denominator alike.
    const float shift = kernel_ == Kernel::kRelu ? 0.0f : RowMax(ur, M);
    FeatureRow(ur, shift, inv_sqrt_m, phi + int64_t(r) * M);
  }
}

void PerformerAttention::KeyFeatures(const float* u, int rows,
                                     const uint8_t* real, float c,
                                     float* phi) const {
  const int M = features_;
  const float inv_sqrt_m = 1.0f / std::sqrt(float(M));
  for (int r = 0; r < rows; ++r) {
    float* pr = phi + int64_t(r) * M;
    if (real != nullptr && !real[r]) {
      std::fill(pr, pr + M, 0.0f);  // padded keys contribute nothing
    } else {
      FeatureRow(u + int64_t(r) * M, c, inv_sqrt_m, pr);
    }
  }
}

void PerformerAttention::FeaturesBackward(const float* x, int rows,
                                          const float* u, const float* phi,
                                          float* dphi, float* dx) const {
  const int Dh = shape_.head_dim, M = features_;
  if (kernel_ == Kernel::kRelu) {
    // d(phi_m)/dx = w_m / sqrt(M) where W x > 0.
    const float inv_sqrt_m = 1.0f / std::sqrt(float(M));
#pragma omp simd
    for (int64_t e = 0; e < int64_t(rows) * M; ++e) {
      dphi[e] = u[e] > 0.0f ? dphi[e] * inv_sqrt_m : 0.0f;
    }
    Matmul(rows, Dh, M, RowMajor(dphi, M), RowMajor(projection_.data(), Dh), dx,
           Dh, /*accumulate=*/false);
    return;
  }
  // d(phi_m)/dx' = phi_m (w_m - x'), and dx = s dx'.
  const float s = data_scale_, s2 = s * s;
#pragma omp simd
  for (int64_t e = 0; e < int64_t(rows) * M; ++e) dphi[e] *= phi[e];
  Matmul(rows, Dh, M, RowMajor(dphi, M), RowMajor(projection_.data(), Dh), dx,
         Dh, /*accumulate=*/false);
  for (int r = 0; r < rows; ++r) {
    const float* tr = dphi + int64_t(r) * M;
    float total = 0.0f;
#pragma omp simd reduction(+ : total)
    for (int m = 0; m < M; ++m) total += tr[m];
    const float* xr = x + int64_t(r) * Dh;
    float* dr = dx + int64_t(r) * Dh;
#pragma omp simd
    for (int a = 0; a < Dh; ++a) dr[a] = dr[a] * s - total * xr[a] * s2;
  }
}

void PerformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int M = features_, C = chunk_;
  in_ = in;
  const float *q = in.q, *k = in.k, *v = in.v;
  const uint8_t* key_mask = in.key_mask;
  const bool softmax = kernel_ == Kernel::kSoftmax;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // (example, head) pairs are independent: no shared writes, and the result
  // does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    float* S = state_.data() + int64_t(bh) * M * Dh;     // [M, Dh]
    float* z = state_sum_.data() + int64_t(bh) * M;      // [M]
    float* u = u_.data() + int64_t(bh) * C * M;          // [C, M]
    float* phi = phi_.data() + int64_t(bh) * C * M;      // [C, M]
    float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    float* saved = output_.data() + base;                // [N, Dh]
    const uint8_t* real =
        key_mask == nullptr ? nullptr : key_mask + int64_t(b) * N;  // [N]
    std::fill(S, S + int64_t(M) * Dh, 0.0f);
    std::fill(z, z + M, 0.0f);
    // Keys, block by block: S += phi(K)^T V, z += phi(K)^T 1. The softmax
    // stabiliser is the running max exponent over the real keys so far;
    // when it rises, S and z are rescaled, so at the end they hold the sums
    // for the max over all real keys.
    float c = kNegInf;
    for (int j0 = 0; j0 < N; j0 += C) {
      const int rows = std::min(C, N - j0);
      const uint8_t* block_real = real == nullptr ? nullptr : real + j0;
      Exponents(k + base + int64_t(j0) * Dh, rows, u);
      if (softmax) {
        float block_max = kNegInf;
        for (int r = 0; r < rows; ++r) {
          if (block_real != nullptr && !block_real[r]) continue;
          block_max = std::max(block_max, RowMax(u + int64_t(r) * M, M));
        }
        if (block_max > c) {
          if (c != kNegInf) {
            const float alpha = std::exp(c - block_max);
#pragma omp simd
            for (int64_t e = 0; e < int64_t(M) * Dh; ++e) S[e] *= alpha;
            for (int m = 0; m < M; ++m) z[m] *= alpha;
          }
          c = block_max;
        }
      }
      KeyFeatures(u, rows, block_real, c, phi);
      Matmul(M, Dh, rows, Transposed(phi, M),
             RowMajor(v + base + int64_t(j0) * Dh, Dh), S, Dh,
             /*accumulate=*/true);
      for (int r = 0; r < rows; ++r) {
        const float* pr = phi + int64_t(r) * M;
#pragma omp simd
        for (int m = 0; m < M; ++m) z[m] += pr[m];
      }
    }
    key_stabiliser_[bh] = c != kNegInf ? c : 0.0f;
    // Queries: out = phi(Q) S / (phi(Q) z).
    for (int i0 = 0; i0 < N; i0 += C) {
      const int rows = std::min(C, N - i0);
      Exponents(q + base + int64_t(i0) * Dh, rows, u);
      QueryFeatures(u, rows, phi);
      float* o = out + base + int64_t(i0) * Dh;
      Matmul(rows, Dh, M, RowMajor(phi, M), RowMajor(S, Dh), o, Dh,
             /*accumulate=*/false);
      for (int r = 0; r < rows; ++r) {
        const float* pr = phi + int64_t(r) * M;
        float d = 0.0f;
#pragma omp simd reduction(+ : d)
        for (int m = 0; m < M; ++m) d += pr[m] * z[m];
        float* orow = o + int64_t(r) * Dh;
        // No real key (or every feature underflowed): the row stays zero.
        if (!(d > 0.0f)) {
          den[i0 + r] = 0.0f;
          std::fill(orow, orow + Dh, 0.0f);
        } else {
          den[i0 + r] = d;
          const float inv = 1.0f / d;
#pragma omp simd
          for (int a = 0; a < Dh; ++a) orow[a] *= inv;
        }
      }
      std::copy_n(o, int64_t(rows) * Dh, saved + int64_t(i0) * Dh);
    }
  }
}

void PerformerAttention::Backward(const float* dout,
                                  const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int M = features_, C = chunk_;
  const float *q = in_.q, *k = in_.k, *v = in_.v;
  const uint8_t* key_mask = in_.key_mask;
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* S = state_.data() + int64_t(bh) * M * Dh;     // [M, Dh]
    const float* z = state_sum_.data() + int64_t(bh) * M;      // [M]
    float* dS = d_state_.data() + int64_t(bh) * M * Dh;        // [M, Dh]
    float* dz = d_state_sum_.data() + int64_t(bh) * M;         // [M]
    float* u = u_.data() + int64_t(bh) * C * M;                // [C, M]
    float* phi = phi_.data() + int64_t(bh) * C * M;            // [C, M]
    float* dphi = d_phi_.data() + int64_t(bh) * C * M;         // [C, M]
    float* dnum = d_numerator_.data() + int64_t(bh) * C * Dh;  // [C, Dh]
    float* dden = d_den_.data() + int64_t(bh) * C;             // [C]
    const float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    const float* saved = output_.data() + base;                // [N, Dh]
    const uint8_t* real =
        key_mask == nullptr ? nullptr : key_mask + int64_t(b) * N;  // [N]
    std::fill(dS, dS + int64_t(M) * Dh, 0.0f);
    std::fill(dz, dz + M, 0.0f);
    // Queries: out_i = num_i / den_i gives d(num_i) = g / den_i and
    // d(den_i) = -g . num_i / den_i^2 = -g . out_i / den_i, so
    // d(phi(Q)) = d(num) S^T + d(den) z^T, dS += phi(Q)^T d(num) and
    // dz += phi(Q)^T d(den). Rows without a real key get zero everywhere.
    for (int i0 = 0; i0 < N; i0 += C) {
      const int rows = std::min(C, N - i0);
      for (int r = 0; r < rows; ++r) {
        const int i = i0 + r;
        const float* g = dout + base + int64_t(i) * Dh;
        const float* o = saved + int64_t(i) * Dh;
        float* dn = dnum + int64_t(r) * Dh;
        const float d = den[i];
        if (!(d > 0.0f)) {
          std::fill(dn, dn + Dh, 0.0f);
          dden[r] = 0.0f;
          continue;
        }
        float g_dot_out = 0.0f;
#pragma omp simd reduction(+ : g_dot_out)
        for (int a = 0; a < Dh; ++a) g_dot_out += g[a] * o[a];
        const float inv = 1.0f / d;
#pragma omp simd
        for (int a = 0; a < Dh; ++a) dn[a] = g[a] * inv;
        dden[r] = -g_dot_out * inv;
      }
      const float* x = q + base + int64_t(i0) * Dh;
      Exponents(x, rows, u);
      QueryFeatures(u, rows, phi);
      Matmul(rows, M, Dh, RowMajor(dnum, Dh), Transposed(S, Dh), dphi, M,
             /*accumulate=*/false);
      for (int r = 0; r < rows; ++r) {
        float* dr = dphi + int64_t(r) * M;
        const float t = dden[r];
#pragma omp simd
        for (int m = 0; m < M; ++m) dr[m] += z[m] * t;
      }
      Matmul(M, Dh, rows, Transposed(phi, M), RowMajor(dnum, Dh), dS, Dh,
             /*accumulate=*/true);
      for (int r = 0; r < rows; ++r) {
        const float* pr = phi + int64_t(r) * M;
        const float t = dden[r];
#pragma omp simd
        for (int m = 0; m < M; ++m) dz[m] += pr[m] * t;
      }
      FeaturesBackward(x, rows, u, phi, dphi, dq + base + int64_t(i0) * Dh);
    }
    // Keys: d(phi(K)) = V dS^T + 1 dz^T, dV = phi(K) dS.
    const float stabiliser = key_stabiliser_[bh];
    for (int j0 = 0; j0 < N; j0 += C) {
      const int rows = std::min(C, N - j0);
      const uint8_t* block_real = real == nullptr ? nullptr : real + j0;
      const float* x = k + base + int64_t(j0) * Dh;
      const float* vx = v + base + int64_t(j0) * Dh;
      Exponents(x, rows, u);
      KeyFeatures(u, rows, block_real, stabiliser, phi);
      Matmul(rows, M, Dh, RowMajor(vx, Dh), Transposed(dS, Dh), dphi, M,
             /*accumulate=*/false);
      for (int r = 0; r < rows; ++r) {
        float* dr = dphi + int64_t(r) * M;
        if (block_real != nullptr && !block_real[r]) {
          std::fill(dr, dr + M, 0.0f);  // padded keys get zero gradients
          continue;
        }
#pragma omp simd
        for (int m = 0; m < M; ++m) dr[m] += dz[m];
      }
      Matmul(rows, Dh, M, RowMajor(phi, M), RowMajor(dS, Dh),
             dv + base + int64_t(j0) * Dh, Dh, /*accumulate=*/false);
      FeaturesBackward(x, rows, u, phi, dphi, dk + base + int64_t(j0) * Dh);
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
    if (kernel != "relu" && kernel != "softmax") {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'kernel' of attention 'performer' is \"",
          kernel, "\"; allowed: \"relu\", \"softmax\""));
    }
    ASSIGN_OR_RETURN(
        const int features,
        WholeNumberParam(params, "performer", "features", 1, 65536));
    ASSIGN_OR_RETURN(
        const int redraw,
        WholeNumberParam(params, "performer", "redraw_interval", 0, 1000000000,
                         "a whole number from 0 (never) to 1e9"));
    RETURN_IF_ERROR(CheckPositiveShape("performer", shape));
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
