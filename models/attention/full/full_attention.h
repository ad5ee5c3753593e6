// "full": softmax attention over all keys with a key padding mask, computed
// block by block (flash-attention style) so the [N, N] score matrix is never
// stored: the forward keeps only each row's log-sum-exp, and the backward
// recomputes scores one block at a time.
#ifndef LRA_MODELS_ATTENTION_FULL_FULL_ATTENTION_H_
#define LRA_MODELS_ATTENTION_FULL_FULL_ATTENTION_H_

#include <cstdint>
#include <memory>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class FullAttention : public Attention {
 public:
  explicit FullAttention(const AttentionShape& shape);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;

  // Query and key rows per block. The kernels are specialised for these.
  static constexpr int kBlockRows = 64;
  static constexpr int kBlockCols = 64;

  // With skipping on (the default), a query row whose position is padding
  // (key_mask 0) outputs zero and passes no gradient, and query blocks made
  // only of such rows are not computed at all, forward or backward. Off, every
  // query row attends to the real keys as before this was added: tests use it
  // as the reference (outputs and gradients at real positions agree bit for
  // bit when the upstream gradient at padded rows is zero, as in the encoder).
  void set_skip_padded_queries(bool skip) { skip_padded_queries_ = skip; }

 private:
  AttentionShape shape_;
  float scale_;
  int num_threads_;
  int num_key_blocks_;
  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  const float* out_ = nullptr;  // [B, H, N, Dh]
  bool dropout_active_ = false;
  Tensor lse_;       // [maxB, H, N] log-sum-exp of each row's scaled scores
  Tensor key_bias_;  // [maxB, N] 0 for real keys, -inf for padding
  std::vector<uint8_t> block_live_;  // [maxB, key blocks] any real key in block
  std::vector<uint8_t> query_live_;  // [maxB, query blocks] any real query
  bool skip_padded_queries_ = true;
  Tensor keys_t_;   // [maxB, H, Dh, key blocks * 64] keys transposed (forward)
  Tensor scratch_;  // per-thread block buffers, see the .cc
};

// The registry entry for "full".
AttentionPlugin FullAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_FULL_FULL_ATTENTION_H_
