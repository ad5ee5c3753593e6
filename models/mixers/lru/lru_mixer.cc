#include "models/mixers/lru/lru_mixer.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <memory>

#include "models/mixers/scan_lanes.h"
#include "models/mixers/scan_plugin.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

using Complex = std::complex<double>;

// Modes are the lanes of one AVX-512 vector: the recurrence of 16 modes of
// one sequence advances together (the state is shared by all channels, so
// the scans are small next to the projections).
using scan_lanes::AddToDouble;
using scan_lanes::kLanes;
using scan_lanes::LaneMask;
using scan_lanes::ZeroPaddedRows;

// Positions whose float sums are added into double at once.
constexpr int kChunk = 32;

// One block of 16 modes: its lane mask, first mode, and the real and
// imaginary parts of lambda and gamma loaded under the mask.
struct ModeBlock {
  __mmask16 mask;
  int first;
  __m512 lambda_re, lambda_im, gamma;
};

ModeBlock LoadModeBlock(const float* lambda_re, const float* lambda_im,
                        const float* gamma, int modes, int block) {
  const __mmask16 m = LaneMask(modes, block);
  const int n0 = block * kLanes;
  return {m, n0, _mm512_maskz_loadu_ps(m, lambda_re + n0),
          _mm512_maskz_loadu_ps(m, lambda_im + n0),
          _mm512_maskz_loadu_ps(m, gamma + n0)};
}

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
  ZeroPaddedRows(mask_.data(), M, H, x, u_.data());
  for (int n = 0; n < N; ++n) {
    const Complex lam = std::exp(Complex(-std::exp(double{nu_log_[n]}),
                                         std::exp(double{theta_log_[n]})));
    lam_re_[n] = static_cast<float>(lam.real());
    lam_im_[n] = static_cast<float>(lam.imag());
    gam_[n] = static_cast<float>(std::exp(double{gamma_log_[n]}));
  }
  in_.Forward(u_.data(), b_.data(), nullptr, v_.data(), M);
  const int threads = std::min(threads_, omp_get_max_threads());
  const int blocks = (N + kLanes - 1) / kLanes;
  const int tasks = B * dirs_ * blocks;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int task = 0; task < tasks; ++task) {
    ScanForward(task / (dirs_ * blocks), task / blocks % dirs_, task % blocks);
  }
  out_.Forward(s_.data(), c_.data(), nullptr, y, M);
  for (int64_t r = 0; r < M; ++r) {
    for (int h = 0; h < H; ++h) y[r * H + h] += d_[h] * u_[r * H + h];
  }
}

// One (sequence, direction, block of 16 modes): x_t = lambda x_{t-1} +
// gamma v_t forwards, or z_t = lambda z_{t+1} + gamma v_t backwards with
// z_{t+1} stored at row t.
void LruMixer::ScanForward(int b, int dir, int block) {
  const int L = shape_.seq_len, N = options_.state_size;
  const auto [m, n0, lr, li, ga] =
      LoadModeBlock(lam_re_.data(), lam_im_.data(), gam_.data(), N, block);
  const int64_t vrow = 2 * static_cast<int64_t>(N);
  const float* v = v_.data() + static_cast<int64_t>(b) * L * vrow + n0;
  float* s = s_.data() + static_cast<int64_t>(b) * L * width_ + n0 +
             static_cast<int64_t>(dir) * 2 * N;
  __m512 sr = _mm512_setzero_ps(), si = _mm512_setzero_ps();
  for (int i = 0; i < L; ++i) {
    const int t = dir == 0 ? i : L - 1 - i;
    const float* vt = v + t * vrow;
    float* st = s + t * width_;
    if (dir == 1) {
      _mm512_mask_storeu_ps(st, m, sr);  // z_{t+1}
      _mm512_mask_storeu_ps(st + N, m, si);
    }
    const __m512 gr = _mm512_mul_ps(ga, _mm512_maskz_loadu_ps(m, vt));
    const __m512 gi = _mm512_mul_ps(ga, _mm512_maskz_loadu_ps(m, vt + N));
    const __m512 nr = _mm512_fnmadd_ps(li, si, _mm512_fmadd_ps(lr, sr, gr));
    const __m512 ni = _mm512_fmadd_ps(li, sr, _mm512_fmadd_ps(lr, si, gi));
    sr = nr;
    si = ni;
    if (dir == 0) {
      _mm512_mask_storeu_ps(st, m, sr);
      _mm512_mask_storeu_ps(st + N, m, si);
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
  const int blocks = (N + kLanes - 1) / kLanes;
  // A block owns its modes' gradients, summed over the sequences in order:
  // the result does not depend on the number of threads.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int block = 0; block < blocks; ++block) ScanBackward(block);
  in_.BackwardParams(u_.data(), d_v_.data(), g_b_.data(), nullptr, M);
  in_.BackwardInput(d_v_.data(), b_.data(), du_.data(), M, true);
  ZeroPaddedRows(mask_.data(), M, H, du_.data(), dx);
}

// Adjoints in the real-gradient convention (gs = dL/dRe s + i dL/dIm s):
// s = lambda s' + gamma v gives gs' += conj(lambda) gs,
// g_lambda += conj(s') gs, gv = gamma gs, dL/dgamma += Re(conj(v) gs).
void LruMixer::ScanBackward(int block) {
  const int L = shape_.seq_len, N = options_.state_size;
  const auto [m, n0, lr, li, ga] =
      LoadModeBlock(lam_re_.data(), lam_im_.data(), gam_.data(), N, block);
  const int64_t vrow = 2 * static_cast<int64_t>(N);
  // Sums over positions and sequences: Re, Im of g_lambda; g_gamma / gamma.
  double sums[3][kLanes] = {};
  for (int b = 0; b < seqs_; ++b) {
    const float* v = v_.data() + static_cast<int64_t>(b) * L * vrow + n0;
    float* dv = d_v_.data() + static_cast<int64_t>(b) * L * vrow + n0;
    for (int dir = 0; dir < dirs_; ++dir) {
      const int64_t col = n0 + static_cast<int64_t>(dir) * 2 * N;
      const float* s = s_.data() + static_cast<int64_t>(b) * L * width_ + col;
      const float* ds =
          d_s_.data() + static_cast<int64_t>(b) * L * width_ + col;
      __m512 mr = _mm512_setzero_ps(), mi = _mm512_setzero_ps();
      for (int c0 = 0; c0 < L; c0 += kChunk) {
        __m512 lam_re = _mm512_setzero_ps(), lam_im = _mm512_setzero_ps();
        __m512 gam = _mm512_setzero_ps();
        for (int i = c0; i < std::min(L, c0 + kChunk); ++i) {
          // The forward state runs the adjoint backwards in t and reads
          // x_{t-1}; the backward state (z_{t+1} stored at row t) runs it
          // forwards: z_t is read by y_{t-1}, its previous state is z_{t+1}.
          const int t = dir == 0 ? L - 1 - i : i;
          __m512 er, ei, pr, pi;
          if (dir == 0) {
            er = _mm512_maskz_loadu_ps(m, ds + t * width_);
            ei = _mm512_maskz_loadu_ps(m, ds + t * width_ + N);
            pr = t > 0 ? _mm512_maskz_loadu_ps(m, s + (t - 1) * width_)
                       : _mm512_setzero_ps();
            pi = t > 0 ? _mm512_maskz_loadu_ps(m, s + (t - 1) * width_ + N)
                       : _mm512_setzero_ps();
          } else {
            er = t > 0 ? _mm512_maskz_loadu_ps(m, ds + (t - 1) * width_)
                       : _mm512_setzero_ps();
            ei = t > 0 ? _mm512_maskz_loadu_ps(m, ds + (t - 1) * width_ + N)
                       : _mm512_setzero_ps();
            pr = _mm512_maskz_loadu_ps(m, s + t * width_);
            pi = _mm512_maskz_loadu_ps(m, s + t * width_ + N);
          }
          const __m512 nr =
              _mm512_fmadd_ps(li, mi, _mm512_fmadd_ps(lr, mr, er));
          const __m512 ni =
              _mm512_fnmadd_ps(li, mr, _mm512_fmadd_ps(lr, mi, ei));
          mr = nr;
          mi = ni;
          lam_re = _mm512_fmadd_ps(pi, mi, _mm512_fmadd_ps(pr, mr, lam_re));
          lam_im = _mm512_fnmadd_ps(pi, mr, _mm512_fmadd_ps(pr, mi, lam_im));
          const float* vt = v + t * vrow;
          const __m512 vr = _mm512_maskz_loadu_ps(m, vt);
          const __m512 vi = _mm512_maskz_loadu_ps(m, vt + N);
          gam = _mm512_fmadd_ps(vi, mi, _mm512_fmadd_ps(vr, mr, gam));
          float* dvt = dv + t * vrow;
          __m512 dr = _mm512_mul_ps(ga, mr), di = _mm512_mul_ps(ga, mi);
          if (dir == 1) {
            dr = _mm512_add_ps(dr, _mm512_maskz_loadu_ps(m, dvt));
            di = _mm512_add_ps(di, _mm512_maskz_loadu_ps(m, dvt + N));
          }
          _mm512_mask_storeu_ps(dvt, m, dr);
          _mm512_mask_storeu_ps(dvt + N, m, di);
        }
        AddToDouble(lam_re, sums[0]);
        AddToDouble(lam_im, sums[1]);
        AddToDouble(gam, sums[2]);
      }
    }
  }
  for (int n = n0; n < std::min(N, n0 + kLanes); ++n) {
    const int lane = n - n0;
    const double lam_r = lam_re_[n], lam_i = lam_im_[n];
    // lambda = exp(w), w = -exp(nu_log) + i exp(theta_log).
    const Complex g_w =
        Complex(lam_r, -lam_i) * Complex(sums[0][lane], sums[1][lane]);
    g_nu_log_[n] +=
        static_cast<float>(-std::exp(double{nu_log_[n]}) * g_w.real());
    g_theta_log_[n] +=
        static_cast<float>(std::exp(double{theta_log_[n]}) * g_w.imag());
    g_gamma_log_[n] += static_cast<float>(gam_[n] * sums[2][lane]);
  }
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
  // Per real position: B u ([D] x [D, 2N] real) and the readout
  // ([dirs 2N] x [dirs 2N, D]) are the projections; the recurrence
  // x = lambda x + gamma v, per mode and direction, is 6 multiply-adds
  // (12 FLOPs), shared by all channels. D u is elementwise.
  plugin.flops = ScanFlops([](const ScanSize& size, int n) {
    ForwardFlops flops;
    flops.projections =
        2.0 * n * size.d_model * 2 * size.state_size * (1 + size.dirs);
    flops.core = 12.0 * n * size.state_size * size.dirs;
    return flops;
  });
  plugin.factory =
      [](const PluginParams& params, const MixerShape& shape,
         const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    ASSIGN_OR_RETURN(const ScanParams scan, ReadScanParams(params, "lru"));
    ASSIGN_OR_RETURN(double r_min, params.Number("r_min"));
    ASSIGN_OR_RETURN(double r_max, params.Number("r_max"));
    ASSIGN_OR_RETURN(double max_phase, params.Number("max_phase"));
    if (!(r_min >= 0 && r_min <= r_max && r_max < 1)) {
      return absl::InvalidArgumentError(
          "mixer 'lru': need 0 <= r_min <= r_max < 1");
    }
    if (!(max_phase > 0)) {
      return absl::InvalidArgumentError(
          "mixer 'lru': max_phase must be positive");
    }
    LruOptions o;
    o.state_size = scan.state_size;
    o.bidirectional = scan.bidirectional;
    o.r_min = static_cast<float>(r_min);
    o.r_max = static_cast<float>(r_max);
    o.max_phase = static_cast<float>(max_phase);
    o.ssm_lr_scale = scan.ssm_lr_scale;
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
