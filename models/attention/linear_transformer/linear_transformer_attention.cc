#include "models/attention/linear_transformer/linear_transformer_attention.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/attention/factory_checks.h"
#include "models/batched_matmul.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// Rows per block. In causal mode the weights inside a block form a
// [chunk, chunk] matrix, so the block stays small.
constexpr int kChunk = 64;

// f [rows, Dh] = phi(x) = elu(x) + 1 > 0; rows of padded keys (real[r] == 0,
// real may be nullptr) are zero, so they add nothing to any sum.
void Features(const float* x, int64_t rows, int dh, const uint8_t* real,
              float* f) {
  // exp(min(x, 0)) on every entry, then x + 1 where x > 0: branch-free.
  const int64_t n = rows * dh;
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) f[e] = (x[e] < 0.0f ? x[e] : 0.0f);
  ExpShifted(f, n, 0.0f, 1.0f, f);
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) f[e] = x[e] > 0.0f ? x[e] + 1.0f : f[e];
  if (real == nullptr) return;
  for (int64_t r = 0; r < rows; ++r) {
    if (!real[r]) std::fill(f + r * dh, f + (r + 1) * dh, 0.0f);
  }
}

// dx [rows, Dh] = df * phi'(x); zero rows where real[r] == 0.
void FeaturesBackward(const float* x, const float* df, int64_t rows, int dh,
                      const uint8_t* real, float* dx) {
  // phi'(x) = exp(min(x, 0)).
  const int64_t n = rows * dh;
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) dx[e] = (x[e] < 0.0f ? x[e] : 0.0f);
  ExpShifted(dx, n, 0.0f, 1.0f, dx);
#pragma omp simd
  for (int64_t e = 0; e < n; ++e) dx[e] *= df[e];
  if (real == nullptr) return;
  for (int64_t r = 0; r < rows; ++r) {
    if (!real[r]) std::fill(dx + r * dh, dx + (r + 1) * dh, 0.0f);
  }
}

// z [Dh] += f^T w for f [rows, Dh] and w [rows] (w == nullptr: ones).
void AddColumnSums(const float* f, const float* w, int rows, int dh, float* z) {
  for (int r = 0; r < rows; ++r) {
    const float* fr = f + int64_t(r) * dh;
    const float t = w == nullptr ? 1.0f : w[r];
#pragma omp simd
    for (int a = 0; a < dh; ++a) z[a] += fr[a] * t;
  }
}

// Keeps the lower triangle (j <= i) of a [rows, rows] block with row
// stride ld, zeroing the rest.
void KeepLowerTriangle(float* a, int rows, int ld) {
  for (int i = 0; i < rows; ++i) {
    std::fill(a + int64_t(i) * ld + i + 1, a + int64_t(i) * ld + rows, 0.0f);
  }
}

}  // namespace

LinearTransformerAttention::LinearTransformerAttention(
    const AttentionShape& shape, bool causal, float eps)
    : shape_(shape),
      causal_(causal),
      eps_(eps),
      chunk_(std::min(kChunk, shape.seq_len)),
      denominator_({shape.max_batch, shape.num_heads, shape.seq_len}),
      output_(
          {shape.max_batch, shape.num_heads, shape.seq_len, shape.head_dim}),
      state_(
          {shape.max_batch, shape.num_heads, shape.head_dim, shape.head_dim}),
      state_sum_({shape.max_batch, shape.num_heads, shape.head_dim}),
      d_state_(
          {shape.max_batch, shape.num_heads, shape.head_dim, shape.head_dim}),
      d_state_sum_({shape.max_batch, shape.num_heads, shape.head_dim}),
      phi_q_({shape.max_batch, shape.num_heads, chunk_, shape.head_dim}),
      phi_k_({shape.max_batch, shape.num_heads, chunk_, shape.head_dim}),
      d_phi_({shape.max_batch, shape.num_heads, chunk_, shape.head_dim}),
      d_numerator_({shape.max_batch, shape.num_heads, chunk_, shape.head_dim}),
      d_den_({shape.max_batch, shape.num_heads, chunk_}),
      row_den_({shape.max_batch, shape.num_heads, chunk_}),
      weights_({shape.max_batch, shape.num_heads, causal ? chunk_ : 1,
                causal ? chunk_ : 1}),
      d_weights_({shape.max_batch, shape.num_heads, causal ? chunk_ : 1,
                  causal ? chunk_ : 1}) {}

void LinearTransformerAttention::Forward(const AttentionInputs& in,
                                         float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int C = chunk_;
  in_ = in;
  const float *q = in.q, *k = in.k, *v = in.v;
  const uint8_t* key_mask = in.key_mask;
  const bool causal = causal_;
  const float eps = eps_;
  // (example, head) pairs are independent: no shared writes, and the result
  // does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    float* S = state_.data() + int64_t(bh) * Dh * Dh;          // [Dh, Dh]
    float* z = state_sum_.data() + int64_t(bh) * Dh;           // [Dh]
    float* fq = phi_q_.data() + int64_t(bh) * C * Dh;          // [C, Dh]
    float* fk = phi_k_.data() + int64_t(bh) * C * Dh;          // [C, Dh]
    float* rden = row_den_.data() + int64_t(bh) * C;           // [C]
    float* A = causal ? weights_.data() + int64_t(bh) * C * C  // [C, C]
                      : nullptr;
    float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    float* saved = output_.data() + base;                // [N, Dh]
    const uint8_t* real =
        key_mask == nullptr ? nullptr : key_mask + int64_t(b) * N;  // [N]
    std::fill(S, S + Dh * Dh, 0.0f);
    std::fill(z, z + Dh, 0.0f);
    // Bidirectional: S = phi(K)^T V and z = phi(K)^T 1 over every key first.
    if (!causal) {
      for (int j0 = 0; j0 < N; j0 += C) {
        const int rows = std::min(C, N - j0);
        Features(k + base + int64_t(j0) * Dh, rows, Dh,
                 real == nullptr ? nullptr : real + j0, fk);
        Matmul(Dh, Dh, rows, Transposed(fk, Dh),
               RowMajor(v + base + int64_t(j0) * Dh, Dh), S, Dh, true);
        AddColumnSums(fk, nullptr, rows, Dh, z);
      }
    }
    for (int i0 = 0; i0 < N; i0 += C) {
      const int rows = std::min(C, N - i0);
      const float* vc = v + base + int64_t(i0) * Dh;
      float* o = out + base + int64_t(i0) * Dh;
      Features(q + base + int64_t(i0) * Dh, rows, Dh, nullptr, fq);
      // num = phi(Q) S (S: the keys of earlier blocks when causal).
      Matmul(rows, Dh, Dh, RowMajor(fq, Dh), RowMajor(S, Dh), o, Dh, false);
      for (int r = 0; r < rows; ++r) {
        const float* fr = fq + int64_t(r) * Dh;
        float d = eps;
#pragma omp simd reduction(+ : d)
        for (int a = 0; a < Dh; ++a) d += fr[a] * z[a];
        rden[r] = d;
      }
      if (causal) {
        // Inside the block: weights A = phi(Q) phi(K)^T kept for j <= i.
        Features(k + base + int64_t(i0) * Dh, rows, Dh,
                 real == nullptr ? nullptr : real + i0, fk);
        Matmul(rows, rows, Dh, RowMajor(fq, Dh), Transposed(fk, Dh), A, C,
               false);
        KeepLowerTriangle(A, rows, C);
        Matmul(rows, Dh, rows, RowMajor(A, C), RowMajor(vc, Dh), o, Dh, true);
        for (int r = 0; r < rows; ++r) {
          const float* ar = A + int64_t(r) * C;
          float s = 0.0f;
#pragma omp simd reduction(+ : s)
          for (int j = 0; j <= r; ++j) s += ar[j];
          rden[r] += s;
        }
        Matmul(Dh, Dh, rows, Transposed(fk, Dh), RowMajor(vc, Dh), S, Dh, true);
        AddColumnSums(fk, nullptr, rows, Dh, z);
      }
      for (int r = 0; r < rows; ++r) {
        const float inv = 1.0f / rden[r];
        float* orow = o + int64_t(r) * Dh;
#pragma omp simd
        for (int a = 0; a < Dh; ++a) orow[a] *= inv;
        den[i0 + r] = rden[r];
      }
      std::copy_n(o, int64_t(rows) * Dh, saved + int64_t(i0) * Dh);
    }
  }
}

void LinearTransformerAttention::Backward(const float* dout,
                                          const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  const int C = chunk_;
  const float *q = in_.q, *k = in_.k, *v = in_.v;
  const uint8_t* key_mask = in_.key_mask;
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;
  const bool causal = causal_;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H;
    const int64_t base = int64_t(bh) * N * Dh;
    float* S = state_.data() + int64_t(bh) * Dh * Dh;          // [Dh, Dh]
    float* z = state_sum_.data() + int64_t(bh) * Dh;           // [Dh]
    float* dS = d_state_.data() + int64_t(bh) * Dh * Dh;       // [Dh, Dh]
    float* dz = d_state_sum_.data() + int64_t(bh) * Dh;        // [Dh]
    float* fq = phi_q_.data() + int64_t(bh) * C * Dh;          // [C, Dh]
    float* fk = phi_k_.data() + int64_t(bh) * C * Dh;          // [C, Dh]
    float* dphi = d_phi_.data() + int64_t(bh) * C * Dh;        // [C, Dh]
    float* dnum = d_numerator_.data() + int64_t(bh) * C * Dh;  // [C, Dh]
    float* dden = d_den_.data() + int64_t(bh) * C;             // [C]
    float* A = causal ? weights_.data() + int64_t(bh) * C * C  // [C, C]
                      : nullptr;
    float* dA = causal ? d_weights_.data() + int64_t(bh) * C * C  // [C, C]
                       : nullptr;
    const float* den = denominator_.data() + int64_t(bh) * N;  // [N]
    const float* saved = output_.data() + base;                // [N, Dh]
    const uint8_t* real =
        key_mask == nullptr ? nullptr : key_mask + int64_t(b) * N;  // [N]
    // out_i = num_i / den_i gives d(num_i) = g / den_i and
    // d(den_i) = -g . num_i / den_i^2 = -g . out_i / den_i.
    auto output_gradients = [&](int i0, int rows) {
      for (int r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        const float* g = dout + base + i * Dh;
        const float* o = saved + i * Dh;
        const float inv = 1.0f / den[i];
        float g_dot_out = 0.0f;
#pragma omp simd reduction(+ : g_dot_out)
        for (int a = 0; a < Dh; ++a) g_dot_out += g[a] * o[a];
        float* dn = dnum + int64_t(r) * Dh;
#pragma omp simd
        for (int a = 0; a < Dh; ++a) dn[a] = g[a] * inv;
        dden[r] = -g_dot_out * inv;
      }
    };
    // The causal block's weights A = tril(phi(Q) phi(K)^T) and their
    // gradient dA = tril(d(num) V^T + d(den) 1^T).
    auto block_weights = [&](int i0, int rows, bool weights) {
      const float* vc = v + base + int64_t(i0) * Dh;
      if (weights) {
        Matmul(rows, rows, Dh, RowMajor(fq, Dh), Transposed(fk, Dh), A, C,
               false);
        KeepLowerTriangle(A, rows, C);
      }
      Matmul(rows, rows, Dh, RowMajor(dnum, Dh), Transposed(vc, Dh), dA, C,
             false);
      for (int r = 0; r < rows; ++r) {
        float* row = dA + int64_t(r) * C;
#pragma omp simd
        for (int j = 0; j < rows; ++j) row[j] += dden[r];
      }
      KeepLowerTriangle(dA, rows, C);
    };
    // Pass 1, queries in order: d(phi(Q)) = d(num) S^T + d(den) z^T, plus
    // dA phi(K) inside a causal block; S and z are the prefix sums of the
    // earlier blocks (causal) or the Forward's totals. Bidirectional, dS and
    // dz are summed here for pass 2.
    if (causal) {
      std::fill(S, S + Dh * Dh, 0.0f);
      std::fill(z, z + Dh, 0.0f);
    }
    std::fill(dS, dS + Dh * Dh, 0.0f);
    std::fill(dz, dz + Dh, 0.0f);
    for (int i0 = 0; i0 < N; i0 += C) {
      const int rows = std::min(C, N - i0);
      const float* x = q + base + int64_t(i0) * Dh;
      output_gradients(i0, rows);
      Features(x, rows, Dh, nullptr, fq);
      Matmul(rows, Dh, Dh, RowMajor(dnum, Dh), Transposed(S, Dh), dphi, Dh,
             false);
      for (int r = 0; r < rows; ++r) {
        float* dr = dphi + int64_t(r) * Dh;
#pragma omp simd
        for (int a = 0; a < Dh; ++a) dr[a] += dden[r] * z[a];
      }
      if (causal) {
        const float* vc = v + base + int64_t(i0) * Dh;
        Features(k + base + int64_t(i0) * Dh, rows, Dh,
                 real == nullptr ? nullptr : real + i0, fk);
        block_weights(i0, rows, /*weights=*/false);
        Matmul(rows, Dh, rows, RowMajor(dA, C), RowMajor(fk, Dh), dphi, Dh,
               true);
        Matmul(Dh, Dh, rows, Transposed(fk, Dh), RowMajor(vc, Dh), S, Dh, true);
        AddColumnSums(fk, nullptr, rows, Dh, z);
      } else {
        Matmul(Dh, Dh, rows, Transposed(fq, Dh), RowMajor(dnum, Dh), dS, Dh,
               true);
        AddColumnSums(fq, dden, rows, Dh, dz);
      }
      FeaturesBackward(x, dphi, rows, Dh, nullptr,
                       dq + base + int64_t(i0) * Dh);
    }
    // Pass 2, keys: d(phi(K)) = V dS^T + 1 dz^T and dV = phi(K) dS, with dS
    // and dz summed over the queries that see the key: all of them, or (causal)
    // the later blocks' as suffix sums plus dA^T phi(Q) and A^T d(num) inside
    // the block.
    const int last = (N - 1) / C * C;
    for (int j0 = causal ? last : 0; causal ? j0 >= 0 : j0 < N;
         j0 += causal ? -C : C) {
      const int rows = std::min(C, N - j0);
      const float* x = k + base + int64_t(j0) * Dh;
      const float* vc = v + base + int64_t(j0) * Dh;
      const uint8_t* block_real = real == nullptr ? nullptr : real + j0;
      float* dvc = dv + base + int64_t(j0) * Dh;
      Features(x, rows, Dh, block_real, fk);
      Matmul(rows, Dh, Dh, RowMajor(vc, Dh), Transposed(dS, Dh), dphi, Dh,
             false);
      for (int r = 0; r < rows; ++r) {
        float* dr = dphi + int64_t(r) * Dh;
#pragma omp simd
        for (int a = 0; a < Dh; ++a) dr[a] += dz[a];
      }
      Matmul(rows, Dh, Dh, RowMajor(fk, Dh), RowMajor(dS, Dh), dvc, Dh, false);
      if (causal) {
        output_gradients(j0, rows);
        Features(q + base + int64_t(j0) * Dh, rows, Dh, nullptr, fq);
        block_weights(j0, rows, /*weights=*/true);
        Matmul(rows, Dh, rows, Transposed(dA, C), RowMajor(fq, Dh), dphi, Dh,
               true);
        Matmul(rows, Dh, rows, Transposed(A, C), RowMajor(dnum, Dh), dvc, Dh,
               true);
        Matmul(Dh, Dh, rows, Transposed(fq, Dh), RowMajor(dnum, Dh), dS, Dh,
               true);
        AddColumnSums(fq, dden, rows, Dh, dz);
      }
      FeaturesBackward(x, dphi, rows, Dh, block_real,
                       dk + base + int64_t(j0) * Dh);
      if (block_real != nullptr) {
        for (int r = 0; r < rows; ++r) {
          if (!block_real[r]) std::fill(dvc + r * Dh, dvc + (r + 1) * Dh, 0.0f);
        }
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
      return ParamError("linear_transformer", "eps", eps, "a number in (0, 1]");
    }
    RETURN_IF_ERROR(CheckPositiveShape("linear_transformer", shape));
    return std::unique_ptr<Attention>(
        std::make_unique<LinearTransformerAttention>(shape, causal,
                                                     static_cast<float>(eps)));
  };
  return plugin;
}

}  // namespace lra
