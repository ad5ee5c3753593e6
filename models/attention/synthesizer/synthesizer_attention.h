// "synthesizer": Tay et al.'s Synthesizer as LRA runs it. Attention logits are
// synthesised rather than (or besides) computed from query-key dot products:
//   random: a learned (or fixed) N x N matrix of logits per head, optionally
//           factorised as R1 R2 with R1 [N, k], R2 [k, N];
//   dense:  a token-wise two-layer MLP of the layer input x_i gives row i of
//           logits per head: W2^T relu(W1^T x_i + b1)[h] + b2 (W2 shared by
//           the heads, as in LRA's code);
// each alone or added to the scaled dot-product scores (LRA's "+dot"), the
// synthetic part scaled by a per-head mix (fixed, or learned). Softmax over
// real keys only, so padded positions never influence real ones.
#ifndef LRA_MODELS_ATTENTION_SYNTHESIZER_SYNTHESIZER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_SYNTHESIZER_SYNTHESIZER_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

struct SynthesizerOptions {
  bool random = true;  // random synthetic logits
  bool dense = false;  // dense synthetic logits from the layer input
  bool dot = true;     // plus scaled dot-product scores
  bool learn_random = true;
  int factor = 32;  // rank k of the factorised random logits; 0 = full N x N
  float mix = 1.0f;
  bool learn_mix = false;
};

class SynthesizerAttention : public Attention {
 public:
  SynthesizerAttention(const AttentionShape& shape,
                       const SynthesizerOptions& options);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void ForEachParameter(const ParameterVisitor& fn) override;
  void InitParameters(uint64_t seed) override;
  void FreezeStructure(bool frozen) override { frozen_ = frozen; }

 private:
  bool Factorised() const { return opt_.random && opt_.factor > 0; }
  // Draws the random logits' factors (or matrix) from `seed`.
  void DrawRandom(uint64_t seed);
  float DropoutFactor(int b, int h, int i, int j) const;
  float Mix(int h) const { return opt_.learn_mix ? mix_[h] : opt_.mix; }

  AttentionShape shape_;
  SynthesizerOptions opt_;
  int hidden_width_;  // H * Dh: width of the dense MLP's hidden layer
  // Random logits: full [H, N, N], or factors [H, N, k] and [H, k, N].
  Tensor random_, random_grad_;
  Tensor random2_, random2_grad_;
  Tensor random_logits_;   // [H, N, N] R1 R2 (factorised), per Forward
  Tensor random_dlogits_;  // [H, N, N] (factorised, learned)
  // Dense: W1 [D, H Dh], b1 [H Dh], W2 [Dh, N], b2 [N].
  Tensor w1_, w1_grad_, b1_, b1_grad_, w2_, w2_grad_, b2_, b2_grad_;
  Tensor hidden_;          // [maxB, N, H Dh] pre-activation
  Tensor active_;          // [maxB, N, H Dh] 1 where relu passes
  Tensor dense_logits_;    // [maxB, H, N, N]
  Tensor d_hidden_;        // [maxB, N, H Dh]
  Tensor mix_, mix_grad_;  // [H] (learn_mix)
  Tensor mix_partial_;     // [maxB, H]
  Tensor weights_;         // [maxB, H, N, N] softmax weights before dropout
  Tensor dscores_;         // [maxB, H, N, N] d(loss)/d(logit)
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;
  // While frozen (gradient checks), relu keeps the active set of the last
  // unfrozen Forward.
  bool frozen_ = false;
};

// The registry entry for "synthesizer".
AttentionPlugin SynthesizerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_SYNTHESIZER_SYNTHESIZER_ATTENTION_H_
