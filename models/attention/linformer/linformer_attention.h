// "linformer": softmax attention over keys and values projected along the
// sequence to k rows (Wang et al., 2020). Keys K [N, Dh] become E (m * K)
// [k, Dh] and values F (m * V), where m zeroes padded rows before the
// projection, so padded positions never reach what real queries see. E and F
// are learnable [k, N] parameters of the layer, shared by all heads (one E for
// both with share_kv, as in LRA's code). Time and memory O(N k).
#ifndef LRA_MODELS_ATTENTION_LINFORMER_LINFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_LINFORMER_LINFORMER_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class LinformerAttention : public Attention {
 public:
  // `projected_len` >= 1 rows of the projections; share_kv: one E for K and V.
  LinformerAttention(const AttentionShape& shape, int projected_len,
                     bool share_kv);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void ForEachParameter(const ParameterVisitor& fn) override;
  void InitParameters(uint64_t seed) override;

  // Tests: the projections, [k, N] row-major (f aliases e with share_kv).
  Tensor& e() { return e_; }
  Tensor& f() { return share_kv_ ? e_ : f_; }

 private:
  // The attention-dropout factor of weight (i, r) in head bh: 0 or
  // 1 / (1 - rate), a pure function of the seed.
  float DropoutFactor(int bh, int i, int r) const;

  AttentionShape shape_;
  int k_rows_;
  bool share_kv_;
  float scale_;
  Tensor e_;       // [k, N] key projection (and value projection if shared)
  Tensor e_grad_;  // [k, N]
  Tensor f_;       // [k, N] value projection (empty if shared)
  Tensor f_grad_;  // [k, N]
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;
  // E and F with the columns of each example's padded positions zeroed:
  // m * X is then a plain product, and padded rows never reach a real query.
  Tensor e_masked_;      // [maxB, k, N]
  Tensor f_masked_;      // [maxB, k, N] (empty if shared)
  Tensor kp_;            // [maxB, H, k, Dh] projected keys
  Tensor vp_;            // [maxB, H, k, Dh] projected values
  Tensor weights_;       // [maxB, H, N, k] softmax weights before dropout
  Tensor dropped_;       // [maxB, H, N, k] weights after dropout (if any)
  Tensor d_weights_;     // [maxB, H, N, k] scratch: d(weights), then d(scores)
  Tensor dkp_;           // [maxB, H, k, Dh] gradient of the projected keys
  Tensor dvp_;           // [maxB, H, k, Dh] gradient of the projected values
  Tensor e_grad_parts_;  // [maxB, k, N] one example's part of dE
  Tensor f_grad_parts_;  // [maxB, k, N] one example's part of dF (separate)
};

// The registry entry for "linformer".
AttentionPlugin LinformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_LINFORMER_LINFORMER_ATTENTION_H_
