#include "models/attention/example/window_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/attention/factory_checks.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

float Dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
  for (int x = 0; x < n; ++x) sum += a[x] * b[x];
  return sum;
}

}  // namespace

WindowAttention::WindowAttention(const AttentionShape& shape, int window,
                                 bool causal)
    : shape_(shape),
      window_(std::min(window, shape.seq_len - 1)),
      causal_(causal),
      slots_(2 * window_ + 1),
      log_temperature_({shape.num_heads}),
      log_temperature_grad_({shape.num_heads}),
      weights_({shape.max_batch, shape.num_heads, shape.seq_len, slots_}),
      temperature_partial_({shape.max_batch, shape.num_heads}) {}

int WindowAttention::FirstKey(int i) const { return std::max(0, i - window_); }

int WindowAttention::LastKey(int i) const {
  return causal_ ? i : std::min(shape_.seq_len - 1, i + window_);
}

float WindowAttention::DropoutFactor(int b, int h, int i, int j) const {
  return DropoutFactorAt(shape_, dropout_active_, in_.seed, b, h, i, j);
}

void WindowAttention::Forward(const AttentionInputs& in, float* out) {
  const float *q = in.q, *k = in.k, *v = in.v;
  const uint8_t* key_mask = in.key_mask;
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  // Each (example, head) pair is independent, so threads never share a
  // write and the result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in.batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;  // start of [b, h] in q/k/v
    const float scale =
        std::exp(log_temperature_[h]) / std::sqrt(static_cast<float>(Dh));
    for (int i = 0; i < N; ++i) {
      float* w = weights_.data() + (int64_t(bh) * N + i) * slots_;  // [slots]
      float* o = out + base + int64_t(i) * Dh;                      // [Dh]
      std::fill(w, w + slots_, 0.0f);
      std::fill(o, o + Dh, 0.0f);
      // Scores of the real keys in the window, then a stable softmax.
      float max_score = -std::numeric_limits<float>::infinity();
      for (int j = FirstKey(i); j <= LastKey(i); ++j) {
        if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) continue;
        const float s = scale * Dot(q + base + int64_t(i) * Dh,
                                    k + base + int64_t(j) * Dh, Dh);
        w[j - (i - window_)] = s;
        max_score = std::max(max_score, s);
      }
      // No real key in the window: the output row stays zero.
      if (max_score == -std::numeric_limits<float>::infinity()) continue;
      float sum = 0.0f;
      for (int j = FirstKey(i); j <= LastKey(i); ++j) {
        if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) continue;
        float& weight = w[j - (i - window_)];
        weight = std::exp(weight - max_score);
        sum += weight;
      }
      for (int j = FirstKey(i); j <= LastKey(i); ++j) {
        float& weight = w[j - (i - window_)];
        weight /= sum;
        const float p = weight * DropoutFactor(b, h, i, j);
        if (p == 0.0f) continue;
        const float* vj = v + base + int64_t(j) * Dh;
        for (int x = 0; x < Dh; ++x) o[x] += p * vj[x];
      }
    }
  }
}

void WindowAttention::Backward(const float* dout,
                               const AttentionGradients& grads) {
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;

  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;
    std::fill(dq + base, dq + base + int64_t(N) * Dh, 0.0f);
    std::fill(dk + base, dk + base + int64_t(N) * Dh, 0.0f);
    std::fill(dv + base, dv + base + int64_t(N) * Dh, 0.0f);
    const float scale =
        std::exp(log_temperature_[h]) / std::sqrt(static_cast<float>(Dh));
    // d(loss)/d(log_temperature[h]) = sum over scores of d(score) * score,
    // because every score is proportional to exp(log_temperature[h]).
    double temperature_grad = 0.0;
    for (int i = 0; i < N; ++i) {
      const float* w = weights_.data() + (int64_t(bh) * N + i) * slots_;
      const float* g = dout + base + int64_t(i) * Dh;  // [Dh]
      const float* qi = in_.q + base + int64_t(i) * Dh;
      // With out_i = sum_j w_j d_j v_j (d = dropout factor): dv_j gets
      // w_j d_j g, and d(w_j) = d_j g.v_j; the softmax then gives
      // d(score_j) = w_j (d(w_j) - sum_l w_l d(w_l)).
      float weighted = 0.0f;
      for (int j = FirstKey(i); j <= LastKey(i); ++j) {
        const float wj = w[j - (i - window_)];
        if (wj == 0.0f) continue;
        const float d = DropoutFactor(b, h, i, j);
        const float* vj = in_.v + base + int64_t(j) * Dh;
        float* dvj = dv + base + int64_t(j) * Dh;
        for (int x = 0; x < Dh; ++x) dvj[x] += wj * d * g[x];
        weighted += wj * d * Dot(g, vj, Dh);
      }
      for (int j = FirstKey(i); j <= LastKey(i); ++j) {
        const float wj = w[j - (i - window_)];
        if (wj == 0.0f) continue;
        const float* kj = in_.k + base + int64_t(j) * Dh;
        const float dw = DropoutFactor(b, h, i, j) *
                         Dot(g, in_.v + base + int64_t(j) * Dh, Dh);
        const float dscore = wj * (dw - weighted);
        float* dqi = dq + base + int64_t(i) * Dh;
        float* dkj = dk + base + int64_t(j) * Dh;
        for (int x = 0; x < Dh; ++x) {
          dqi[x] += dscore * scale * kj[x];
          dkj[x] += dscore * scale * qi[x];
        }
        temperature_grad += double(dscore) * scale * Dot(qi, kj, Dh);
      }
    }
    temperature_partial_[int64_t(b) * H + h] =
        static_cast<float>(temperature_grad);
  }
  // Summed over the batch in a fixed order, so the gradient is the same for
  // every thread count.
  for (int h = 0; h < H; ++h) {
    float sum = 0.0f;
    for (int b = 0; b < in_.batch; ++b) {
      sum += temperature_partial_[int64_t(b) * H + h];
    }
    log_temperature_grad_[h] += sum;
  }
}

void WindowAttention::ForEachParameter(const ParameterVisitor& fn) {
  fn("log_temperature", log_temperature_, log_temperature_grad_);
}

void WindowAttention::InitParameters(uint64_t seed) {
  // Temperature 1: the plugin starts as plain windowed softmax attention.
  log_temperature_.Zero();
}

AttentionPlugin WindowAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "example_window";
  plugin.description =
      "sliding-window softmax attention with a learnable temperature per "
      "head (the worked example of docs/plugins.md)";
  plugin.params = {
      PluginParamSpec::Number(
          "window", 8, "keys on each side of the query (a whole number >= 0)"),
      PluginParamSpec::Flag("causal", false,
                            "attend only to keys at or before the query"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = true;
  plugin.capabilities.learnable = true;
  plugin.capabilities.complexity = "O(N window)";
  // The defaults of AttentionTolerances suit float32 softmax attention.
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(
        const int window,
        WholeNumberParam(params, "example_window", "window", 0, 1000000));
    ASSIGN_OR_RETURN(const bool causal, params.Flag("causal"));
    RETURN_IF_ERROR(CheckPositiveShape("example_window", shape));
    RETURN_IF_ERROR(CheckDropoutRate("example_window", shape));
    return std::unique_ptr<Attention>(std::make_unique<WindowAttention>(
        shape, static_cast<int>(window), causal));
  };
  // The conformance suite runs each of these at several lengths. Windows
  // narrower than the test lengths exercise window edges and padding inside
  // the window; window 0 is the degenerate one-key case; the causal case is
  // marked so that the suite checks causality.
  plugin.test_cases = {
      {"window 3", {NumberParam("window", 3)}},
      {"window 0", {NumberParam("window", 0)}},
      {"window 5, causal",
       {NumberParam("window", 5), FlagParam("causal", true)},
       /*causal=*/true},
  };
  return plugin;
}

}  // namespace lra
