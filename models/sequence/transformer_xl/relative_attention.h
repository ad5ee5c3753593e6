// Transformer-XL's attention (Dai et al. 2019, section 3.3) for one layer,
// over every segment of the sequence at once. The block runs on the whole
// (padded) sequence of G segments of S tokens, N' = G S positions; the
// queries of segment g attend over the keys at positions [gS - M, gS + S):
// the M positions before the segment (the memory, from one or several
// earlier segments; positions before 0 are absent) and the segment itself.
// Scores use relative positions with the paper's two global biases u, v:
//   s(i, j) = ((q_i + u) . k_j + (q_i + v) . r_{i - j}) / sqrt(Dh)
// where r_d = R_d Wr and R_d is the sinusoid of the distance d between query
// and key (negative for keys after the query: the attention is
// bidirectional inside the visible window).
//
// The memory is the layer's input at the earlier positions, normalised with
// the block's own LN1 (pre-LN: LN1 applied to cat(mems, w), as in the
// reference code's pre_lnorm mode), which is exactly the block's LN1 output
// at those positions: memory keys and values are rows of the same K and V.
// Because no gradient enters the cache (stop-gradient), the gradient a key
// row receives as memory of a later segment goes only to Wk, Wv and LN1's
// gamma and beta, never into the layer input; the gradient it receives as a
// key of its own segment flows on as usual. Since every segment's memory is
// known once the previous layer has run, all segments run as one batch.
//
// Flash-style: per 64-query block, the online softmax runs over 64-key
// tiles with the shared register-tiled kernels; only the log-sum-exp is
// kept and Backward recomputes the probabilities. The position term of a
// query block [i0, i0 + rows) against its whole window needs R at the
// contiguous distances [i0 - T + 1 .. i0 + rows - 1 + M]: one tiled product
// of the block's (q + v) rows with that slice of R, read back shifted per
// row (the "relative shift"). Work per segment is O(S (M + S) Dh) per head.
#ifndef LRA_MODELS_SEQUENCE_TRANSFORMER_XL_RELATIVE_ATTENTION_H_
#define LRA_MODELS_SEQUENCE_TRANSFORMER_XL_RELATIVE_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "models/linear.h"
#include "models/mixer.h"
#include "models/parameters.h"
#include "models/scratch.h"
#include "models/tensor.h"

namespace lra {

struct RelativeAttentionShape {
  int max_seqs = 1;      // B'
  int seg_len = 1;       // S: queries per segment
  int num_segments = 1;  // G: the mixer sees N' = G S positions
  int mem_len = 0;       // M: memory keys before each segment
  int d_model = 1;       // D
  int heads = 1;         // H
  int qkv_dim = 1;       // Q = H * Dh
  float attention_dropout = 0.0f;
  // Test only: the memory may come from a separate source (the handler's
  // frozen cache) instead of the block's own input; sizes the buffers.
  bool separate_memory = false;
  // Test only: drops the relative-position term's gradient into the queries
  // (a wrong kernel the gradient checks must catch).
  bool broken_position_gradient = false;
};

class RelativeAttention final : public TokenMixer {
 public:
  RelativeAttention(const RelativeAttentionShape& shape,
                    ScratchBuffers* scratch);

  // The block's LN1, applied to separate memory rows (values and gradients)
  // and receiving the memory rows' share of the gradient.
  void SetLayerNorm(LayerNormWeights* values, LayerNormWeights* grads) {
    ln_ = values;
    ln_grad_ = grads;
  }
  // The block's input [B', N', D] (before LN1), where the memory is read.
  // With `separate` (shape.separate_memory only) the memory keys and values
  // come from LN1(source) instead of from the mixer's own input; without,
  // source must be the block's input of the next Forward. Must stay alive
  // and unchanged until Backward.
  void SetMemorySource(const float* source, bool separate) {
    mem_source_ = source;
    separate_ = separate;
  }

  // x [B', N', D]: LN1 of the block input -> y [B', N', D].
  void Forward(const float* x, const MixerStep& step, float* y) override;
  void Backward(const float* dy, float* dx) override;
  // wq wk wv [D, Q], wr [D, Q] (relative positions), u v [Q] (per head
  // [H, Dh]), wo [Q, D], bo [D].
  void ForEachWeight(const WeightVisitor& fn) override;
  const char* name_prefix() const override { return "attn"; }

  // Distinct query-key distances, M + 2S - 1: row r of the sinusoid table
  // is the distance M + S - 1 - r.
  int num_distances() const { return num_rel_; }

 private:
  struct Weights {
    Weights(int64_t d, int64_t q)
        : wq({d, q}),
          wk({d, q}),
          wv({d, q}),
          wr({d, q}),
          u({q}),
          v({q}),
          wo({q, d}),
          bo({d}) {}
    Tensor wq, wk, wv, wr;  // [D, Q]
    Tensor u, v;            // [Q] = [H, Dh]
    Tensor wo;              // [Q, D]
    Tensor bo;              // [D]
  };

  // Per-head layouts the tile kernels read, from rows [B', N', Q]:
  // transposed [B', H, Dh, kt_stride_] (zero past N') and plain
  // [B', H, N', Dh].
  void Transpose(const float* rows, float* out) const;
  void Split(const float* rows, float* out) const;
  // The distances' projections per head: rel_t_ [H, Dh, rel_stride_] and
  // rel_rows_ [H, rel_rows_count_, Dh], zero past R.
  void SplitDistances();
  void KernelForward();
  void KernelBackward();
  // dgamma, dbeta of LN1 from d_mem_norm_ over the memory source rows.
  void MemoryLayerNormBackward(const float* source);

  RelativeAttentionShape shape_;
  int s_, g_, n_, m_, t_, d_, h_, dh_, q_dim_, num_rel_;
  int kt_stride_;       // columns of the transposed keys and values
  int rel_stride_;      // columns of rel_t_
  int rel_rows_count_;  // rows of rel_rows_
  int max_bd_tiles_;    // 64-column tiles of one query block's position term
  float scale_;
  int num_threads_;
  int64_t thread_floats_;
  Weights w_, grad_;
  Linear q_proj_, k_proj_, v_proj_, r_proj_, o_proj_;
  LayerNormWeights* ln_ = nullptr;
  LayerNormWeights* ln_grad_ = nullptr;
  Tensor rel_table_;  // [R, D] sinusoids of the distances
  const float* mem_source_ = nullptr;
  bool separate_ = false;

  // State of the last Forward.
  const float* x_ = nullptr;           // [B', N', D]
  const uint8_t* key_mask_ = nullptr;  // [B', N']
  int seqs_ = 0;
  bool dropout_active_ = false;
  bool separate_used_ = false;
  uint64_t seed_ = 0;
  Tensor q_;                    // [B', N', Q]
  Tensor k_, v_;                // [B', N', Q]
  Tensor mem_norm_;             // [B', N', D] LN1(memory source), separate only
  Tensor mem_mean_, mem_rstd_;  // [B', N'], separate only
  Tensor km_, vm_;     // [B', N', Q] memory keys, values; separate only
  Tensor rk_;          // [R, Q] projected distances
  Tensor o_;           // [B', N', Q] merged head outputs
  Tensor lse_;         // [B', H, N'] log-sum-exp (+inf: no key)
  Tensor rel_t_;       // [H, Dh, rel_stride_]
  Tensor rel_rows_;    // [H, rel_rows_count_, Dh]
  Tensor ln_partial_;  // [threads, 2 D] LN1 gradient partial sums
  // Shared temporaries.
  ScratchRef keys_t_, values_t_;  // [B', H, Dh, kt_stride_]
  ScratchRef heads_;              // [B', H, N', Dh] values (fwd), keys (bwd)
  ScratchRef mem_keys_t_, mem_values_t_;  // separate memory only, as above
  ScratchRef mem_heads_;                  // separate memory only
  ScratchRef d_o_, d_q_;                  // [B', N', Q]
  ScratchRef d_k_, d_v_;    // [B', N', Q] as keys of their own segment
  ScratchRef d_km_, d_vm_;  // [B', N', Q] as memory of later segments
  ScratchRef d_mem_norm_;   // [B', N', D]
  ScratchRef d_rk_;         // [R, Q]
  ScratchRef threads_;      // [threads, thread_floats_] see the .cc
};

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_TRANSFORMER_XL_RELATIVE_ATTENTION_H_
