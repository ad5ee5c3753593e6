#include "models/mixers/lru/lru_mixer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <memory>

#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {
using Complex = std::complex<double>;
}  // namespace

LruMixer::LruMixer(const MixerShape& shape, const LruOptions& options)
    : shape_(shape),
      options_(options),
      dirs_(options.bidirectional ? 2 : 1),
      threads_(std::max(1, omp_get_max_threads())),
      width_(static_cast<int64_t>(dirs_) * 2 * options.state_size),
      nu_log_({options.state_size}),
      theta_log_({options.state_size}),
      gamma_log_({options.state_size}),
      b_({shape.d_model, 2 * options.state_size}),
      c_({width_, shape.d_model}),
      d_({shape.d_model}),
      g_nu_log_({options.state_size}),
      g_theta_log_({options.state_size}),
      g_gamma_log_({options.state_size}),
      g_b_({shape.d_model, 2 * options.state_size}),
      g_c_({width_, shape.d_model}),
      g_d_({shape.d_model}),
      in_(shape.d_model, 2 * options.state_size),
      out_(width_, shape.d_model),
      mask_(static_cast<size_t>(shape.max_seqs) * shape.seq_len),
      u_({shape.max_seqs, shape.seq_len, shape.d_model}),
      v_({shape.max_seqs, shape.seq_len, 2 * options.state_size}),
      s_({shape.max_seqs, shape.seq_len, width_}),
      lam_re_({options.state_size}),
      lam_im_({options.state_size}),
      gam_({options.state_size}),
      d_s_({shape.max_seqs, shape.seq_len, width_}),
      d_v_({shape.max_seqs, shape.seq_len, 2 * options.state_size}),
      du_({shape.max_seqs, shape.seq_len, shape.d_model}) {}

void LruMixer::ForEachWeight(const WeightVisitor& fn) {
  const WeightSpec ssm{Init::kByOwner, options_.ssm_lr_scale, false};
  fn("nu_log", nu_log_, g_nu_log_, ssm);
  fn("theta_log", theta_log_, g_theta_log_, ssm);
  fn("gamma_log", gamma_log_, g_gamma_log_, ssm);
  fn("b", b_, g_b_, ssm);
  fn("c", c_, g_c_, {Init::kByOwner, 1.0f, true});
  fn("d", d_, g_d_, {Init::kByOwner, 1.0f, false});
}

void LruMixer::InitParameters(uint64_t seed) {
  const int N = options_.state_size, H = shape_.d_model;
  const uint64_t s_ring = DeriveSeed(seed, 1), s_b = DeriveSeed(seed, 2),
                 s_c = DeriveSeed(seed, 3), s_d = DeriveSeed(seed, 4);
  const double r_min2 = static_cast<double>(options_.r_min) * options_.r_min;
  const double r_max2 = static_cast<double>(options_.r_max) * options_.r_max;
  for (int n = 0; n < N; ++n) {
    // Strictly inside (0, 1) so that the logs are finite.
    const double u1 = (UniformFloat(s_ring, 2 * n) + 0.5 / 16777216.0);
    const double u2 = (UniformFloat(s_ring, 2 * n + 1) + 0.5 / 16777216.0);
    const double nu = -0.5 * std::log(u1 * (r_max2 - r_min2) + r_min2);
    nu_log_[n] = static_cast<float>(std::log(nu));
    theta_log_[n] = static_cast<float>(std::log(options_.max_phase * u2));
    const double mod = std::exp(-nu);
    gamma_log_[n] = static_cast<float>(0.5 * std::log(1.0 - mod * mod));
  }
  // As the paper's code: each part of B normal with variance 1 / (2H), of C
  // with variance 1 / N.
  const double b_std = std::sqrt(1.0 / (2.0 * H));
  for (int64_t i = 0; i < b_.size(); ++i) {
    b_[i] = static_cast<float>(NormalDouble(s_b, i) * b_std);
  }
  const double c_std = std::sqrt(1.0 / N);
  for (int64_t i = 0; i < c_.size(); ++i) {
    c_[i] = static_cast<float>(NormalDouble(s_c, i) * c_std);
  }
  for (int h = 0; h < H; ++h) d_[h] = static_cast<float>(NormalDouble(s_d, h));
}

void LruMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int B = step.seqs, L = shape_.seq_len, H = shape_.d_model;
  const int N = options_.state_size;
  const int64_t M = static_cast<int64_t>(B) * L;
  seqs_ = B;
  std::memcpy(mask_.data(), step.key_mask, static_cast<size_t>(M));
  for (int64_t r = 0; r < M; ++r) {
    const float keep = mask_[r] ? 1.0f : 0.0f;
    for (int h = 0; h < H; ++h) u_[r * H + h] = keep * x[r * H + h];
  }
  for (int n = 0; n < N; ++n) {
    const Complex lam = std::exp(Complex(-std::exp(double{nu_log_[n]}),
                                         std::exp(double{theta_log_[n]})));
    lam_re_[n] = static_cast<float>(lam.real());
    lam_im_[n] = static_cast<float>(lam.imag());
    gam_[n] = static_cast<float>(std::exp(double{gamma_log_[n]}));
  }
  in_.Forward(u_.data(), b_.data(), nullptr, v_.data(), M);
  const int threads = std::min(threads_, omp_get_max_threads());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int n = 0; n < N; ++n) ScanForward(n);
  out_.Forward(s_.data(), c_.data(), nullptr, y, M);
  for (int64_t r = 0; r < M; ++r) {
    for (int h = 0; h < H; ++h) y[r * H + h] += d_[h] * u_[r * H + h];
  }
}

void LruMixer::ScanForward(int n) {
  const int L = shape_.seq_len, N = options_.state_size;
  const float lr = lam_re_[n], li = lam_im_[n], g = gam_[n];
  for (int b = 0; b < seqs_; ++b) {
    const float* v = v_.data() + static_cast<int64_t>(b) * L * 2 * N;
    float* s = s_.data() + static_cast<int64_t>(b) * L * width_;
    float sr = 0.0f, si = 0.0f;
    for (int t = 0; t < L; ++t) {
      const float vr = v[t * 2 * N + n], vi = v[t * 2 * N + N + n];
      const float nr = lr * sr - li * si + g * vr;
      const float ni = lr * si + li * sr + g * vi;
      sr = nr;
      si = ni;
      s[t * width_ + n] = sr;
      s[t * width_ + N + n] = si;
    }
    if (dirs_ < 2) continue;
    sr = si = 0.0f;
    for (int t = L - 1; t >= 0; --t) {
      s[t * width_ + 2 * N + n] = sr;  // z_{t+1}
      s[t * width_ + 3 * N + n] = si;
      const float vr = v[t * 2 * N + n], vi = v[t * 2 * N + N + n];
      const float nr = lr * sr - li * si + g * vr;
      const float ni = lr * si + li * sr + g * vi;
      sr = nr;
      si = ni;
    }
  }
}

void LruMixer::Backward(const float* dy, float* dx) {
  const int B = seqs_, L = shape_.seq_len, H = shape_.d_model;
  const int N = options_.state_size;
  const int64_t M = static_cast<int64_t>(B) * L;
  out_.BackwardParams(s_.data(), dy, g_c_.data(), nullptr, M);
  out_.BackwardInput(dy, c_.data(), d_s_.data(), M, false);
  for (int64_t r = 0; r < M; ++r) {
    for (int h = 0; h < H; ++h) {
      g_d_[h] += dy[r * H + h] * u_[r * H + h];
      du_[r * H + h] = dy[r * H + h] * d_[h];
    }
  }
  const int threads = std::min(threads_, omp_get_max_threads());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int n = 0; n < N; ++n) ScanBackward(n);
  in_.BackwardParams(u_.data(), d_v_.data(), g_b_.data(), nullptr, M);
  in_.BackwardInput(d_v_.data(), b_.data(), du_.data(), M, true);
  for (int64_t r = 0; r < M; ++r) {
    const float keep = mask_[r] ? 1.0f : 0.0f;
    for (int h = 0; h < H; ++h) dx[r * H + h] = keep * du_[r * H + h];
  }
}

// Adjoints in the real-gradient convention (gs = dL/dRe s + i dL/dIm s):
// s = lambda s' + gamma v gives gs' += conj(lambda) gs,
// g_lambda += conj(s') gs, gv = gamma gs, dL/dgamma += Re(conj(v) gs).
void LruMixer::ScanBackward(int n) {
  const int L = shape_.seq_len, N = options_.state_size;
  const float lr = lam_re_[n], li = lam_im_[n], g = gam_[n];
  double gl_re = 0.0, gl_im = 0.0, g_gamma = 0.0;
  for (int b = 0; b < seqs_; ++b) {
    const int64_t vb = static_cast<int64_t>(b) * L * 2 * N;
    const int64_t sb = static_cast<int64_t>(b) * L * width_;
    const float* v = v_.data() + vb;
    float* dv = d_v_.data() + vb;
    const float* s = s_.data() + sb;
    const float* ds = d_s_.data() + sb;
    float mr = 0.0f, mi = 0.0f;
    for (int t = L - 1; t >= 0; --t) {
      const float nr = ds[t * width_ + n] + lr * mr + li * mi;
      const float ni = ds[t * width_ + N + n] + lr * mi - li * mr;
      mr = nr;
      mi = ni;
      const float pr = t > 0 ? s[(t - 1) * width_ + n] : 0.0f;
      const float pi = t > 0 ? s[(t - 1) * width_ + N + n] : 0.0f;
      gl_re += pr * mr + pi * mi;
      gl_im += pr * mi - pi * mr;
      const float vr = v[t * 2 * N + n], vi = v[t * 2 * N + N + n];
      g_gamma += vr * mr + vi * mi;
      dv[t * 2 * N + n] = g * mr;
      dv[t * 2 * N + N + n] = g * mi;
    }
    if (dirs_ < 2) continue;
    mr = mi = 0.0f;
    for (int t = 0; t < L; ++t) {
      const float er = t > 0 ? ds[(t - 1) * width_ + 2 * N + n] : 0.0f;
      const float ei = t > 0 ? ds[(t - 1) * width_ + 3 * N + n] : 0.0f;
      const float nr = er + lr * mr + li * mi;
      const float ni = ei + lr * mi - li * mr;
      mr = nr;
      mi = ni;
      const float zr = s[t * width_ + 2 * N + n];  // z_{t+1}
      const float zi = s[t * width_ + 3 * N + n];
      gl_re += zr * mr + zi * mi;
      gl_im += zr * mi - zi * mr;
      const float vr = v[t * 2 * N + n], vi = v[t * 2 * N + N + n];
      g_gamma += vr * mr + vi * mi;
      dv[t * 2 * N + n] += g * mr;
      dv[t * 2 * N + N + n] += g * mi;
    }
  }
  // lambda = exp(w), w = -exp(nu_log) + i exp(theta_log).
  const Complex g_w = Complex(lr, -li) * Complex(gl_re, gl_im);
  g_nu_log_[n] +=
      static_cast<float>(-std::exp(double{nu_log_[n]}) * g_w.real());
  g_theta_log_[n] +=
      static_cast<float>(std::exp(double{theta_log_[n]}) * g_w.imag());
  g_gamma_log_[n] += static_cast<float>(g * g_gamma);
}

MixerPlugin LruMixer::Plugin() {
  MixerPlugin plugin;
  plugin.name = "lru";
  plugin.description =
      "Linear Recurrent Unit: complex diagonal recurrence, exponential "
      "parameterisation, gamma normalisation, ring init";
  plugin.params = {
      PluginParamSpec::Number("state_size", 64, "complex modes (N)"),
      PluginParamSpec::Flag("bidirectional", true,
                            "add an anti-causal recurrence with its own C"),
      PluginParamSpec::Number("r_min", 0.9, "smallest initial |lambda|"),
      PluginParamSpec::Number("r_max", 0.999, "largest initial |lambda|"),
      PluginParamSpec::Number("max_phase", 6.283185307,
                              "largest initial arg(lambda)"),
      PluginParamSpec::Number(
          "ssm_lr_scale", 0.5,
          "learning-rate multiplier of nu, theta, gamma, B (no weight decay)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.complexity = "O(N L) (scan)";
  plugin.factory =
      [](const PluginParams& params, const MixerShape& shape,
         const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    LruOptions o;
    ASSIGN_OR_RETURN(double state, params.Number("state_size"));
    ASSIGN_OR_RETURN(o.bidirectional, params.Flag("bidirectional"));
    ASSIGN_OR_RETURN(double r_min, params.Number("r_min"));
    ASSIGN_OR_RETURN(double r_max, params.Number("r_max"));
    ASSIGN_OR_RETURN(double max_phase, params.Number("max_phase"));
    ASSIGN_OR_RETURN(double lr_scale, params.Number("ssm_lr_scale"));
    if (state < 1 || state != std::floor(state)) {
      return absl::InvalidArgumentError(
          "mixer 'lru': state_size must be a positive integer");
    }
    if (!(r_min >= 0 && r_min <= r_max && r_max < 1)) {
      return absl::InvalidArgumentError(
          "mixer 'lru': need 0 <= r_min <= r_max < 1");
    }
    if (!(max_phase > 0 && lr_scale > 0)) {
      return absl::InvalidArgumentError(
          "mixer 'lru': max_phase and ssm_lr_scale must be positive");
    }
    o.state_size = static_cast<int>(state);
    o.r_min = static_cast<float>(r_min);
    o.r_max = static_cast<float>(r_max);
    o.max_phase = static_cast<float>(max_phase);
    o.ssm_lr_scale = static_cast<float>(lr_scale);
    return std::unique_ptr<TokenMixer>(std::make_unique<LruMixer>(shape, o));
  };
  plugin.test_cases = {
      {"small_ring",
       {NumberParam("state_size", 5), NumberParam("r_min", 0.4),
        NumberParam("r_max", 0.9)}},
      {"causal",
       {NumberParam("state_size", 3), FlagParam("bidirectional", false),
        NumberParam("r_min", 0.5), NumberParam("max_phase", 3.14)}},
  };
  return plugin;
}

}  // namespace lra
