// S4D (Gu et al., "On the Parameterization and Initialization of Diagonal
// State Space Models", 2022) as a token mixer: per channel a complex
// diagonal state space model discretised by zero-order hold, run as a linear
// recurrence (scan) in both directions, then GELU and an output projection,
// as in the S4 LRA models. See README.md for why a scan and not a
// convolution.
#ifndef LRA_MODELS_MIXERS_S4D_S4D_MIXER_H_
#define LRA_MODELS_MIXERS_S4D_S4D_MIXER_H_

#include <cstdint>
#include <vector>

#include "models/linear.h"
#include "models/mixer.h"
#include "models/tensor.h"

namespace lra {

struct S4dOptions {
  // Complex modes per channel (the state is N complex numbers; y reads
  // 2 Re(C x), so the S4D code's d_state = 2N).
  int state_size = 64;
  // A forward (causal) and a backward (anti-causal, strictly future)
  // kernel with their own C, sharing A, B and the step, as S4 on LRA.
  bool bidirectional = true;
  // log step log-uniform in [log dt_min, log dt_max] at initialisation.
  float dt_min = 0.001f;
  float dt_max = 0.1f;
  // Learning-rate multiplier of the SSM parameters (step, A, B); they are
  // also exempt from weight decay.
  float ssm_lr_scale = 0.1f;
};

// y = GELU(SSM(u)) W_out + b_out with u = x at real positions, 0 at padded
// ones (so padded positions never reach real ones in either direction):
//   SSM(u)_t = 2 Re(sum_n C0_n x_t,n) + 2 Re(sum_n C1_n z_t+1,n) + D u_t,
//   x_t = a x_t-1 + bb u_t,  z_t = a z_t+1 + bb u_t,
//   a = exp(dt A), bb = (a - 1) / A * B  (zero-order hold),
//   A = -exp(log_a_real) + i a_imag,  dt = exp(log_dt).
class S4dMixer final : public TokenMixer {
 public:
  S4dMixer(const MixerShape& shape, const S4dOptions& options);

  void Forward(const float* x, const MixerStep& step, float* y) override;
  void Backward(const float* dy, float* dx) override;
  // log_dt [H], log_a_real [H, N], a_imag [H, N], b [H, N, 2] (SSM group),
  // then c [dirs, H, N, 2], d [H], w_out [H, H], b_out [H].
  void ForEachWeight(const WeightVisitor& fn) override;
  // S4D-Lin: A_n = -1/2 + i pi n, B = 1, C complex normal (variance 1),
  // D normal, W_out xavier-uniform, b_out 0.
  void InitParameters(uint64_t seed) override;
  const char* name_prefix() const override { return "s4d"; }

  static MixerPlugin Plugin();

 private:
  struct Weights {
    Weights(int h, int n, int dirs)
        : log_dt({h}),
          log_a_real({h, n}),
          a_imag({h, n}),
          b({h, n, 2}),
          c({dirs, h, n, 2}),
          d({h}),
          w_out({h, h}),
          b_out({h}) {}
    Tensor log_dt;      // [H]
    Tensor log_a_real;  // [H, N]
    Tensor a_imag;      // [H, N]
    Tensor b;           // [H, N, 2] complex
    Tensor c;           // [dirs, H, N, 2] complex
    Tensor d;           // [H]
    Tensor w_out;       // [H, H]
    Tensor b_out;       // [H]
  };

  // a and bb of every (channel, mode) from the current parameters.
  void Discretise();
  // The scan of one channel over every sequence of the last Forward.
  void ForwardChannel(int h, float* state);
  void BackwardChannel(int h, const float* g, float* du, float* work);

  MixerShape shape_;
  S4dOptions options_;
  int dirs_;
  int threads_;
  Weights w_, g_;
  Linear out_;

  // State of the last Forward.
  int seqs_ = 0;
  std::vector<uint8_t> mask_;  // [B', L]
  Tensor u_;                   // [B', L, H] input, zero at padded positions
  Tensor pre_;                 // [B', L, H] SSM output before GELU
  Tensor act_;                 // [B', L, H] after GELU
  Tensor a_re_, a_im_;         // [H, N] discretised a
  Tensor bb_re_, bb_im_;       // [H, N] discretised bb
  // Workspaces.
  Tensor d_act_;  // [B', L, H]
  Tensor du_;     // [B', L, H]
  Tensor work_;   // [threads, 2 (L + 1) N + 10 N] per-thread scan buffers
};

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_S4D_S4D_MIXER_H_
