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

  // The per-call vector parameters: a and c~ = 2 C bb of every (channel,
  // mode), laid out for the channel-block scans.
  void Discretise();
  // The forward scans of one (sequence, 16-channel block): pre = D u + SSM.
  void ForwardBlock(int b, int block, float* work);
  // The adjoint scans of one 16-channel block over every sequence; writes
  // du and adds that block's parameter gradients.
  void BackwardBlock(int block, float* work, double* acc);

  MixerShape shape_;
  S4dOptions options_;
  int dirs_;
  int threads_;
  int blocks_;  // ceil(H / 16): channel blocks of one AVX-512 vector
  int padded_;  // N rounded up to the scan's group of states
  int chunks_;  // ceil(L / chunk): checkpoints of the backward recompute
  Weights w_, g_;
  Linear out_;

  // State of the last Forward.
  int seqs_ = 0;
  std::vector<uint8_t> mask_;  // [B', L]
  Tensor u_;                   // [B', L, H] input, zero at padded positions
  Tensor pre_;                 // [B', L, H] SSM output before GELU
  Tensor act_;                 // [B', L, H] after GELU
  // [blocks, 6, N', 16]: Re a, Im a, Re c~0, Im c~0, Re c~1, Im c~1 with
  // c~ = 2 C bb (the scan runs s' = s / bb, so its input weight is 1);
  // lanes are channels, zero past H and past N.
  Tensor vec_;
  Tensor d_vec_;  // [blocks, 16] D, zero past H
  // Workspaces.
  Tensor d_act_;  // [B', L, H]
  Tensor du_;     // [B', L, H]
  // [threads, (groups (chunks + 1) + chunk + groups) * 4 * 2 * 16] per-thread
  // checkpoints of every group of 4 modes, the recomputed states of one
  // chunk, and every group's carried state (Forward) or adjoint (Backward).
  Tensor work_;
  // [threads, dirs * N' * 4 * 16 + 16] per-thread sums over positions and
  // sequences (G, P of every mode; D's gradient), in double.
  std::vector<double> acc_;
};

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_S4D_S4D_MIXER_H_
