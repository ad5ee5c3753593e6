// Inducing-point token mixing, as the Set Transformer's ISAB (Lee et al.
// 2019) and Luna (Ma et al. 2021): per block, M memory slots attend over the
// real tokens ("pack"), then every token attends over the packed slots
// ("unpack"). Positions interact only through the M slots, so time and
// memory are O(N M) for N tokens, whatever the length.
//
//   S = learned slots I [M, D] (or, with carry, layer l-1's packed slots)
//   H = LN(S + MHA(S, X, X))          the Set Transformer's MAB(I, X),
//                                     without its row-wise feed-forward
//   Y = MHA(X, H, H)                  at real tokens; 0 at padded ones
//
// The outer MAB(X, H) of the ISAB is the block around the mixer (residual,
// LN2, MLP). With `carry` the slots of layer l are layer l-1's H (Luna's
// packed context carried from layer to layer); layer 0 reads its learned
// slots.
#ifndef LRA_MODELS_MIXERS_ISAB_ISAB_MIXER_H_
#define LRA_MODELS_MIXERS_ISAB_ISAB_MIXER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "models/linear.h"
#include "models/mixer.h"
#include "models/qkv_projections.h"
#include "models/tensor.h"

namespace lra {

struct IsabOptions {
  int memory_slots = 32;  // M
  int heads = 1;          // of both attentions
  int qkv_dim = 1;        // Q = heads * Dh
  // Luna: read the previous layer's packed slots instead of learned ones.
  bool carry = false;
  // Test only: the carried slots pass no gradient back to the previous
  // layer (a deliberately wrong mixer the encoder gradient check must catch).
  bool drop_carry_gradient = false;
};

class IsabMixer final : public TokenMixer {
 public:
  // `previous` is block layer_index - 1's mixer if it is an isab, else
  // null. With carry this layer reads its packed slots (so it must run
  // Forward before this one and Backward after it, as the encoder's blocks
  // do); with sizes alike the two share their workspace.
  IsabMixer(const MixerShape& shape, const IsabOptions& options,
            IsabMixer* previous);

  void Forward(const float* x, const MixerStep& step, float* y) override;
  void Backward(const float* dy, float* dx) override;
  // slots [M, D] (not in carried layers after the first), then
  // pack.{wq bq wk bk wv bv wo bo}, pack.ln.{gamma beta},
  // unpack.{wq bq wk bk wv bv wo bo}; w* are [D, Q] ([Q, D] for wo).
  void ForEachWeight(const WeightVisitor& fn) override;
  void InitParameters(uint64_t seed) override;
  const char* name_prefix() const override { return "isab"; }

  static MixerPlugin Plugin();
  // The plugin's FLOPs hook (MixerFlopsFn): one layer's forward FLOPs.
  static ForwardFlops Flops(const PluginParams& params,
                            const ModelConfig& model,
                            const std::vector<int>& positions);
  // "isab_broken_carry": Plugin() with drop_carry_gradient, for tests.
  static MixerPlugin BrokenCarryPluginForTesting();

 private:
  static MixerFactory Factory(bool drop_carry_gradient);

  // The projections of one attention (pack or unpack).
  using Attention = QkvProjections;
  struct Weights {
    Weights(int64_t m, int64_t d, int64_t q, bool learned_slots)
        : slots(learned_slots ? Tensor({m, d}) : Tensor()),
          pack(d, q),
          ln_gamma({d}),
          ln_beta({d}),
          unpack(d, q) {}
    Tensor slots;  // [M, D]
    Attention pack;
    Tensor ln_gamma, ln_beta;  // [D]
    Attention unpack;
  };

  // p [rows, cols] = softmax(scale * p) per row over the columns whose
  // key_mask entry is set (key_mask [B', cols] indexed by row / rows_per_seq;
  // null = every column); masked columns and rows without a real key get 0.
  void Softmax(float* p, int64_t rows, int cols, int64_t rows_per_seq,
               const uint8_t* key_mask) const;
  // ds [rows, cols] = scale * p * (ds - sum_j p ds) in place (ds holds dP).
  void SoftmaxBackward(const float* p, int64_t rows, int cols, float* ds) const;

  MixerShape shape_;
  IsabOptions options_;
  IsabMixer* previous_;  // the layer whose packed slots are read (carry)
  int m_, heads_, dh_, q_;
  float scale_;  // 1 / sqrt(Dh)
  int threads_;
  Weights w_, g_;
  Linear in_;   // [D] -> [Q]: the six query, key and value projections
  Linear out_;  // [Q] -> [D]: the two output projections
  MatmulCache bmm_;

  // State of the last Forward.
  const float* x_ = nullptr;  // [B', N, D]
  int seqs_ = 0;
  std::vector<uint8_t> mask_;  // [B', N]
  Tensor s_;                   // [B', M, D] slots read
  Tensor q1_;                  // [B', H, M, Dh] slot queries
  Tensor k1_, v1_;             // [B', H, N, Dh] token keys, values
  Tensor p1_;                  // [B', H, M, N] pack probabilities
  Tensor merged1_;             // [B', M, Q] pack heads merged
  Tensor r_;                   // [B', M, D] S + pack output
  Tensor ln_mean_, ln_rstd_;   // [B', M]
  Tensor h_;                   // [B', M, D] packed slots
  Tensor q2_;                  // [B', H, N, Dh] token queries
  Tensor k2_, v2_;             // [B', H, M, Dh] slot keys, values
  Tensor p2_;                  // [B', H, N, M] unpack probabilities
  Tensor merged2_;             // [B', N, Q] unpack heads merged
  // d(H) added by the next layer's Backward (carry only).
  Tensor d_carry_;  // [B', M, D]

  // Temporaries used only inside one Forward or Backward call. The isab
  // layers of one encoder share one set (a layer takes its predecessor's
  // when the sizes agree), as the blocks share ScratchBuffers.
  struct Workspace {
    Workspace(int64_t b, int64_t n, int64_t m, int64_t d, int64_t h, int64_t dh,
              int64_t q);
    Tensor proj;        // [B', max(N, M), Q] a projection, its d
    Tensor dy;          // [B', N, D] dy with padded rows zeroed
    Tensor heads;       // [B', H, max(N, M), Dh] attention outputs, their d
    Tensor dp;          // [B', H, N M] d of probabilities, then of scores
    Tensor dq, dk, dv;  // [B', H, max(N, M), Dh]
    Tensor d_packed;    // [B', M, D] d(H)
    Tensor dr, ds;      // [B', M, D] d(R), d(S)
  };
  std::shared_ptr<Workspace> ws_;
};

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_ISAB_ISAB_MIXER_H_
