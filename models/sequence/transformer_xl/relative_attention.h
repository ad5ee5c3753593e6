// Transformer-XL's attention (Dai et al. 2019, section 3.3) for one layer:
// queries of the current segment attend over [memory | segment], where the
// memory is the layer's input at the positions just before the segment,
// cached from earlier segments and normalised with the block's own LN1
// (pre-LN: LN1 is applied to the concatenation, as in the reference code's
// pre_lnorm mode). Scores use relative positions with the paper's two
// global biases u and v:
//   s(i, j) = ((q_i + u) . k_j + (q_i + v) . r_{i - j}) / sqrt(Dh)
// where r_d = R_d Wr and R_d is the sinusoid of the distance d between query
// and key (negative for keys after the query: the attention is
// bidirectional inside the visible window). The memory gets no gradient
// (stop-gradient); LN1's gamma and beta do get the memory rows' share, as
// they would with the reference code's layer norm over cat(mems, w).
//
// Dense per segment: S x (M + S) scores per head, one row at a time; the
// probabilities are recomputed in Backward from the saved log-sum-exp.
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
  int max_seqs = 1;  // B'
  int seg_len = 1;   // S: queries (the current segment)
  int mem_len = 0;   // M: memory keys before the segment
  int d_model = 1;   // D
  int heads = 1;     // H
  int qkv_dim = 1;   // Q = H * Dh
  float attention_dropout = 0.0f;
  // Test only: drops the relative-position term's gradient into the queries
  // (a wrong kernel the gradient checks must catch).
  bool broken_position_gradient = false;
};

class RelativeAttention final : public TokenMixer {
 public:
  RelativeAttention(const RelativeAttentionShape& shape,
                    ScratchBuffers* scratch);

  // What the next Forward reads before the segment: the layer's inputs at
  // the M positions before it, [B', M, D], and which of them are real,
  // [B', M] (0 for padding and for positions before the sequence start).
  // Filled by the handler; must stay unchanged until Backward.
  float* memory() { return memory_.data(); }
  uint8_t* memory_mask() { return memory_mask_.data(); }
  // The block's LN1, applied to the memory rows (values and gradients).
  void SetLayerNorm(LayerNormWeights* values, LayerNormWeights* grads) {
    ln_ = values;
    ln_grad_ = grads;
  }

  // x [B', S, D]: LN1 of the segment's layer input -> y [B', S, D].
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

  void KernelForward();
  void KernelBackward();

  RelativeAttentionShape shape_;
  int s_, m_, t_, d_, h_, dh_, q_dim_, num_rel_;
  float scale_;
  int num_threads_;
  Weights w_, g_;
  Linear q_proj_, k_proj_, v_proj_, r_proj_, o_proj_;
  LayerNormWeights* ln_ = nullptr;
  LayerNormWeights* ln_grad_ = nullptr;
  Tensor rel_table_;  // [R, D] sinusoids of the distances

  // Set by the handler before Forward.
  Tensor memory_;                     // [B', M, D]
  std::vector<uint8_t> memory_mask_;  // [B', M]
  // State of the last Forward.
  const float* x_ = nullptr;  // [B', S, D]
  int seqs_ = 0;
  bool dropout_active_ = false;
  uint64_t seed_ = 0;
  Tensor mem_norm_;                // [B', M, D] LN1(memory)
  Tensor mem_mean_, mem_rstd_;     // [B', M]
  Tensor cat_;                     // [B', T, D] [LN1(memory) | x], T = M + S
  std::vector<uint8_t> key_mask_;  // [B', T]
  Tensor q_;                       // [B', S, Q]
  Tensor k_, v_;                   // [B', T, Q]
  Tensor rk_;                      // [R, Q] projected distances
  Tensor o_;                       // [B', S, Q] merged head outputs
  Tensor lse_;                     // [B', H, S] log-sum-exp (+inf: no key)
  // Shared temporaries.
  ScratchRef d_o_, d_q_;        // [B', S, Q]
  ScratchRef d_k_, d_v_;        // [B', T, Q]
  ScratchRef d_cat_;            // [B', T, D]
  ScratchRef d_mem_norm_;       // [B', M, D]
  ScratchRef d_mem_discarded_;  // [B', M, D] the memory's gradient, dropped
  ScratchRef d_rk_;             // [R, Q]
  ScratchRef rows_;             // [threads, 2 T + 2 Dh] per-thread rows
};

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_TRANSFORMER_XL_RELATIVE_ATTENTION_H_
