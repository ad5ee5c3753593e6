// "linear_transformer": Katharopoulos et al.'s linear attention. With the
// feature map phi(x) = elu(x) + 1, query i reads
//   out_i = phi(q_i)^T S / (phi(q_i) . z + eps),
//   S = sum_j phi(k_j) v_j^T  [Dh, Dh],  z = sum_j phi(k_j)  [Dh],
// summed over the real keys (all of them, or j <= i in causal mode, where S
// and z are prefix sums). Forward and Backward keep only O(Dh^2) state per
// (example, head) besides O(N) rows: no N x N buffer.
#ifndef LRA_MODELS_ATTENTION_LINEAR_TRANSFORMER_LINEAR_TRANSFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_LINEAR_TRANSFORMER_LINEAR_TRANSFORMER_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class LinearTransformerAttention : public Attention {
 public:
  LinearTransformerAttention(const AttentionShape& shape, bool causal,
                             float eps);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;

 private:
  AttentionShape shape_;
  bool causal_;
  float eps_;
  int chunk_;  // rows per block (the causal mode's blockwise prefix sums)
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  Tensor denominator_;  // [maxB, H, N] phi(q_i) . z_i + eps
  Tensor output_;       // [maxB, H, N, Dh] the last Forward's output
  Tensor state_;        // [maxB, H, Dh, Dh] S
  Tensor state_sum_;    // [maxB, H, Dh] z
  Tensor d_state_;      // [maxB, H, Dh, Dh] dS (Backward)
  Tensor d_state_sum_;  // [maxB, H, Dh] dz (Backward)
  // Per (example, head) scratch for one block of chunk_ rows.
  Tensor phi_q_;        // [maxB, H, chunk, Dh] phi(Q) of the block
  Tensor phi_k_;        // [maxB, H, chunk, Dh] phi(K), zero rows for padding
  Tensor d_phi_;        // [maxB, H, chunk, Dh]
  Tensor d_numerator_;  // [maxB, H, chunk, Dh]
  Tensor d_den_;        // [maxB, H, chunk]
  Tensor row_den_;      // [maxB, H, chunk]
  Tensor weights_;      // [maxB, H, chunk, chunk] causal phi(Q) phi(K)^T
  Tensor d_weights_;    // [maxB, H, chunk, chunk]
};

// The registry entry for "linear_transformer".
AttentionPlugin LinearTransformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_LINEAR_TRANSFORMER_LINEAR_TRANSFORMER_ATTENTION_H_
