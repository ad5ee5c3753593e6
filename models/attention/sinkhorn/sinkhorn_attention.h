// "sinkhorn": Sparse Sinkhorn Attention (Tay et al. 2020) as in LRA. Positions
// are cut into blocks; a learned sorting network scores, from each block's
// summary (the mean of its real keys), how well every key block fits every
// query block; Sinkhorn normalisation (log-space row and column
// normalisations, `iterations` rounds, at `temperature`) turns the scores into
// a soft permutation S. Query block u attends to its own block's keys and to
// a softly sorted partner block whose key/value at offset t is
// sum_w S[u, w] k/v[w, t] over real keys. Everything is smooth: no discrete
// choice, so no gradient-check exemption.
#ifndef LRA_MODELS_ATTENTION_SINKHORN_SINKHORN_ATTENTION_H_
#define LRA_MODELS_ATTENTION_SINKHORN_SINKHORN_ATTENTION_H_

#include <cstdint>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class SinkhornAttention : public Attention {
 public:
  SinkhornAttention(const AttentionShape& shape, int block, int iterations,
                    float temperature);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void ForEachParameter(const ParameterVisitor& fn) override;
  void InitParameters(uint64_t seed) override;

 private:
  float DropoutFactor(int b, int h, int i, int slot) const;
  // Offsets of block u: [u * block_, min(N, (u + 1) * block_)).
  int BlockEnd(int u) const;

  AttentionShape shape_;
  int block_;       // positions per block (the last block may be shorter)
  int blocks_;      // ceil(N / block)
  int iterations_;  // Sinkhorn rounds (one row and one column step each)
  float temperature_;
  int steps_;                      // 2 * iterations + 1 stored log-matrices
  Tensor sortnet_, sortnet_grad_;  // [H, Dh, blocks] own parameter
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;
  Tensor real_count_;   // [maxB, blocks] real keys per block
  Tensor summaries_;    // [maxB, H, blocks, Dh] mean of real keys
  Tensor log_sort_;     // [maxB, H, steps, blocks, blocks] Sinkhorn iterates
  Tensor sort_;         // [maxB, H, blocks, blocks] S = exp(last iterate)
  Tensor sorted_k_;     // [maxB, H, blocks, block, Dh]
  Tensor sorted_v_;     // [maxB, H, blocks, block, Dh]
  Tensor slot_real_;    // [maxB, block] 1 if some block has a real key at t
  Tensor weights_;      // [maxB, H, N, 2 block] softmax weights
  Tensor d_sorted_k_;   // [maxB, H, blocks, block, Dh]
  Tensor d_sorted_v_;   // [maxB, H, blocks, block, Dh]
  Tensor d_log_;        // [maxB, H, 2, blocks, blocks]
  Tensor d_summaries_;  // [maxB, H, blocks, Dh]
  Tensor sortnet_partial_;  // [maxB, H, Dh, blocks]
  Tensor masked_k_;  // [maxB, H, blocks * block, Dh] K, padded rows zeroed
  Tensor masked_v_;  // [maxB, H, blocks * block, Dh] V, padded rows zeroed
  Tensor d_masked_;  // [maxB, H, blocks * block, Dh] scratch (Backward)
  Tensor columns_;   // [maxB, H, 3 blocks] column scratch of the Sinkhorn steps
};

// The registry entry for "sinkhorn".
AttentionPlugin SinkhornAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_SINKHORN_SINKHORN_ATTENTION_H_
