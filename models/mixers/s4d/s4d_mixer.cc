#include "models/mixers/s4d/s4d_mixer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <memory>

#include "models/layers.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

using Complex = std::complex<double>;

int64_t WorkFloatsPerThread(int seq_len, int state) {
  return 2 * static_cast<int64_t>(seq_len + 1) * state + 10 * state;
}

}  // namespace

S4dMixer::S4dMixer(const MixerShape& shape, const S4dOptions& options)
    : shape_(shape),
      options_(options),
      dirs_(options.bidirectional ? 2 : 1),
      threads_(std::max(1, omp_get_max_threads())),
      w_(shape.d_model, options.state_size, dirs_),
      g_(shape.d_model, options.state_size, dirs_),
      out_(shape.d_model, shape.d_model),
      mask_(static_cast<size_t>(shape.max_seqs) * shape.seq_len),
      u_({shape.max_seqs, shape.seq_len, shape.d_model}),
      pre_({shape.max_seqs, shape.seq_len, shape.d_model}),
      act_({shape.max_seqs, shape.seq_len, shape.d_model}),
      a_re_({shape.d_model, options.state_size}),
      a_im_({shape.d_model, options.state_size}),
      bb_re_({shape.d_model, options.state_size}),
      bb_im_({shape.d_model, options.state_size}),
      d_act_({shape.max_seqs, shape.seq_len, shape.d_model}),
      du_({shape.max_seqs, shape.seq_len, shape.d_model}),
      work_(
          {threads_, WorkFloatsPerThread(shape.seq_len, options.state_size)}) {}

void S4dMixer::ForEachWeight(const WeightVisitor& fn) {
  const WeightSpec ssm{Init::kByOwner, options_.ssm_lr_scale, false};
  const WeightSpec plain{Init::kByOwner, 1.0f, true};
  // D and the output bias are vectors: no decay, as LRA's other biases.
  const WeightSpec vector{Init::kByOwner, 1.0f, false};
  fn("log_dt", w_.log_dt, g_.log_dt, ssm);
  fn("log_a_real", w_.log_a_real, g_.log_a_real, ssm);
  fn("a_imag", w_.a_imag, g_.a_imag, ssm);
  fn("b", w_.b, g_.b, ssm);
  fn("c", w_.c, g_.c, plain);
  fn("d", w_.d, g_.d, vector);
  fn("w_out", w_.w_out, g_.w_out, plain);
  fn("b_out", w_.b_out, g_.b_out, vector);
}

void S4dMixer::InitParameters(uint64_t seed) {
  const int H = shape_.d_model, N = options_.state_size;
  const double lo = std::log(options_.dt_min), hi = std::log(options_.dt_max);
  const uint64_t s_dt = DeriveSeed(seed, 1), s_c = DeriveSeed(seed, 2),
                 s_d = DeriveSeed(seed, 3), s_w = DeriveSeed(seed, 4);
  for (int h = 0; h < H; ++h) {
    w_.log_dt[h] = static_cast<float>(lo + UniformFloat(s_dt, h) * (hi - lo));
    w_.d[h] = static_cast<float>(NormalDouble(s_d, h));
    w_.b_out[h] = 0.0f;
    for (int n = 0; n < N; ++n) {
      const int64_t i = static_cast<int64_t>(h) * N + n;
      w_.log_a_real[i] = std::log(0.5f);
      w_.a_imag[i] = static_cast<float>(M_PI * n);
      w_.b[2 * i] = 1.0f;
      w_.b[2 * i + 1] = 0.0f;
    }
  }
  // Complex normal of variance 1: each part normal(0, 1/2).
  for (int64_t i = 0; i < w_.c.size(); ++i) {
    w_.c[i] = static_cast<float>(NormalDouble(s_c, i) * M_SQRT1_2);
  }
  const double limit = std::sqrt(6.0 / (2.0 * H));
  for (int64_t i = 0; i < w_.w_out.size(); ++i) {
    w_.w_out[i] =
        static_cast<float>((2.0 * UniformFloat(s_w, i) - 1.0) * limit);
  }
}

void S4dMixer::Discretise() {
  const int H = shape_.d_model, N = options_.state_size;
  for (int h = 0; h < H; ++h) {
    const double dt = std::exp(static_cast<double>(w_.log_dt[h]));
    for (int n = 0; n < N; ++n) {
      const int64_t i = static_cast<int64_t>(h) * N + n;
      const Complex A(-std::exp(static_cast<double>(w_.log_a_real[i])),
                      w_.a_imag[i]);
      const Complex a = std::exp(dt * A);
      const Complex bb = (a - 1.0) / A * Complex(w_.b[2 * i], w_.b[2 * i + 1]);
      a_re_[i] = static_cast<float>(a.real());
      a_im_[i] = static_cast<float>(a.imag());
      bb_re_[i] = static_cast<float>(bb.real());
      bb_im_[i] = static_cast<float>(bb.imag());
    }
  }
}

void S4dMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int B = step.seqs, L = shape_.seq_len, H = shape_.d_model;
  seqs_ = B;
  std::memcpy(mask_.data(), step.key_mask, static_cast<size_t>(B) * L);
  for (int64_t r = 0; r < static_cast<int64_t>(B) * L; ++r) {
    const float keep = mask_[r] ? 1.0f : 0.0f;
    for (int h = 0; h < H; ++h) u_[r * H + h] = keep * x[r * H + h];
  }
  Discretise();
  const int threads = std::min(threads_, omp_get_max_threads());
  const int64_t per_thread = work_.size() / threads_;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int h = 0; h < H; ++h) {
    ForwardChannel(h, work_.data() + omp_get_thread_num() * per_thread);
  }
  GeluForward(pre_.data(), static_cast<int64_t>(B) * L * H, act_.data());
  out_.Forward(act_.data(), w_.w_out.data(), w_.b_out.data(), y,
               static_cast<int64_t>(B) * L);
}

void S4dMixer::ForwardChannel(int h, float* state) {
  const int L = shape_.seq_len, H = shape_.d_model, N = options_.state_size;
  const float* a_re = a_re_.data() + static_cast<int64_t>(h) * N;
  const float* a_im = a_im_.data() + static_cast<int64_t>(h) * N;
  const float* bb_re = bb_re_.data() + static_cast<int64_t>(h) * N;
  const float* bb_im = bb_im_.data() + static_cast<int64_t>(h) * N;
  const float* c0 = w_.c.data() + static_cast<int64_t>(h) * N * 2;
  const float* c1 = w_.c.data() + (static_cast<int64_t>(H) + h) * N * 2;
  const float d = w_.d[h];
  float* s_re = state;      // [N]
  float* s_im = state + N;  // [N]
  for (int b = 0; b < seqs_; ++b) {
    const float* u = u_.data() + static_cast<int64_t>(b) * L * H + h;
    float* pre = pre_.data() + static_cast<int64_t>(b) * L * H + h;
    std::fill(state, state + 2 * N, 0.0f);
    for (int t = 0; t < L; ++t) {
      const float ut = u[static_cast<int64_t>(t) * H];
      float acc = 0.0f;
      for (int n = 0; n < N; ++n) {
        const float re = a_re[n] * s_re[n] - a_im[n] * s_im[n] + bb_re[n] * ut;
        const float im = a_re[n] * s_im[n] + a_im[n] * s_re[n] + bb_im[n] * ut;
        s_re[n] = re;
        s_im[n] = im;
        acc += c0[2 * n] * re - c0[2 * n + 1] * im;
      }
      pre[static_cast<int64_t>(t) * H] = 2.0f * acc + d * ut;
    }
    if (dirs_ < 2) continue;
    // Backward direction: s holds z_{t+1} when position t reads it.
    std::fill(state, state + 2 * N, 0.0f);
    for (int t = L - 1; t >= 0; --t) {
      const float ut = u[static_cast<int64_t>(t) * H];
      float acc = 0.0f;
      for (int n = 0; n < N; ++n) {
        acc += c1[2 * n] * s_re[n] - c1[2 * n + 1] * s_im[n];
        const float re = a_re[n] * s_re[n] - a_im[n] * s_im[n] + bb_re[n] * ut;
        const float im = a_re[n] * s_im[n] + a_im[n] * s_re[n] + bb_im[n] * ut;
        s_re[n] = re;
        s_im[n] = im;
      }
      pre[static_cast<int64_t>(t) * H] += 2.0f * acc;
    }
  }
}

void S4dMixer::Backward(const float* dy, float* dx) {
  const int B = seqs_, L = shape_.seq_len, H = shape_.d_model;
  const int64_t M = static_cast<int64_t>(B) * L;
  out_.BackwardParams(act_.data(), dy, g_.w_out.data(), g_.b_out.data(), M);
  out_.BackwardInput(dy, w_.w_out.data(), d_act_.data(), M, false);
  GeluBackward(pre_.data(), d_act_.data(), M * H, d_act_.data());
  const int threads = std::min(threads_, omp_get_max_threads());
  const int64_t per_thread = work_.size() / threads_;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int h = 0; h < H; ++h) {
    BackwardChannel(h, d_act_.data(), du_.data(),
                    work_.data() + omp_get_thread_num() * per_thread);
  }
  for (int64_t r = 0; r < M; ++r) {
    const float keep = mask_[r] ? 1.0f : 0.0f;
    for (int h = 0; h < H; ++h) dx[r * H + h] = keep * du_[r * H + h];
  }
}

// Adjoints in the real-gradient convention: for a complex quantity s,
// gs = dL/dRe(s) + i dL/dIm(s). Then s = a s' + w gives gs' += conj(a) gs,
// ga += conj(s') gs, gw = gs; y = 2 Re(c s) gives gs = 2 g conj(c),
// gc = 2 g conj(s).
void S4dMixer::BackwardChannel(int h, const float* g, float* du, float* work) {
  const int L = shape_.seq_len, H = shape_.d_model, N = options_.state_size;
  const int64_t hn = static_cast<int64_t>(h) * N;
  const float* a_re = a_re_.data() + hn;
  const float* a_im = a_im_.data() + hn;
  const float* bb_re = bb_re_.data() + hn;
  const float* bb_im = bb_im_.data() + hn;
  const float* c0 = w_.c.data() + hn * 2;
  const float* c1 = w_.c.data() + (static_cast<int64_t>(H) * N + hn) * 2;
  const float d = w_.d[h];
  // Slot t of s holds z_t (backward state) and then x_t (forward state).
  float* s_re = work;                                       // [L + 1, N]
  float* s_im = work + static_cast<int64_t>(L + 1) * N;     // [L + 1, N]
  float* acc = work + 2 * static_cast<int64_t>(L + 1) * N;  // [10, N]
  float *ga_re = acc, *ga_im = acc + N, *gbb_re = acc + 2 * N,
        *gbb_im = acc + 3 * N, *gc0_re = acc + 4 * N, *gc0_im = acc + 5 * N,
        *gc1_re = acc + 6 * N, *gc1_im = acc + 7 * N, *m_re = acc + 8 * N,
        *m_im = acc + 9 * N;
  std::fill(acc, acc + 8 * N, 0.0f);
  double gd = 0.0;
  for (int b = 0; b < seqs_; ++b) {
    const int64_t base = static_cast<int64_t>(b) * L * H + h;
    const float* u = u_.data() + base;
    const float* gb = g + base;
    float* dub = du + base;
    for (int t = 0; t < L; ++t) {
      const int64_t i = static_cast<int64_t>(t) * H;
      dub[i] = d * gb[i];
      gd += static_cast<double>(gb[i]) * u[i];
    }
    if (dirs_ == 2) {
      std::fill(s_re + static_cast<int64_t>(L) * N,
                s_re + static_cast<int64_t>(L + 1) * N, 0.0f);
      std::fill(s_im + static_cast<int64_t>(L) * N,
                s_im + static_cast<int64_t>(L + 1) * N, 0.0f);
      for (int t = L - 1; t >= 0; --t) {
        const float ut = u[static_cast<int64_t>(t) * H];
        const float* nr = s_re + static_cast<int64_t>(t + 1) * N;
        const float* ni = s_im + static_cast<int64_t>(t + 1) * N;
        float* zr = s_re + static_cast<int64_t>(t) * N;
        float* zi = s_im + static_cast<int64_t>(t) * N;
        for (int n = 0; n < N; ++n) {
          zr[n] = a_re[n] * nr[n] - a_im[n] * ni[n] + bb_re[n] * ut;
          zi[n] = a_re[n] * ni[n] + a_im[n] * nr[n] + bb_im[n] * ut;
        }
      }
      // Adjoint of z in increasing t (z_t is read by y_{t-1}), and the
      // forward states x_t written over z_t once it is used.
      std::fill(m_re, m_re + 2 * N, 0.0f);
      for (int t = 0; t < L; ++t) {
        const int64_t i = static_cast<int64_t>(t) * H;
        const float ut = u[i];
        const float gt = gb[i];
        const float gprev = t > 0 ? gb[i - H] : 0.0f;
        const float* zr = s_re + static_cast<int64_t>(t + 1) * N;
        const float* zi = s_im + static_cast<int64_t>(t + 1) * N;
        float* xr = s_re + static_cast<int64_t>(t) * N;
        float* xi = s_im + static_cast<int64_t>(t) * N;
        float dsum = 0.0f;
        for (int n = 0; n < N; ++n) {
          const float vr =
              2.0f * c1[2 * n] * gprev + a_re[n] * m_re[n] + a_im[n] * m_im[n];
          const float vi = -2.0f * c1[2 * n + 1] * gprev + a_re[n] * m_im[n] -
                           a_im[n] * m_re[n];
          m_re[n] = vr;
          m_im[n] = vi;
          ga_re[n] += zr[n] * vr + zi[n] * vi;
          ga_im[n] += zr[n] * vi - zi[n] * vr;
          gbb_re[n] += ut * vr;
          gbb_im[n] += ut * vi;
          dsum += bb_re[n] * vr + bb_im[n] * vi;
          gc1_re[n] += 2.0f * gt * zr[n];
          gc1_im[n] -= 2.0f * gt * zi[n];
          const float pr = t > 0 ? xr[n - N] : 0.0f;
          const float pi = t > 0 ? xi[n - N] : 0.0f;
          xr[n] = a_re[n] * pr - a_im[n] * pi + bb_re[n] * ut;
          xi[n] = a_re[n] * pi + a_im[n] * pr + bb_im[n] * ut;
        }
        dub[i] += dsum;
      }
    } else {
      for (int t = 0; t < L; ++t) {
        const float ut = u[static_cast<int64_t>(t) * H];
        float* xr = s_re + static_cast<int64_t>(t) * N;
        float* xi = s_im + static_cast<int64_t>(t) * N;
        for (int n = 0; n < N; ++n) {
          const float pr = t > 0 ? xr[n - N] : 0.0f;
          const float pi = t > 0 ? xi[n - N] : 0.0f;
          xr[n] = a_re[n] * pr - a_im[n] * pi + bb_re[n] * ut;
          xi[n] = a_re[n] * pi + a_im[n] * pr + bb_im[n] * ut;
        }
      }
    }
    // Adjoint of x in decreasing t.
    std::fill(m_re, m_re + 2 * N, 0.0f);
    for (int t = L - 1; t >= 0; --t) {
      const int64_t i = static_cast<int64_t>(t) * H;
      const float ut = u[i];
      const float gt = gb[i];
      const float* xr = s_re + static_cast<int64_t>(t) * N;
      const float* xi = s_im + static_cast<int64_t>(t) * N;
      float dsum = 0.0f;
      for (int n = 0; n < N; ++n) {
        const float mr =
            2.0f * c0[2 * n] * gt + a_re[n] * m_re[n] + a_im[n] * m_im[n];
        const float mi =
            -2.0f * c0[2 * n + 1] * gt + a_re[n] * m_im[n] - a_im[n] * m_re[n];
        m_re[n] = mr;
        m_im[n] = mi;
        const float pr = t > 0 ? xr[n - N] : 0.0f;
        const float pi = t > 0 ? xi[n - N] : 0.0f;
        ga_re[n] += pr * mr + pi * mi;
        ga_im[n] += pr * mi - pi * mr;
        gbb_re[n] += ut * mr;
        gbb_im[n] += ut * mi;
        dsum += bb_re[n] * mr + bb_im[n] * mi;
        gc0_re[n] += 2.0f * gt * xr[n];
        gc0_im[n] -= 2.0f * gt * xi[n];
      }
      dub[i] += dsum;
    }
  }
  // Through the discretisation: a = exp(dt A), bb = (a - 1) / A * B.
  const double dt = std::exp(static_cast<double>(w_.log_dt[h]));
  double gdt = 0.0;
  for (int n = 0; n < N; ++n) {
    const int64_t i = hn + n;
    const double exp_re = std::exp(static_cast<double>(w_.log_a_real[i]));
    const Complex A(-exp_re, w_.a_imag[i]);
    const Complex a = std::exp(dt * A);
    const Complex Bn(w_.b[2 * i], w_.b[2 * i + 1]);
    const Complex g_bb(gbb_re[n], gbb_im[n]);
    const Complex g_a = Complex(ga_re[n], ga_im[n]) + std::conj(Bn / A) * g_bb;
    const Complex g_B = std::conj((a - 1.0) / A) * g_bb;
    const Complex g_za = std::conj(a) * g_a;
    const Complex g_A = std::conj(-(a - 1.0) * Bn / (A * A)) * g_bb + dt * g_za;
    gdt += (std::conj(A) * g_za).real();
    g_.log_a_real[i] += static_cast<float>(-exp_re * g_A.real());
    g_.a_imag[i] += static_cast<float>(g_A.imag());
    g_.b[2 * i] += static_cast<float>(g_B.real());
    g_.b[2 * i + 1] += static_cast<float>(g_B.imag());
    g_.c[2 * i] += gc0_re[n];
    g_.c[2 * i + 1] += gc0_im[n];
    if (dirs_ == 2) {
      const int64_t j = static_cast<int64_t>(H) * N + i;
      g_.c[2 * j] += gc1_re[n];
      g_.c[2 * j + 1] += gc1_im[n];
    }
  }
  g_.log_dt[h] += static_cast<float>(dt * gdt);
  g_.d[h] += static_cast<float>(gd);
}

MixerPlugin S4dMixer::Plugin() {
  MixerPlugin plugin;
  plugin.name = "s4d";
  plugin.description =
      "S4D diagonal state space layer (S4D-Lin init), bidirectional scan, "
      "GELU and output projection";
  plugin.params = {
      PluginParamSpec::Number("state_size", 64,
                              "complex modes per channel (N)"),
      PluginParamSpec::Flag("bidirectional", true,
                            "add an anti-causal kernel with its own C"),
      PluginParamSpec::Number("dt_min", 0.001, "smallest initial step"),
      PluginParamSpec::Number("dt_max", 0.1, "largest initial step"),
      PluginParamSpec::Number(
          "ssm_lr_scale", 0.1,
          "learning-rate multiplier of step, A and B (no weight decay)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.complexity = "O(N L) per channel (scan)";
  plugin.factory =
      [](const PluginParams& params, const MixerShape& shape,
         const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    S4dOptions options;
    ASSIGN_OR_RETURN(double state, params.Number("state_size"));
    ASSIGN_OR_RETURN(options.bidirectional, params.Flag("bidirectional"));
    ASSIGN_OR_RETURN(double dt_min, params.Number("dt_min"));
    ASSIGN_OR_RETURN(double dt_max, params.Number("dt_max"));
    ASSIGN_OR_RETURN(double lr_scale, params.Number("ssm_lr_scale"));
    if (state < 1 || state != std::floor(state)) {
      return absl::InvalidArgumentError(
          "mixer 's4d': state_size must be a positive integer");
    }
    if (!(dt_min > 0 && dt_max >= dt_min)) {
      return absl::InvalidArgumentError(
          "mixer 's4d': need 0 < dt_min <= dt_max");
    }
    if (!(lr_scale > 0)) {
      return absl::InvalidArgumentError(
          "mixer 's4d': ssm_lr_scale must be positive");
    }
    options.state_size = static_cast<int>(state);
    options.dt_min = static_cast<float>(dt_min);
    options.dt_max = static_cast<float>(dt_max);
    options.ssm_lr_scale = static_cast<float>(lr_scale);
    return std::unique_ptr<TokenMixer>(
        std::make_unique<S4dMixer>(shape, options));
  };
  plugin.test_cases = {
      {"bidirectional", {NumberParam("state_size", 4)}},
      {"causal",
       {NumberParam("state_size", 3), FlagParam("bidirectional", false)}},
  };
  return plugin;
}

}  // namespace lra
