// The shared engine of the sparse-pattern plugins (local, sparse_transformer,
// longformer, bigbird): softmax attention over exactly the (query, key) pairs
// of a BlockSparsePattern, computed tile by tile with the 64-key kernels of
// kernels/ and an online softmax merged across a row's tiles. Only the listed
// tiles are multiplied and soft-maxed; the forward keeps one log-sum-exp per
// row and the backward recomputes each tile's probabilities, so memory and
// time grow with the number of kept tiles (about linearly in N for a fixed
// window or block structure), never with N^2.
#ifndef LRA_MODELS_ATTENTION_BLOCK_SPARSE_BLOCK_SPARSE_ATTENTION_H_
#define LRA_MODELS_ATTENTION_BLOCK_SPARSE_BLOCK_SPARSE_ATTENTION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"
#include "models/tensor.h"

namespace lra {

class BlockSparseAttention : public Attention {
 public:
  // `patterns` holds one pattern for every head, or one per head (BigBird's
  // random blocks differ by head); each must be built for shape.seq_len.
  static absl::StatusOr<std::unique_ptr<BlockSparseAttention>> Create(
      const AttentionShape& shape, std::vector<BlockSparsePattern> patterns);

  // Attention dropout uses the same element stream as "full": element (i, j)
  // of head (b, h) is kept when KeepElement(DeriveSeed(seed, b * H + h),
  // i * N + j, threshold), so a pattern that keeps every pair reproduces
  // full attention exactly, dropout included.
  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;

  // With skipping on (the default), a query row whose position is padding
  // (key_mask 0) outputs zero and passes no gradient, and query blocks made
  // only of such rows are not computed, forward or backward. Off, every
  // query row attends to its allowed real keys as before this was added:
  // the reference of the equivalence tests (outputs and gradients at real
  // positions agree bit for bit when the upstream gradient at padded rows is
  // zero, as in the encoder).
  void set_skip_padded_queries(bool skip) { skip_padded_queries_ = skip; }

  const BlockSparsePattern& pattern(int head) const {
    return patterns_[patterns_.size() == 1 ? 0 : head];
  }

 private:
  struct Scratch;
  struct HeadView;

  BlockSparseAttention(const AttentionShape& shape,
                       std::vector<BlockSparsePattern> patterns);
  // Runs fn(head, scratch) for every head of the last Forward's batch, one
  // head per task, each with its thread's scratch.
  template <typename Fn>
  void ForEachHead(Fn fn);
  void ForwardHead(const HeadView& head, float* out, const Scratch& w);
  void BackwardHead(const HeadView& head, const float* dout, float* dq,
                    float* dk, float* dv, const Scratch& w);

  AttentionShape shape_;
  std::vector<BlockSparsePattern> patterns_;
  float scale_;
  uint32_t drop_threshold_;  // attention dropout: KeepElement's threshold
  float keep_scale_;         // and 1 / (1 - rate), the kept scores' scale
  int num_threads_;
  int max_gather_;          // longest gather list over the patterns
  int64_t natural_stride_;  // row stride of keys/values transposed [Dh, *]
  int64_t gather_stride_;   // the same for the gathered copies
  int64_t scratch_floats_;  // per thread

  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  const float* out_ = nullptr;  // [B, H, N, Dh]
  bool skip_padded_queries_ = true;
  bool dropout_active_ = false;
  Tensor lse_;       // [maxB, H, N] log-sum-exp of each row's allowed scores
  Tensor key_bias_;  // [maxB, natural_stride] 0 real key, -inf padding/tail
  std::vector<int32_t> real_prefix_;  // [maxB, N + 1] real keys before j
  Tensor scratch_;                    // per-thread buffers, see the .cc
};

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BLOCK_SPARSE_BLOCK_SPARSE_ATTENTION_H_
