// "performer": FAVOR+ (Choromanski et al.). Queries and keys are mapped to
// M positive random features phi(.) and attention is computed as
//   out_i = phi(q_i)^T S / (phi(q_i) . z),
//   S = sum_j phi(k_j) v_j^T  [M, Dh],  z = sum_j phi(k_j)  [M],
// over the real keys, in O(N M Dh) time and O(N) memory. Two kernels:
// "softmax" (positive orthogonal random features estimating
// exp(q.k / sqrt(Dh))) and "relu" (the generalized kernel of LRA's Performer).
// The feature matrix is drawn from (shape.seed, layer, step / K) and redrawn
// in SetStep every K = redraw_interval steps (0 = never).
#ifndef LRA_MODELS_ATTENTION_PERFORMER_PERFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_PERFORMER_PERFORMER_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class PerformerAttention : public Attention {
 public:
  enum class Kernel { kSoftmax, kRelu };

  PerformerAttention(const AttentionShape& shape, Kernel kernel, int features,
                     int redraw_interval);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void SetStep(int64_t step) override;

  // [M, Dh]: the random feature directions in use (tests).
  const Tensor& projection() const { return projection_; }
  // Replaces the feature directions (tests with explicit features).
  void SetProjection(const Tensor& projection);

  // Relu kernel: phi(x) = relu(W x) / sqrt(M) + kReluEpsilon.
  static constexpr float kReluEpsilon = 1e-3f;

 private:
  // Draws projection_ for redraw epoch `epoch`: blocks of Dh orthonormal
  // rows (Gram-Schmidt of Gaussian rows), each row scaled by the norm of an
  // independent Gaussian Dh-vector, as in FAVOR+.
  void DrawProjection(int64_t epoch);
  // Keeps projection_t_ equal to the transpose of projection_.
  void TransposeProjection();
  // u [rows, M] for the rows x [rows, Dh]: W x for the relu kernel, the
  // softmax exponents W x' - |x'|^2 / 2 for the softmax kernel. One product.
  void Exponents(const float* x, int rows, float* u) const;
  // One row of features pr [M] from ur [M]: relu(ur) / sqrt(M) + epsilon,
  // or exp(ur - shift) / sqrt(M) for the softmax kernel.
  void FeatureRow(const float* ur, float shift, float inv_sqrt_m,
                  float* pr) const;
  // Query features phi [rows, M] from u (softmax: stabilised by each row's
  // own max exponent).
  void QueryFeatures(const float* u, int rows, float* phi) const;
  // Key features phi [rows, M] from u, with the softmax stabiliser c; rows
  // of padded keys (real[r] == 0, real may be nullptr) are zero.
  void KeyFeatures(const float* u, int rows, const uint8_t* real, float c,
                   float* phi) const;
  // dx [rows, Dh] = d(loss)/dx of the rows x given dphi (overwritten with
  // the product's left factor); the softmax stabiliser is a constant.
  void FeaturesBackward(const float* x, int rows, const float* u,
                        const float* phi, float* dphi, float* dx) const;

  AttentionShape shape_;
  Kernel kernel_;
  int features_;  // M
  int redraw_interval_;
  int chunk_;  // rows per feature block
  int64_t epoch_ = 0;
  float data_scale_;     // Dh^(-1/4) for softmax (q' . k' = q . k / sqrt(Dh))
  Tensor projection_;    // [M, Dh] feature directions W
  Tensor projection_t_;  // [Dh, M] W^T
  Tensor gaussian_;      // [Dh, Dh] scratch for DrawProjection
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  Tensor key_stabiliser_;  // [maxB, H] max softmax exponent over real keys
  Tensor denominator_;     // [maxB, H, N] phi(q_i) . z (0: no real key)
  Tensor output_;          // [maxB, H, N, Dh] the last Forward's output
  Tensor state_;           // [maxB, H, M, Dh] S
  Tensor state_sum_;       // [maxB, H, M] z
  Tensor d_state_;         // [maxB, H, M, Dh] dS (Backward)
  Tensor d_state_sum_;     // [maxB, H, M] dz (Backward)
  // Per (example, head) scratch for one block of `chunk_` rows.
  Tensor u_;            // [maxB, H, chunk, M] exponents / projections
  Tensor phi_;          // [maxB, H, chunk, M] features
  Tensor d_phi_;        // [maxB, H, chunk, M]
  Tensor d_numerator_;  // [maxB, H, chunk, Dh]
  Tensor d_den_;        // [maxB, H, chunk]
};

// The registry entry for "performer".
AttentionPlugin PerformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_PERFORMER_PERFORMER_ATTENTION_H_
