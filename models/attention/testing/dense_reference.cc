#include "models/attention/testing/dense_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace lra {
namespace {

// Softmax weights of query row (b, h, i) over allowed keys, in double.
// Returns false when no key is allowed (the row is then all zero).
bool RowWeights(const float* q, const float* k, int b, int h, int i, int N,
                int Dh, int64_t base, const DenseAllowedFn& allowed,
                std::vector<double>& p, std::vector<uint8_t>& on) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(Dh));
  double max_score = -std::numeric_limits<double>::infinity();
  bool any = false;
  for (int j = 0; j < N; ++j) {
    on[j] = allowed(b, h, i, j) ? 1 : 0;
    if (!on[j]) {
      p[j] = 0.0;
      continue;
    }
    double s = 0.0;
    for (int x = 0; x < Dh; ++x) {
      s += static_cast<double>(q[base + int64_t(i) * Dh + x]) *
           k[base + int64_t(j) * Dh + x];
    }
    p[j] = s * scale;
    max_score = std::max(max_score, p[j]);
    any = true;
  }
  if (!any) return false;
  double sum = 0.0;
  for (int j = 0; j < N; ++j) {
    if (on[j]) {
      p[j] = std::exp(p[j] - max_score);
      sum += p[j];
    }
  }
  for (int j = 0; j < N; ++j) p[j] /= sum;
  return true;
}

}  // namespace

template <typename T>
void DenseMaskedAttention(const float* q, const float* k, const float* v, int B,
                          int H, int N, int Dh, const DenseAllowedFn& allowed,
                          T* out) {
  std::vector<double> p(N), acc(Dh);
  std::vector<uint8_t> on(N);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t base = (int64_t(b) * H + h) * N * Dh;
      for (int i = 0; i < N; ++i) {
        std::fill(acc.begin(), acc.end(), 0.0);
        if (RowWeights(q, k, b, h, i, N, Dh, base, allowed, p, on)) {
          for (int j = 0; j < N; ++j) {
            if (!on[j]) continue;
            for (int x = 0; x < Dh; ++x) {
              acc[x] += p[j] * v[base + int64_t(j) * Dh + x];
            }
          }
        }
        for (int x = 0; x < Dh; ++x) {
          out[base + int64_t(i) * Dh + x] = static_cast<T>(acc[x]);
        }
      }
    }
  }
}

template <typename T>
void DenseMaskedAttentionBackward(const float* q, const float* k,
                                  const float* v, int B, int H, int N, int Dh,
                                  const DenseAllowedFn& allowed,
                                  const float* dout, T* dq_out, T* dk_out,
                                  T* dv_out) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(Dh));
  const int64_t count = int64_t(B) * H * N * Dh;
  // Accumulate in double; dk and dv collect contributions from every row.
  std::vector<double> dq(count, 0.0), dk(count, 0.0), dv(count, 0.0);
  std::vector<double> p(N), dp(N);
  std::vector<uint8_t> on(N);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t base = (int64_t(b) * H + h) * N * Dh;
      for (int i = 0; i < N; ++i) {
        if (!RowWeights(q, k, b, h, i, N, Dh, base, allowed, p, on)) continue;
        const float* g = dout + base + int64_t(i) * Dh;
        // dp_j = dout_i . v_j; d(score_j) = p_j (dp_j - sum_l p_l dp_l).
        double dot = 0.0;
        for (int j = 0; j < N; ++j) {
          if (!on[j]) continue;
          double s = 0.0;
          for (int x = 0; x < Dh; ++x) {
            s += static_cast<double>(g[x]) * v[base + int64_t(j) * Dh + x];
            dv[base + int64_t(j) * Dh + x] += p[j] * g[x];
          }
          dp[j] = s;
          dot += p[j] * s;
        }
        for (int j = 0; j < N; ++j) {
          if (!on[j]) continue;
          const double ds = p[j] * (dp[j] - dot) * scale;
          for (int x = 0; x < Dh; ++x) {
            dq[base + int64_t(i) * Dh + x] +=
                ds * k[base + int64_t(j) * Dh + x];
            dk[base + int64_t(j) * Dh + x] +=
                ds * q[base + int64_t(i) * Dh + x];
          }
        }
      }
    }
  }
  for (int64_t e = 0; e < count; ++e) {
    dq_out[e] = static_cast<T>(dq[e]);
    dk_out[e] = static_cast<T>(dk[e]);
    dv_out[e] = static_cast<T>(dv[e]);
  }
}

template void DenseMaskedAttention<float>(const float*, const float*,
                                          const float*, int, int, int, int,
                                          const DenseAllowedFn&, float*);
template void DenseMaskedAttention<double>(const float*, const float*,
                                           const float*, int, int, int, int,
                                           const DenseAllowedFn&, double*);
template void DenseMaskedAttentionBackward<float>(const float*, const float*,
                                                  const float*, int, int, int,
                                                  int, const DenseAllowedFn&,
                                                  const float*, float*, float*,
                                                  float*);
template void DenseMaskedAttentionBackward<double>(const float*, const float*,
                                                   const float*, int, int, int,
                                                   int, const DenseAllowedFn&,
                                                   const float*, double*,
                                                   double*, double*);

void DenseMaskedAttentionBackwardSharedQK(const float* qk, const float* v,
                                          int B, int H, int N, int Dh,
                                          const DenseAllowedFn& allowed,
                                          const float* dout, double* dqk,
                                          double* dv) {
  const int64_t total = int64_t(B) * H * N * Dh;
  std::vector<double> dk(total);
  DenseMaskedAttentionBackward(qk, qk, v, B, H, N, Dh, allowed, dout, dqk,
                               dk.data(), dv);
  for (int64_t e = 0; e < total; ++e) dqk[e] += dk[e];
}

DenseAllowedFn DenseAllowWithPadding(DenseAllowedFn pattern,
                                     const uint8_t* key_mask, int N) {
  if (key_mask == nullptr) return pattern;
  return
      [pattern = std::move(pattern), key_mask, N](int b, int h, int i, int j) {
        return key_mask[int64_t(b) * N + j] != 0 && pattern(b, h, i, j);
      };
}

DenseAllowedFn DenseAllowAll() {
  return [](int, int, int, int) { return true; };
}

DenseAllowedFn DenseAllowCausal() {
  return [](int, int, int i, int j) { return j <= i; };
}

DenseAllowedFn DenseAllowFromMatrix(const uint8_t* mask, int N) {
  return [mask, N](int, int, int i, int j) {
    return mask[int64_t(i) * N + j] != 0;
  };
}

double WeightedAttentionObjective(const std::vector<double>& v,
                                  const uint8_t* key_mask,
                                  const std::vector<float>& r, int B, int H,
                                  int N, int Dh, bool causal, double den0,
                                  const PairWeightFn& weight,
                                  std::vector<double>* out) {
  double objective = 0;
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t base = (int64_t(b) * H + h) * N * Dh;
      for (int i = 0; i < N; ++i) {
        std::vector<double> num(Dh, 0.0);
        double den = den0;
        for (int j = 0; j < N; ++j) {
          if (!key_mask[b * N + j] || (causal && j > i)) continue;
          const double w = weight(base, i, j);
          den += w;
          for (int c = 0; c < Dh; ++c) num[c] += w * v[base + j * Dh + c];
        }
        for (int c = 0; c < Dh; ++c) {
          const double o = den > 0 ? num[c] / den : 0.0;
          if (out) (*out)[base + i * Dh + c] = o;
          objective += o * r[base + i * Dh + c];
        }
      }
    }
  }
  return objective;
}

void ExpectMatchesDenseReference(const float* q, const float* k, const float* v,
                                 int B, int H, int N, int Dh,
                                 const DenseAllowedFn& allowed,
                                 const float* dout, const float* out,
                                 const float* dq, const float* dk,
                                 const float* dv, double out_tolerance,
                                 double grad_tolerance) {
  const int64_t count = static_cast<int64_t>(B) * H * N * Dh;
  std::vector<double> rout(count), rdq(count), rdk(count), rdv(count);
  DenseMaskedAttention(q, k, v, B, H, N, Dh, allowed, rout.data());
  DenseMaskedAttentionBackward(q, k, v, B, H, N, Dh, allowed, dout, rdq.data(),
                               rdk.data(), rdv.data());
  for (int64_t e = 0; e < count; ++e) {
    EXPECT_NEAR(out[e], rout[e], out_tolerance) << "out " << e;
    EXPECT_NEAR(dq[e], rdq[e], grad_tolerance) << "dq " << e;
    EXPECT_NEAR(dk[e], rdk[e], grad_tolerance) << "dk " << e;
    EXPECT_NEAR(dv[e], rdv[e], grad_tolerance) << "dv " << e;
  }
}

}  // namespace lra
