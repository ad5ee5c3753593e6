// "example_window": the worked example of docs/plugins.md. Softmax attention
// in which query i sees only keys j with |i - j| <= window (or, with the
// "causal" flag, i - window <= j <= i), and each head scales its scores by a
// learnable temperature exp(log_temperature[h]). It is small on purpose: one
// file pair shows every part of the plugin contract (parameters with
// defaults, capabilities, tolerances, own learnable parameters, key padding,
// causal mode, attention dropout, Forward/Backward), not a fast kernel.
#ifndef LRA_MODELS_ATTENTION_EXAMPLE_WINDOW_ATTENTION_H_
#define LRA_MODELS_ATTENTION_EXAMPLE_WINDOW_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class WindowAttention : public Attention {
 public:
  // `window` >= 0 keys on each side (clamped to seq_len - 1).
  WindowAttention(const AttentionShape& shape, int window, bool causal);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void ForEachParameter(const ParameterVisitor& fn) override;
  void InitParameters(uint64_t seed) override;

 private:
  // Key j of query i sits in slot j - (i - window_) of the row's window.
  int FirstKey(int i) const;
  int LastKey(int i) const;
  // The attention-dropout factor of weight (i, j) in head (b, h): 0 or
  // 1 / (1 - rate), a pure function of the seed so Backward can recompute it.
  float DropoutFactor(int b, int h, int i, int j) const;

  AttentionShape shape_;
  int window_;
  bool causal_;
  int slots_;                    // window positions per query: 2 * window + 1
  Tensor log_temperature_;       // [H] own parameter
  Tensor log_temperature_grad_;  // [H]
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;
  Tensor weights_;  // [maxB, H, N, slots] softmax weights before dropout
  Tensor temperature_partial_;  // [maxB, H] d(loss)/d(log_temperature) parts
};

// The registry entry for "example_window".
AttentionPlugin WindowAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_EXAMPLE_WINDOW_ATTENTION_H_
