// The Linear Recurrent Unit (Orvieto et al., "Resurrecting Recurrent Neural
// Networks for Long Sequences", 2023) as a token mixer: a complex diagonal
// recurrence with the exponential parameterisation, gamma normalisation and
// ring initialisation, read out as Re(C x) + D u; optionally bidirectional.
#ifndef LRA_MODELS_MIXERS_LRU_LRU_MIXER_H_
#define LRA_MODELS_MIXERS_LRU_LRU_MIXER_H_

#include <cstdint>
#include <vector>

#include "models/linear.h"
#include "models/mixer.h"
#include "models/tensor.h"

namespace lra {

struct LruOptions {
  int state_size = 64;  // N complex modes
  // Adds an anti-causal recurrence (the same lambda, gamma and B) read by
  // its own C from strictly later positions.
  bool bidirectional = true;
  // Ring initialisation: |lambda| uniform on the ring r_min..r_max (by
  // area), arg(lambda) uniform in [0, max_phase].
  float r_min = 0.9f;
  float r_max = 0.999f;
  float max_phase = 6.283185307f;
  // Learning-rate multiplier of nu, theta, gamma and B; they are also exempt
  // from weight decay.
  float ssm_lr_scale = 0.5f;
};

// u = x at real positions, 0 at padded ones; v_t = B u_t (complex N);
//   x_t = lambda x_t-1 + gamma v_t,  z_t = lambda z_t+1 + gamma v_t,
//   y_t = Re(C x_t) + Re(C' z_t+1) + D u_t,
//   lambda = exp(-exp(nu_log) + i exp(theta_log)), gamma = exp(gamma_log)
// (gamma_log starts at log sqrt(1 - |lambda|^2), learnable as in the paper).
// C is stored as the real matrix c [dirs 2N, H] that multiplies
// [Re x, Im x, Re z, Im z] (rows of Re C^T and -Im C^T).
class LruMixer final : public TokenMixer {
 public:
  LruMixer(const MixerShape& shape, const LruOptions& options);

  void Forward(const float* x, const MixerStep& step, float* y) override;
  void Backward(const float* dy, float* dx) override;
  // nu_log [N], theta_log [N], gamma_log [N], b [H, 2N] (SSM group), then
  // c [dirs 2N, H], d [H].
  void ForEachWeight(const WeightVisitor& fn) override;
  void InitParameters(uint64_t seed) override;
  const char* name_prefix() const override { return "lru"; }

  static MixerPlugin Plugin();

 private:
  // The recurrence of one sequence, one direction (0: x forwards, 1: z
  // backwards) and one block of 16 modes.
  void ScanForward(int b, int dir, int block);
  // Its adjoint for one block of modes over every sequence and direction:
  // d_v and that block's gradients of nu, theta and gamma.
  void ScanBackward(int block);

  MixerShape shape_;
  LruOptions options_;
  int dirs_;
  int threads_;
  int64_t width_;  // dirs * 2N: columns of the readout input
  Tensor nu_log_, theta_log_, gamma_log_, b_, c_, d_;
  Tensor g_nu_log_, g_theta_log_, g_gamma_log_, g_b_, g_c_, g_d_;
  Linear in_, out_;

  // State of the last Forward.
  int seqs_ = 0;
  std::vector<uint8_t> mask_;     // [B', L]
  Tensor u_;                      // [B', L, H]
  Tensor v_;                      // [B', L, 2N]  B u: Re | Im
  Tensor s_;                      // [B', L, dirs 2N]  Re x | Im x | Re z | Im z
  Tensor lam_re_, lam_im_, gam_;  // [N]
  // Workspaces.
  Tensor d_s_;  // [B', L, dirs 2N]
  Tensor d_v_;  // [B', L, 2N]
  Tensor du_;   // [B', L, H]
};

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_LRU_LRU_MIXER_H_
