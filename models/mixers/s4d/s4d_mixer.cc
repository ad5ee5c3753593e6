#include "models/mixers/s4d/s4d_mixer.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <memory>

#include "models/layers.h"
#include "models/mixers/scan_lanes.h"
#include "models/mixers/scan_plugin.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

using Complex = std::complex<double>;

// Channels are the lanes of one AVX-512 vector: 16 channels of one sequence
// advance together, each with its own a and c~, and the innermost work per
// position is over a group of modes held in registers.
using scan_lanes::AddToDouble;
using scan_lanes::kLanes;
using scan_lanes::LaneMask;
using scan_lanes::ZeroPaddedRows;

// Modes per forward pass and per backward recompute (their recurrences are
// independent chains that hide the FMA latency); the adjoint runs pairs.
constexpr int kGroup = 4;
// Positions between the backward pass's checkpoints: a chunk's states are
// recomputed into a buffer of kChunk * kGroup * 2 vectors (16 KiB, in L1).
constexpr int kChunk = 32;
// Floats of one group's states: [kGroup][re | im][16].
constexpr int kGroupFloats = kGroup * 2 * kLanes;
// Sums kept per mode: Re G, Im G, Re P, Im P.
constexpr int kSums = 4;
// Rows of vec_ per block: Re a, Im a, Re c~0, Im c~0, Re c~1, Im c~1.
constexpr int kKinds = 6;

// Positions of one time tile: every mode group of a (sequence, channel
// block) runs over a tile before the next tile, so that the tile's rows of
// u, y (and g, du) stay in L2 however long the sequence (their rows are H
// floats apart: a whole sequence's rows would not fit).
constexpr int kTile = 256;
static_assert(kTile % kChunk == 0, "tiles are whole chunks");

// Per-thread floats: checkpoints of every group, one chunk of recomputed
// states, and every group's carried state (Forward) or adjoint (Backward).
int64_t WorkFloatsPerThread(int groups, int chunks) {
  return (static_cast<int64_t>(groups) * (chunks + 1) + kChunk + groups) *
         kGroupFloats;
}

// One complex mode of 16 channels in registers: its a, its readout c and
// its state s. (Named members, not arrays: gcc keeps arrays of vectors on
// the stack and stores them at every position.)
struct Mode {
  __m512 a_re, a_im, c_re, c_im, s_re, s_im;
};

// Mode k of a group: a and c from [kGroup][16] rows (c may be null: unused),
// s from [kGroup][re | im][16] (null: zero).
inline Mode LoadMode(const float* ar, const float* ai, const float* cr,
                     const float* ci, const float* s, int k) {
  Mode q;
  q.a_re = _mm512_loadu_ps(ar + k * kLanes);
  q.a_im = _mm512_loadu_ps(ai + k * kLanes);
  q.c_re = cr ? _mm512_loadu_ps(cr + k * kLanes) : _mm512_setzero_ps();
  q.c_im = ci ? _mm512_loadu_ps(ci + k * kLanes) : _mm512_setzero_ps();
  q.s_re = s ? _mm512_loadu_ps(s + 2 * k * kLanes) : _mm512_setzero_ps();
  q.s_im = s ? _mm512_loadu_ps(s + (2 * k + 1) * kLanes) : _mm512_setzero_ps();
  return q;
}

inline void StoreState(const Mode& q, float* s, int k) {
  _mm512_storeu_ps(s + 2 * k * kLanes, q.s_re);
  _mm512_storeu_ps(s + (2 * k + 1) * kLanes, q.s_im);
}

// x <- a x + u for complex a and x and real u, or with kConj
// x <- conj(a) x + u: the recurrence and its adjoint.
template <bool kConj>
inline void MulAddReal(__m512 a_re, __m512 a_im, __m512 u, __m512& x_re,
                       __m512& x_im) {
  const __m512 re = _mm512_fmadd_ps(a_re, x_re, u);
  const __m512 im = _mm512_mul_ps(a_re, x_im);
  const __m512 nr = kConj ? _mm512_fmadd_ps(a_im, x_im, re)
                          : _mm512_fnmadd_ps(a_im, x_im, re);
  x_im = kConj ? _mm512_fnmadd_ps(a_im, x_re, im)
               : _mm512_fmadd_ps(a_im, x_re, im);
  x_re = nr;
}

// s <- a s + u (u real).
inline void Update(Mode& q, __m512 uv) {
  MulAddReal<false>(q.a_re, q.a_im, uv, q.s_re, q.s_im);
}

// acc0 + acc1 += Re(c s).
inline void Read(const Mode& q, __m512& acc0, __m512& acc1) {
  acc0 = _mm512_fmadd_ps(q.c_re, q.s_re, acc0);
  acc1 = _mm512_fnmadd_ps(q.c_im, q.s_im, acc1);
}

// One direction of the scan over one (sequence, channel block), kGroup
// modes, positions [t0, t1) of the direction's time order:
// s_t = a s_{t-1} + u_t (complex per lane, u real), and
// y_t += Re(sum_k c_k s_{t-shift,k}). Position t is at u + t * stride
// (stride -H walks a sequence backwards for the anti-causal kernel).
// ar, ai, cr, ci point at [kGroup][16]; state ([kGroup][re | im][16])
// carries s from tile to tile.
template <bool kShift>
void ForwardGroup(const float* u, float* y, int64_t stride, int t0, int t1,
                  __mmask16 m, const float* ar, const float* ai,
                  const float* cr, const float* ci, float* state) {
  static_assert(kGroup == 4, "the loop below names four modes");
  Mode q0 = LoadMode(ar, ai, cr, ci, state, 0);
  Mode q1 = LoadMode(ar, ai, cr, ci, state, 1);
  Mode q2 = LoadMode(ar, ai, cr, ci, state, 2);
  Mode q3 = LoadMode(ar, ai, cr, ci, state, 3);
  u += t0 * stride;
  y += t0 * stride;
  for (int t = t0; t < t1; ++t, u += stride, y += stride) {
    const __m512 uv = _mm512_maskz_loadu_ps(m, u);
    __m512 acc0 = _mm512_maskz_loadu_ps(m, y);
    __m512 acc1 = _mm512_setzero_ps();
    if (kShift) {
      Read(q0, acc0, acc1);
      Read(q1, acc0, acc1);
      Read(q2, acc0, acc1);
      Read(q3, acc0, acc1);
    }
    Update(q0, uv);
    Update(q1, uv);
    Update(q2, uv);
    Update(q3, uv);
    if (!kShift) {
      Read(q0, acc0, acc1);
      Read(q1, acc0, acc1);
      Read(q2, acc0, acc1);
      Read(q3, acc0, acc1);
    }
    _mm512_mask_storeu_ps(y, m, _mm512_add_ps(acc0, acc1));
  }
  StoreState(q0, state, 0);
  StoreState(q1, state, 1);
  StoreState(q2, state, 2);
  StoreState(q3, state, 3);
}

// Advances kGroup states ([kGroup][re | im][16], from `in`) over positions
// [t0, t1): s_t = a s_{t-1} + u_t. Writes the last state to `out` when set
// and, when `buf` is set, every s_t to buf[t - t0].
void Advance(const float* u, int64_t stride, int t0, int t1, __mmask16 m,
             const float* ar, const float* ai, const float* in, float* out,
             float* buf) {
  static_assert(kGroup == 4, "the loop below names four modes");
  Mode q0 = LoadMode(ar, ai, nullptr, nullptr, in, 0);
  Mode q1 = LoadMode(ar, ai, nullptr, nullptr, in, 1);
  Mode q2 = LoadMode(ar, ai, nullptr, nullptr, in, 2);
  Mode q3 = LoadMode(ar, ai, nullptr, nullptr, in, 3);
  u += t0 * stride;
  if (buf != nullptr) {
    for (int t = t0; t < t1; ++t, u += stride, buf += kGroupFloats) {
      const __m512 uv = _mm512_maskz_loadu_ps(m, u);
      Update(q0, uv);
      Update(q1, uv);
      Update(q2, uv);
      Update(q3, uv);
      StoreState(q0, buf, 0);
      StoreState(q1, buf, 1);
      StoreState(q2, buf, 2);
      StoreState(q3, buf, 3);
    }
  } else {
    for (int t = t0; t < t1; ++t, u += stride) {
      const __m512 uv = _mm512_maskz_loadu_ps(m, u);
      Update(q0, uv);
      Update(q1, uv);
      Update(q2, uv);
      Update(q3, uv);
    }
  }
  if (out != nullptr) {
    StoreState(q0, out, 0);
    StoreState(q1, out, 1);
    StoreState(q2, out, 2);
    StoreState(q3, out, 3);
  }
}

// The adjoint state of one mode: a, c, mu and the chunk's sums G and P.
struct Adjoint {
  __m512 a_re, a_im, c_re, c_im, m_re, m_im, g_re, g_im, p_re, p_im;
};

inline Adjoint LoadAdjoint(const float* ar, const float* ai, const float* cr,
                           const float* ci, const float* mu, int k, int j) {
  Adjoint q;
  q.a_re = _mm512_loadu_ps(ar + k * kLanes);
  q.a_im = _mm512_loadu_ps(ai + k * kLanes);
  q.c_re = _mm512_loadu_ps(cr + k * kLanes);
  q.c_im = _mm512_loadu_ps(ci + k * kLanes);
  q.m_re = _mm512_loadu_ps(mu + 2 * j * kLanes);
  q.m_im = _mm512_loadu_ps(mu + (2 * j + 1) * kLanes);
  q.g_re = q.g_im = q.p_re = q.p_im = _mm512_setzero_ps();
  return q;
}

// One position of the adjoint: mu <- conj(a) mu + g; d0 + d1 += Re(conj(c)
// mu); G += u mu; P += conj(s_prev) mu with s_prev at sp.
inline void AdjointStep(Adjoint& q, __m512 gv, __m512 uv, const float* sp,
                        __m512& d0, __m512& d1) {
  MulAddReal<true>(q.a_re, q.a_im, gv, q.m_re, q.m_im);
  const __m512 nr = q.m_re, ni = q.m_im;
  q.g_re = _mm512_fmadd_ps(uv, nr, q.g_re);
  q.g_im = _mm512_fmadd_ps(uv, ni, q.g_im);
  d0 = _mm512_fmadd_ps(q.c_re, nr, d0);
  d1 = _mm512_fmadd_ps(q.c_im, ni, d1);
  const __m512 pr = _mm512_loadu_ps(sp);
  const __m512 pi = _mm512_loadu_ps(sp + kLanes);
  q.p_re = _mm512_fmadd_ps(pi, ni, _mm512_fmadd_ps(pr, nr, q.p_re));
  q.p_im = _mm512_fnmadd_ps(pi, nr, _mm512_fmadd_ps(pr, ni, q.p_im));
}

inline void FinishAdjoint(const Adjoint& q, float* mu, int j, double* sums) {
  _mm512_storeu_ps(mu + 2 * j * kLanes, q.m_re);
  _mm512_storeu_ps(mu + (2 * j + 1) * kLanes, q.m_im);
  double* s = sums + j * kSums * kLanes;
  AddToDouble(q.g_re, s);
  AddToDouble(q.g_im, s + kLanes);
  AddToDouble(q.p_re, s + 2 * kLanes);
  AddToDouble(q.p_im, s + 3 * kLanes);
}

// The adjoint of modes k0, k0 + 1 of a group over positions t1 - 1 down to
// t0 (one chunk), for y_t = Re(c s_{t-shift}), s_t = a s_{t-1} + u_t:
//   mu_t = conj(a) mu_{t+1} + g_{t+shift}       (dL/ds_t = conj(c) mu_t)
//   du_t += Re(conj(c) mu_t),  G += u_t mu_t,  P += conj(s_{t-1}) mu_t,
// so that dL/dc = G and dL/da = conj(c) P. buf holds s_t for t in [t0, t1)
// ([t - t0][kGroup][re | im][16]), prev s_{t0 - 1}; mu ([2][re | im][16])
// carries the adjoint between chunks; the chunk's G and P are added to
// sums ([2][kSums][16] doubles) at the end.
template <bool kShift>
void AdjointPair(const float* u, const float* g, float* du, int64_t stride,
                 int len, int t0, int t1, __mmask16 m, const float* ar,
                 const float* ai, const float* cr, const float* ci,
                 const float* buf, const float* prev, int k0, float* mu,
                 double* sums) {
  Adjoint q0 = LoadAdjoint(ar, ai, cr, ci, mu, k0, 0);
  Adjoint q1 = LoadAdjoint(ar, ai, cr, ci, mu, k0 + 1, 1);
  const int64_t s0 = 2 * k0 * kLanes, s1 = s0 + 2 * kLanes;
  for (int t = t1 - 1; t >= t0; --t) {
    const int64_t at = t * stride;
    __m512 gv;
    if (kShift) {
      gv = t + 1 < len ? _mm512_maskz_loadu_ps(m, g + at + stride)
                       : _mm512_setzero_ps();
    } else {
      gv = _mm512_maskz_loadu_ps(m, g + at);
    }
    const __m512 uv = _mm512_maskz_loadu_ps(m, u + at);
    const float* sp = t > t0 ? buf + (t - 1 - t0) * kGroupFloats : prev;
    __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps();
    AdjointStep(q0, gv, uv, sp + s0, d0, d1);
    AdjointStep(q1, gv, uv, sp + s1, d0, d1);
    float* dp = du + at;
    _mm512_mask_storeu_ps(
        dp, m,
        _mm512_add_ps(_mm512_maskz_loadu_ps(m, dp), _mm512_add_ps(d0, d1)));
  }
  FinishAdjoint(q0, mu, 0, sums);
  FinishAdjoint(q1, mu, 1, sums);
}

}  // namespace

S4dMixer::S4dMixer(const MixerShape& shape, const S4dOptions& options)
    : shape_(shape),
      options_(options),
      dirs_(options.bidirectional ? 2 : 1),
      threads_(std::max(1, omp_get_max_threads())),
      blocks_((shape.d_model + kLanes - 1) / kLanes),
      padded_((options.state_size + kGroup - 1) / kGroup * kGroup),
      chunks_((shape.seq_len + kChunk - 1) / kChunk),
      w_(shape.d_model, options.state_size, dirs_),
      g_(shape.d_model, options.state_size, dirs_),
      out_(shape.d_model, shape.d_model),
      mask_(static_cast<size_t>(shape.max_seqs) * shape.seq_len),
      u_({shape.max_seqs, shape.seq_len, shape.d_model}),
      pre_({shape.max_seqs, shape.seq_len, shape.d_model}),
      act_({shape.max_seqs, shape.seq_len, shape.d_model}),
      vec_({blocks_, kKinds, padded_, kLanes}),
      d_vec_({blocks_, kLanes}),
      d_act_({shape.max_seqs, shape.seq_len, shape.d_model}),
      du_({shape.max_seqs, shape.seq_len, shape.d_model}),
      work_({threads_, WorkFloatsPerThread(padded_ / kGroup, chunks_)}),
      acc_(static_cast<size_t>(threads_) *
           (static_cast<size_t>(dirs_) * padded_ * kSums * kLanes + kLanes)) {}

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
    float* v = vec_.data() +
               static_cast<int64_t>(h / kLanes) * kKinds * padded_ * kLanes +
               h % kLanes;
    const int64_t kind = static_cast<int64_t>(padded_) * kLanes;
    for (int n = 0; n < N; ++n) {
      const int64_t i = static_cast<int64_t>(h) * N + n;
      const Complex A(-std::exp(static_cast<double>(w_.log_a_real[i])),
                      w_.a_imag[i]);
      const Complex a = std::exp(dt * A);
      const Complex bb = (a - 1.0) / A * Complex(w_.b[2 * i], w_.b[2 * i + 1]);
      const int64_t at = static_cast<int64_t>(n) * kLanes;
      v[at] = static_cast<float>(a.real());
      v[kind + at] = static_cast<float>(a.imag());
      for (int dir = 0; dir < dirs_; ++dir) {
        const int64_t j = static_cast<int64_t>(dir) * H * N + i;
        const Complex c =
            2.0 * Complex(w_.c[2 * j], w_.c[2 * j + 1]) * bb;  // c~
        v[(2 + 2 * dir) * kind + at] = static_cast<float>(c.real());
        v[(3 + 2 * dir) * kind + at] = static_cast<float>(c.imag());
      }
    }
    d_vec_[h] = w_.d[h];
  }
}

void S4dMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int B = step.seqs, L = shape_.seq_len, H = shape_.d_model;
  seqs_ = B;
  std::memcpy(mask_.data(), step.key_mask, static_cast<size_t>(B) * L);
  ZeroPaddedRows(mask_.data(), static_cast<int64_t>(B) * L, H, x, u_.data());
  Discretise();
  const int threads = std::min(threads_, omp_get_max_threads());
  const int tasks = B * blocks_;
  const int64_t per_thread = work_.size() / threads_;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int task = 0; task < tasks; ++task) {
    ForwardBlock(task / blocks_, task % blocks_,
                 work_.data() + omp_get_thread_num() * per_thread);
  }
  GeluForward(pre_.data(), static_cast<int64_t>(B) * L * H, act_.data());
  out_.Forward(act_.data(), w_.w_out.data(), w_.b_out.data(), y,
               static_cast<int64_t>(B) * L);
}

void S4dMixer::ForwardBlock(int b, int block, float* work) {
  const int L = shape_.seq_len, H = shape_.d_model;
  const __mmask16 m = LaneMask(H, block);
  const int64_t base = static_cast<int64_t>(b) * L * H + block * kLanes;
  const float* u = u_.data() + base;  // [L] rows of 16 lanes, stride H
  float* pre = pre_.data() + base;
  const __m512 d = _mm512_loadu_ps(d_vec_.data() + block * kLanes);
  for (int t = 0; t < L; ++t) {
    const int64_t at = static_cast<int64_t>(t) * H;
    _mm512_mask_storeu_ps(pre + at, m,
                          _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + at)));
  }
  const int64_t kind = static_cast<int64_t>(padded_) * kLanes;
  const float* v =
      vec_.data() + static_cast<int64_t>(block) * kKinds * kind;  // [6][N'][16]
  const int groups = padded_ / kGroup;
  float* state = work;  // [groups][kGroup][re | im][16]
  for (int dir = 0; dir < dirs_; ++dir) {
    // The anti-causal kernel is the same recurrence walking backwards, read
    // before the update, so that y_t reads z_{t+1}.
    const int64_t start = dir == 0 ? 0 : static_cast<int64_t>(L - 1) * H;
    const int64_t stride = dir == 0 ? H : -H;
    std::fill(state, state + groups * kGroupFloats, 0.0f);
    for (int t0 = 0; t0 < L; t0 += kTile) {
      const int t1 = std::min(L, t0 + kTile);
      for (int grp = 0; grp < groups; ++grp) {
        const int64_t at = static_cast<int64_t>(grp) * kGroup * kLanes;
        float* st = state + grp * kGroupFloats;
        if (dir == 0) {
          ForwardGroup<false>(u, pre, stride, t0, t1, m, v + at, v + kind + at,
                              v + 2 * kind + at, v + 3 * kind + at, st);
        } else {
          ForwardGroup<true>(u + start, pre + start, stride, t0, t1, m, v + at,
                             v + kind + at, v + 4 * kind + at,
                             v + 5 * kind + at, st);
        }
      }
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
  const int64_t acc_per_thread = static_cast<int64_t>(acc_.size()) / threads_;
  // Each block owns its channels' gradients, summed over the sequences in
  // order: the result does not depend on the number of threads.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int block = 0; block < blocks_; ++block) {
    const int thread = omp_get_thread_num();
    BackwardBlock(block, work_.data() + thread * per_thread,
                  acc_.data() + thread * acc_per_thread);
  }
  ZeroPaddedRows(mask_.data(), M, H, du_.data(), dx);
}

// Adjoints in the real-gradient convention: for a complex quantity s,
// gs = dL/dRe(s) + i dL/dIm(s). Then s = a s' + w gives gs' += conj(a) gs,
// ga += conj(s') gs, gw = gs; y = Re(c s) gives gs = g conj(c),
// gc = g conj(s). The scans run s' = s / bb (input weight 1) read by
// c~ = 2 C bb; AdjointPair's G and P give dL/dc~ and dL/da, and the
// discretisation is differentiated at the end, per mode, in double.
void S4dMixer::BackwardBlock(int block, float* work, double* acc) {
  const int L = shape_.seq_len, H = shape_.d_model, N = options_.state_size;
  const __mmask16 m = LaneMask(H, block);
  const int64_t kind = static_cast<int64_t>(padded_) * kLanes;
  const float* v = vec_.data() + static_cast<int64_t>(block) * kKinds * kind;
  const int groups = padded_ / kGroup;
  // [chunks + 1][groups][group]: a chunk's checkpoints of every group are
  // adjacent, as the adjoint reads them.
  float* ckpt = work;
  float* buf = ckpt + static_cast<int64_t>(groups) * (chunks_ + 1) *
                          kGroupFloats;     // [chunk][group]
  float* mu = buf + kChunk * kGroupFloats;  // [groups][group]
  const int64_t ckpt_chunk = static_cast<int64_t>(groups) * kGroupFloats;
  double* gd = acc + static_cast<int64_t>(dirs_) * padded_ * kSums * kLanes;
  std::fill(acc, gd + kLanes, 0.0);
  const __m512 d = _mm512_loadu_ps(d_vec_.data() + block * kLanes);
  for (int b = 0; b < seqs_; ++b) {
    const int64_t base = static_cast<int64_t>(b) * L * H + block * kLanes;
    const float* u = u_.data() + base;
    const float* g = d_act_.data() + base;
    float* du = du_.data() + base;
    __m512d gd_lo = _mm512_setzero_pd(), gd_hi = _mm512_setzero_pd();
    for (int t = 0; t < L; ++t) {
      const int64_t at = static_cast<int64_t>(t) * H;
      const __m512 gv = _mm512_maskz_loadu_ps(m, g + at);
      const __m512 uv = _mm512_maskz_loadu_ps(m, u + at);
      _mm512_mask_storeu_ps(du + at, m, _mm512_mul_ps(d, gv));
      const __m512 p = _mm512_mul_ps(gv, uv);
      gd_lo = _mm512_add_pd(gd_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(p)));
      gd_hi =
          _mm512_add_pd(gd_hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(p, 1)));
    }
    _mm512_storeu_pd(gd, _mm512_add_pd(_mm512_loadu_pd(gd), gd_lo));
    _mm512_storeu_pd(gd + 8, _mm512_add_pd(_mm512_loadu_pd(gd + 8), gd_hi));
    for (int dir = 0; dir < dirs_; ++dir) {
      // The direction's own time order: the anti-causal kernel walks the
      // sequence backwards and reads the state before its update.
      const int64_t start = dir == 0 ? 0 : static_cast<int64_t>(L - 1) * H;
      const int64_t stride = dir == 0 ? H : -H;
      const float* ud = u + start;
      const float* gdir = g + start;
      float* dud = du + start;
      const float* cr = v + (2 + 2 * dir) * kind;
      const float* ci = v + (3 + 2 * dir) * kind;
      double* sums = acc + static_cast<int64_t>(dir) * padded_ * kSums * kLanes;
      // Checkpoints, tile by tile: ckpt[grp][c] is the state before chunk c.
      std::fill(ckpt, ckpt + ckpt_chunk, 0.0f);
      for (int t0 = 0; t0 < L; t0 += kTile) {
        const int c_end = std::min(chunks_ - 1, (t0 + kTile) / kChunk);
        for (int grp = 0; grp < groups; ++grp) {
          const int64_t at = static_cast<int64_t>(grp) * kGroup * kLanes;
          float* ck = ckpt + grp * kGroupFloats;
          for (int c = t0 / kChunk; c < c_end; ++c) {
            Advance(ud, stride, c * kChunk, (c + 1) * kChunk, m, v + at,
                    v + kind + at, ck + c * ckpt_chunk,
                    ck + (c + 1) * ckpt_chunk, nullptr);
          }
        }
      }
      // The adjoint, chunk by chunk from the end, every group per chunk.
      std::fill(mu, mu + groups * kGroupFloats, 0.0f);
      for (int c = chunks_ - 1; c >= 0; --c) {
        const int t0 = c * kChunk, t1 = std::min(L, t0 + kChunk);
        for (int grp = 0; grp < groups; ++grp) {
          const int64_t at = static_cast<int64_t>(grp) * kGroup * kLanes;
          const float* ar = v + at;
          const float* ai = v + kind + at;
          const float* prev = ckpt + c * ckpt_chunk + grp * kGroupFloats;
          Advance(ud, stride, t0, t1, m, ar, ai, prev, nullptr, buf);
          for (int k0 = 0; k0 < kGroup; k0 += 2) {
            double* sg = sums + (at + k0 * kLanes) * kSums;
            float* mu_pair = mu + grp * kGroupFloats + k0 * 2 * kLanes;
            if (dir == 0) {
              AdjointPair<false>(ud, gdir, dud, stride, L, t0, t1, m, ar, ai,
                                 cr + at, ci + at, buf, prev, k0, mu_pair, sg);
            } else {
              AdjointPair<true>(ud, gdir, dud, stride, L, t0, t1, m, ar, ai,
                                cr + at, ci + at, buf, prev, k0, mu_pair, sg);
            }
          }
        }
      }
    }
  }
  // Through c~ = 2 C bb and the discretisation a = exp(dt A),
  // bb = (a - 1) / A * B.
  const int h_end = std::min(H, (block + 1) * kLanes);
  for (int h = block * kLanes; h < h_end; ++h) {
    const int lane = h % kLanes;
    const double dt = std::exp(static_cast<double>(w_.log_dt[h]));
    double gdt = 0.0;
    for (int n = 0; n < N; ++n) {
      const int64_t i = static_cast<int64_t>(h) * N + n;
      const double exp_re = std::exp(static_cast<double>(w_.log_a_real[i]));
      const Complex A(-exp_re, w_.a_imag[i]);
      const Complex a = std::exp(dt * A);
      const Complex Bn(w_.b[2 * i], w_.b[2 * i + 1]);
      const Complex bb = (a - 1.0) / A * Bn;
      Complex g_a(0.0, 0.0), g_bb(0.0, 0.0);
      for (int dir = 0; dir < dirs_; ++dir) {
        const double* s =
            acc +
            ((static_cast<int64_t>(dir) * padded_ + n) * kSums * kLanes + lane);
        const Complex G(s[0], s[kLanes]), P(s[2 * kLanes], s[3 * kLanes]);
        const int64_t row = static_cast<int64_t>(n) * kLanes + lane;
        const Complex ct(v[(2 + 2 * dir) * kind + row],
                         v[(3 + 2 * dir) * kind + row]);
        g_a += std::conj(ct) * P;
        const int64_t j = static_cast<int64_t>(dir) * H * N + i;
        const Complex C(w_.c[2 * j], w_.c[2 * j + 1]);
        const Complex g_c = 2.0 * std::conj(bb) * G;
        g_.c[2 * j] += static_cast<float>(g_c.real());
        g_.c[2 * j + 1] += static_cast<float>(g_c.imag());
        g_bb += 2.0 * std::conj(C) * G;
      }
      g_a += std::conj(Bn / A) * g_bb;
      const Complex g_B = std::conj((a - 1.0) / A) * g_bb;
      const Complex g_za = std::conj(a) * g_a;
      const Complex g_A =
          std::conj(-(a - 1.0) * Bn / (A * A)) * g_bb + dt * g_za;
      gdt += (std::conj(A) * g_za).real();
      g_.log_a_real[i] += static_cast<float>(-exp_re * g_A.real());
      g_.a_imag[i] += static_cast<float>(g_A.imag());
      g_.b[2 * i] += static_cast<float>(g_B.real());
      g_.b[2 * i + 1] += static_cast<float>(g_B.imag());
    }
    g_.log_dt[h] += static_cast<float>(dt * gdt);
    g_.d[h] += static_cast<float>(gd[lane]);
  }
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
  // Per real position: the scan, per channel, mode and direction, advances
  // the complex state s = a s + u (4 multiply-adds) and adds Re(c s) to the
  // output (2): 12 FLOPs; then the output projection [D] x [D, D]. D u and
  // GELU are elementwise.
  plugin.flops = ScanFlops([](const ScanSize& size, int n) {
    ForwardFlops flops;
    flops.core = 12.0 * n * size.d_model * size.state_size * size.dirs;
    flops.projections = 2.0 * n * size.d_model * size.d_model;
    return flops;
  });
  plugin.factory =
      [](const PluginParams& params, const MixerShape& shape,
         const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    ASSIGN_OR_RETURN(const ScanParams scan, ReadScanParams(params, "s4d"));
    ASSIGN_OR_RETURN(double dt_min, params.Number("dt_min"));
    ASSIGN_OR_RETURN(double dt_max, params.Number("dt_max"));
    if (!(dt_min > 0 && dt_max >= dt_min)) {
      return absl::InvalidArgumentError(
          "mixer 's4d': need 0 < dt_min <= dt_max");
    }
    S4dOptions options;
    options.state_size = scan.state_size;
    options.bidirectional = scan.bidirectional;
    options.dt_min = static_cast<float>(dt_min);
    options.dt_max = static_cast<float>(dt_max);
    options.ssm_lr_scale = scan.ssm_lr_scale;
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
