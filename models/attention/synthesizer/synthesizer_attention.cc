#include "models/attention/synthesizer/synthesizer_attention.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// Uniform values of standard deviation `std` (LeCun-style: 1 / sqrt(fan_in)).
void FillUniform(Tensor& t, uint64_t seed, double std) {
  const float a = static_cast<float>(std::sqrt(3.0) * std);
  for (int64_t e = 0; e < t.size(); ++e) {
    t[e] = a * (2.0f * UniformFloat(seed, e) - 1.0f);
  }
}

// Bytes of physical memory, or 0 if unknown.
double PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? double(pages) * page_size : 0.0;
}

Tensor Maybe(bool on, std::vector<int64_t> shape) {
  return on ? Tensor(std::move(shape)) : Tensor();
}

}  // namespace

SynthesizerAttention::SynthesizerAttention(const AttentionShape& shape,
                                           const SynthesizerOptions& options)
    : shape_(shape),
      opt_(options),
      hidden_width_(shape.num_heads * shape.head_dim) {
  const int64_t B = shape.max_batch, H = shape.num_heads, N = shape.seq_len,
                Dh = shape.head_dim, D = shape.d_model, k = options.factor;
  const bool learn_random = opt_.random && opt_.learn_random;
  if (opt_.random) {
    random_ = Factorised() ? Tensor({H, N, k}) : Tensor({H, N, N});
    random_grad_ = Maybe(learn_random, random_.shape());
    random2_ = Maybe(Factorised(), {H, k, N});
    random2_grad_ = Maybe(Factorised() && learn_random, {H, k, N});
    random_logits_ = Maybe(Factorised(), {H, N, N});
    random_dlogits_ = Maybe(Factorised() && learn_random, {H, N, N});
    // Fixed random logits are structure: a pure function of the run's seed
    // and the layer (shape.seed).
    if (!learn_random) DrawRandom(DeriveSeed(shape.seed, 0x5a17));
  }
  if (opt_.dense) {
    w1_ = Tensor({D, H * Dh});
    w1_grad_ = Tensor({D, H * Dh});
    b1_ = Tensor({H * Dh});
    b1_grad_ = Tensor({H * Dh});
    w2_ = Tensor({Dh, N});
    w2_grad_ = Tensor({Dh, N});
    b2_ = Tensor({N});
    b2_grad_ = Tensor({N});
    hidden_ = Tensor({B, N, H * Dh});
    active_ = Tensor({B, N, H * Dh});
    dense_logits_ = Tensor({B, H, N, N});
    d_hidden_ = Tensor({B, N, H * Dh});
  }
  mix_ = Maybe(opt_.learn_mix, {H});
  mix_grad_ = Maybe(opt_.learn_mix, {H});
  mix_partial_ = Tensor({B, H});
  weights_ = Tensor({B, H, N, N});
  dscores_ = Tensor({B, H, N, N});
}

void SynthesizerAttention::DrawRandom(uint64_t seed) {
  const double N = shape_.seq_len;
  if (Factorised()) {
    FillUniform(random_, DeriveSeed(seed, 1), 1.0 / std::sqrt(N));
    FillUniform(random2_, DeriveSeed(seed, 2),
                1.0 / std::sqrt(double(opt_.factor)));
  } else {
    FillUniform(random_, DeriveSeed(seed, 1), 1.0 / std::sqrt(N));
  }
}

void SynthesizerAttention::InitParameters(uint64_t seed) {
  if (opt_.random && opt_.learn_random) DrawRandom(DeriveSeed(seed, 1));
  if (opt_.dense) {
    FillUniform(w1_, DeriveSeed(seed, 2),
                1.0 / std::sqrt(double(shape_.d_model)));
    b1_.Zero();
    FillUniform(w2_, DeriveSeed(seed, 3),
                1.0 / std::sqrt(double(shape_.head_dim)));
    b2_.Zero();
  }
  if (opt_.learn_mix) {
    for (int h = 0; h < shape_.num_heads; ++h) mix_[h] = opt_.mix;
  }
}

void SynthesizerAttention::ForEachParameter(const ParameterVisitor& fn) {
  if (opt_.random && opt_.learn_random) {
    if (Factorised()) {
      fn("random1", random_, random_grad_);
      fn("random2", random2_, random2_grad_);
    } else {
      fn("random", random_, random_grad_);
    }
  }
  if (opt_.dense) {
    fn("dense_w1", w1_, w1_grad_);
    fn("dense_b1", b1_, b1_grad_);
    fn("dense_w2", w2_, w2_grad_);
    fn("dense_b2", b2_, b2_grad_);
  }
  if (opt_.learn_mix) fn("mix", mix_, mix_grad_);
}

float SynthesizerAttention::DropoutFactor(int b, int h, int i, int j) const {
  return DropoutFactorAt(shape_, dropout_active_, in_.seed, b, h, i, j);
}

void SynthesizerAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim,
            D = shape_.d_model, F = hidden_width_, k = opt_.factor;
  const int batch = in.batch;
  const uint8_t* key_mask = in.key_mask;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;

  // Random logits of each head: R, or R1 R2.
  const float* random_logits = random_.data();
  if (Factorised()) {
#pragma omp parallel for schedule(static)
    for (int hi = 0; hi < H * N; ++hi) {
      const int h = hi / N, i = hi % N;
      const float* r1 = random_.data() + (int64_t(h) * N + i) * k;  // [k]
      const float* r2 = random2_.data() + int64_t(h) * k * N;       // [k, N]
      float* row = random_logits_.data() + (int64_t(h) * N + i) * N;
      for (int j = 0; j < N; ++j) {
        float s = 0.0f;
        for (int a = 0; a < k; ++a) s += r1[a] * r2[int64_t(a) * N + j];
        row[j] = s;
      }
    }
    random_logits = random_logits_.data();
  }
  // Dense logits: hidden = x W1 + b1 per token, then W2^T relu(hidden[h]) +
  // b2 per head.
  if (opt_.dense) {
#pragma omp parallel for schedule(static)
    for (int bi = 0; bi < batch * N; ++bi) {
      const float* xi = in.x + int64_t(bi) * D;       // [D]
      float* hid = hidden_.data() + int64_t(bi) * F;  // [F]
      float* act = active_.data() + int64_t(bi) * F;  // [F]
      for (int f = 0; f < F; ++f) hid[f] = b1_[f];
      for (int d = 0; d < D; ++d) {
        const float* w = w1_.data() + int64_t(d) * F;
        for (int f = 0; f < F; ++f) hid[f] += xi[d] * w[f];
      }
      if (!frozen_) {
        for (int f = 0; f < F; ++f) act[f] = hid[f] > 0.0f ? 1.0f : 0.0f;
      }
      const int b = bi / N, i = bi % N;
      for (int h = 0; h < H; ++h) {
        float* row = dense_logits_.data() + ((int64_t(b) * H + h) * N + i) * N;
        for (int j = 0; j < N; ++j) row[j] = b2_[j];
        for (int c = 0; c < Dh; ++c) {
          const float a = act[h * Dh + c] * hid[h * Dh + c];
          if (a == 0.0f) continue;
          const float* w = w2_.data() + int64_t(c) * N;
          for (int j = 0; j < N; ++j) row[j] += a * w[j];
        }
      }
    }
  }

  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float mix = Mix(h);
    for (int i = 0; i < N; ++i) {
      float* w = weights_.data() + (int64_t(bh) * N + i) * N;  // [N]
      float* o = out + base + int64_t(i) * Dh;                 // [Dh]
      std::fill(o, o + Dh, 0.0f);
      float max_score = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < N; ++j) {
        if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) {
          w[j] = 0.0f;
          continue;
        }
        float synthetic = 0.0f;
        if (opt_.random) {
          synthetic += random_logits[(int64_t(h) * N + i) * N + j];
        }
        if (opt_.dense) {
          synthetic += dense_logits_[(int64_t(bh) * N + i) * N + j];
        }
        float s = mix * synthetic;
        if (opt_.dot) {
          s += scale * Dot(in.q + base + int64_t(i) * Dh,
                           in.k + base + int64_t(j) * Dh, Dh);
        }
        w[j] = s;
        max_score = std::max(max_score, s);
      }
      // No real key: the row stays zero.
      if (max_score == -std::numeric_limits<float>::infinity()) continue;
      float sum = 0.0f;
      for (int j = 0; j < N; ++j) {
        if (key_mask != nullptr && !key_mask[int64_t(b) * N + j]) continue;
        w[j] = std::exp(w[j] - max_score);
        sum += w[j];
      }
      for (int j = 0; j < N; ++j) {
        w[j] /= sum;
        const float p = w[j] * DropoutFactor(b, h, i, j);
        if (p == 0.0f) continue;
        const float* vj = in.v + base + int64_t(j) * Dh;
        for (int x = 0; x < Dh; ++x) o[x] += p * vj[x];
      }
    }
  }
}

void SynthesizerAttention::Backward(const float* dout,
                                    const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim,
            D = shape_.d_model, F = hidden_width_, k = opt_.factor;
  const int batch = in_.batch;
  float *dq = grads.dq, *dk = grads.dk, *dv = grads.dv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
  const float* random_logits =
      Factorised() ? random_logits_.data() : random_.data();

  // Softmax backward per (example, head): dv, the dot-product part of dq and
  // dk, and d(loss)/d(logit) for the synthetic parts.
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;
    std::fill(dq + base, dq + base + int64_t(N) * Dh, 0.0f);
    std::fill(dk + base, dk + base + int64_t(N) * Dh, 0.0f);
    std::fill(dv + base, dv + base + int64_t(N) * Dh, 0.0f);
    double mix_grad = 0.0;
    for (int i = 0; i < N; ++i) {
      const float* w = weights_.data() + (int64_t(bh) * N + i) * N;
      float* ds = dscores_.data() + (int64_t(bh) * N + i) * N;
      const float* g = dout + base + int64_t(i) * Dh;
      float weighted = 0.0f;
      for (int j = 0; j < N; ++j) {
        ds[j] = 0.0f;
        if (w[j] == 0.0f) continue;
        const float d = DropoutFactor(b, h, i, j);
        const float dw = d * Dot(g, in_.v + base + int64_t(j) * Dh, Dh);
        float* dvj = dv + base + int64_t(j) * Dh;
        for (int x = 0; x < Dh; ++x) dvj[x] += w[j] * d * g[x];
        ds[j] = dw;
        weighted += w[j] * dw;
      }
      const float* qi = in_.q + base + int64_t(i) * Dh;
      float* dqi = dq + base + int64_t(i) * Dh;
      for (int j = 0; j < N; ++j) {
        if (w[j] == 0.0f) continue;
        ds[j] = w[j] * (ds[j] - weighted);
        if (opt_.dot) {
          const float* kj = in_.k + base + int64_t(j) * Dh;
          float* dkj = dk + base + int64_t(j) * Dh;
          for (int x = 0; x < Dh; ++x) {
            dqi[x] += ds[j] * scale * kj[x];
            dkj[x] += ds[j] * scale * qi[x];
          }
        }
        if (opt_.learn_mix) {
          float synthetic = 0.0f;
          if (opt_.random) {
            synthetic += random_logits[(int64_t(h) * N + i) * N + j];
          }
          if (opt_.dense) {
            synthetic += dense_logits_[(int64_t(bh) * N + i) * N + j];
          }
          mix_grad += double(ds[j]) * synthetic;
        }
      }
    }
    mix_partial_[bh] = static_cast<float>(mix_grad);
  }
  // Parameter gradients, each element summed in a fixed order (no thread
  // shares a write), so results do not depend on the thread count.
  if (opt_.learn_mix) {
    for (int h = 0; h < H; ++h) {
      float sum = 0.0f;
      for (int b = 0; b < batch; ++b) sum += mix_partial_[int64_t(b) * H + h];
      mix_grad_[h] += sum;
    }
  }
  if (opt_.random && opt_.learn_random) {
    float* dlogits =
        Factorised() ? random_dlogits_.data() : random_grad_.data();
#pragma omp parallel for schedule(static)
    for (int hi = 0; hi < H * N; ++hi) {
      const int h = hi / N;
      const float mix = Mix(h);
      float* row = dlogits + int64_t(hi) * N;
      for (int j = 0; j < N; ++j) {
        float sum = 0.0f;
        for (int b = 0; b < batch; ++b) {
          sum += dscores_[((int64_t(b) * H + h) * N) * N + int64_t(hi % N) * N +
                          j];
        }
        // Added into the gradient (full) or into a zeroed buffer (factors).
        row[j] = (Factorised() ? 0.0f : row[j]) + mix * sum;
      }
    }
    if (Factorised()) {
      // dR1 = dL R2^T, dR2 = R1^T dL per head.
#pragma omp parallel for schedule(static)
      for (int hi = 0; hi < H * N; ++hi) {
        const int h = hi / N, i = hi % N;
        const float* dl = dlogits + int64_t(hi) * N;
        const float* r2 = random2_.data() + int64_t(h) * k * N;
        float* dr1 = random_grad_.data() + int64_t(hi) * k;
        for (int a = 0; a < k; ++a) dr1[a] += Dot(dl, r2 + int64_t(a) * N, N);
        (void)i;
      }
#pragma omp parallel for schedule(static)
      for (int ha = 0; ha < H * k; ++ha) {
        const int h = ha / k, a = ha % k;
        float* dr2 = random2_grad_.data() + int64_t(ha) * N;
        for (int i = 0; i < N; ++i) {
          const float r1 = random_[(int64_t(h) * N + i) * k + a];
          const float* dl = dlogits + (int64_t(h) * N + i) * N;
          for (int j = 0; j < N; ++j) dr2[j] += r1 * dl[j];
        }
      }
    }
  }
  if (opt_.dense) {
    // d(dense logit)[b, h, i, j] = mix_h dscores[b, h, i, j].
    // W2 [Dh, N] and b2 [N]: by key column j.
#pragma omp parallel for schedule(static)
    for (int j = 0; j < N; ++j) {
      for (int b = 0; b < batch; ++b) {
        for (int h = 0; h < H; ++h) {
          const float mix = Mix(h);
          for (int i = 0; i < N; ++i) {
            const float g =
                mix * dscores_[((int64_t(b) * H + h) * N + i) * N + j];
            if (g == 0.0f) continue;
            b2_grad_[j] += g;
            const int64_t t = (int64_t(b) * N + i) * F + h * Dh;
            for (int c = 0; c < Dh; ++c) {
              w2_grad_[int64_t(c) * N + j] +=
                  g * active_[t + c] * hidden_[t + c];
            }
          }
        }
      }
    }
    // d(hidden) per token, then dx (added into) per token.
#pragma omp parallel for schedule(static)
    for (int bi = 0; bi < batch * N; ++bi) {
      const int b = bi / N, i = bi % N;
      float* dh = d_hidden_.data() + int64_t(bi) * F;
      for (int h = 0; h < H; ++h) {
        const float mix = Mix(h);
        const float* ds = dscores_.data() + ((int64_t(b) * H + h) * N + i) * N;
        for (int c = 0; c < Dh; ++c) {
          const int f = h * Dh + c;
          dh[f] = active_[int64_t(bi) * F + f] == 0.0f
                      ? 0.0f
                      : mix * Dot(ds, w2_.data() + int64_t(c) * N, N);
        }
      }
      float* dxi = grads.dx + int64_t(bi) * D;
      for (int d = 0; d < D; ++d) {
        dxi[d] += Dot(w1_.data() + int64_t(d) * F, dh, F);
      }
    }
    // W1 [D, F] by input row d; b1 [F].
#pragma omp parallel for schedule(static)
    for (int d = 0; d < D; ++d) {
      float* dw = w1_grad_.data() + int64_t(d) * F;
      for (int bi = 0; bi < batch * N; ++bi) {
        const float xd = in_.x[int64_t(bi) * D + d];
        const float* dh = d_hidden_.data() + int64_t(bi) * F;
        for (int f = 0; f < F; ++f) dw[f] += xd * dh[f];
      }
    }
    for (int bi = 0; bi < batch * N; ++bi) {
      const float* dh = d_hidden_.data() + int64_t(bi) * F;
      for (int f = 0; f < F; ++f) b1_grad_[f] += dh[f];
    }
  }
}

AttentionPlugin SynthesizerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "synthesizer";
  plugin.description =
      "Synthesizer (Tay et al.): random (learned or fixed, optionally "
      "factorised) and/or dense (MLP of the layer input) synthetic attention "
      "logits, alone or added to dot-product scores as in LRA";
  plugin.params = {
      PluginParamSpec::Text("mode", "random+dot",
                            "random, dense, random+dot or dense+dot"),
      PluginParamSpec::Number(
          "factor", 32,
          "rank k of the factorised random logits R1 [N, k] R2 [k, N]; 0 = "
          "a full N x N matrix per head"),
      PluginParamSpec::Flag("learn_random", true,
                            "learn the random logits (else fixed, drawn from "
                            "the run's seed and the layer)"),
      PluginParamSpec::Number(
          "mix", 1, "weight of the synthetic logits (LRA adds them: 1)"),
      PluginParamSpec::Flag("learn_mix", false,
                            "learn the weight per head, starting at mix"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.learnable = true;
  plugin.capabilities.needs_layer_input = true;
  plugin.capabilities.length_dependent_parameters = true;
  plugin.capabilities.complexity = "O(N^2)";
  // The dense MLP's relu switches where a pre-activation crosses zero; the
  // central-difference step can cross it, so the gradient checks keep the
  // active set of the analytic pass.
  plugin.capabilities.exemptions = {
      {"Gradients", AttentionExemption::Treatment::kFreezeStructure,
       "the dense MLP's relu active set flips under the central-difference "
       "step; it is kept from the analytic pass"},
      {"GradientsWithDropout", AttentionExemption::Treatment::kFreezeStructure,
       "the dense MLP's relu active set flips under the central-difference "
       "step; it is kept from the analytic pass"},
  };
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(const std::string mode, params.Text("mode"));
    ASSIGN_OR_RETURN(const double factor, params.Number("factor"));
    ASSIGN_OR_RETURN(const bool learn_random, params.Flag("learn_random"));
    ASSIGN_OR_RETURN(const double mix, params.Number("mix"));
    ASSIGN_OR_RETURN(const bool learn_mix, params.Flag("learn_mix"));
    SynthesizerOptions options;
    if (mode == "random" || mode == "random+dot") {
      options.random = true;
      options.dense = false;
    } else if (mode == "dense" || mode == "dense+dot") {
      options.random = false;
      options.dense = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'mode' of attention 'synthesizer' is '", mode,
          "'; allowed: random, dense, random+dot, dense+dot"));
    }
    options.dot = mode.size() > 4 && mode.substr(mode.size() - 4) == "+dot";
    if (!(factor >= 0 && factor <= 1e6 && factor == std::floor(factor))) {
      return ParamError("synthesizer", "factor", factor,
                        "a whole number from 0 (full) to 1000000");
    }
    if (!std::isfinite(mix)) {
      return ParamError("synthesizer", "mix", mix, "a finite number");
    }
    options.factor = static_cast<int>(factor);
    options.learn_random = learn_random;
    options.mix = static_cast<float>(mix);
    options.learn_mix = learn_mix;
    RETURN_IF_ERROR(
        CheckPositiveShape("synthesizer", shape, /*with_d_model=*/true));
    RETURN_IF_ERROR(CheckDropoutRate("synthesizer", shape));
    // The N x N buffers grow fast (random Synthesizer at N = 16K, batch 8, 4
    // heads: over 70 GB per layer). Refuse a layer that cannot fit, with an
    // out-of-memory status, before allocating: a sweep then reports the
    // length as out of memory instead of the process dying on an allocation
    // or being killed while touching overcommitted pages.
    const double n2 = double(shape.seq_len) * shape.seq_len;
    const double per_head =
        2.0 * shape.max_batch +
        (options.random ? (options.learn_random ? 2.0 : 1.0) : 0.0) +
        (options.dense ? 1.0 * shape.max_batch : 0.0);
    const double need = 4.0 * n2 * shape.num_heads * per_head;
    const double memory = PhysicalMemoryBytes();
    if (memory > 0 && need > memory / 2) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "out of memory: attention 'synthesizer' at seq_len %d (batch %d, "
          "%d heads) needs %.1f GiB per layer for its N x N buffers; this "
          "machine has %.1f GiB (a layer may take at most half)",
          shape.seq_len, shape.max_batch, shape.num_heads, need / (1 << 30),
          memory / (1 << 30)));
    }
    return std::unique_ptr<Attention>(
        std::make_unique<SynthesizerAttention>(shape, options));
  };
  // Every mode; a small factor so that the factorised product is low rank at
  // the test lengths; the fixed random logits with a learned mix (else that
  // configuration has no parameter at all).
  plugin.test_cases = {
      {"random+dot, factor 4",
       {TextParam("mode", "random+dot"), NumberParam("factor", 4)}},
      {"random, full", {TextParam("mode", "random"), NumberParam("factor", 0)}},
      {"dense", {TextParam("mode", "dense")}},
      {"dense+dot, learned mix",
       {TextParam("mode", "dense+dot"), NumberParam("mix", 0.7),
        FlagParam("learn_mix", true)}},
      {"fixed random+dot, learned mix",
       {TextParam("mode", "random+dot"), NumberParam("factor", 0),
        FlagParam("learn_random", false), FlagParam("learn_mix", true)}},
  };
  return plugin;
}

}  // namespace lra
