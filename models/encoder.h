// The LRA transformer encoder (pre-LN, as in LRA's Flax code) with explicit
// Forward/Loss/Backward and a parameter visitor for init, checkpoints and the
// optimizer:
//   embed -> for each block: x = Block(x) -> final LN -> pool -> head
// Each block (models/block.h) holds a token mixer; the attention mixer wraps
// an attention plugin from the registry the caller passes in. With
// num_segments = 2 it is LRA's dual encoder for Retrieval: both documents of
// an example pass through the same weights and the head classifies
// [u, v, u*v, u-v] of their pooled vectors.
#ifndef LRA_MODELS_ENCODER_H_
#define LRA_MODELS_ENCODER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/block.h"
#include "models/layers.h"
#include "models/linear.h"
#include "models/parameters.h"
#include "models/plugins.h"
#include "models/scratch.h"
#include "models/sequence/sequence.h"
#include "models/tensor.h"
#include "proto/config.pb.h"

namespace lra {

// Fills proto3-zero fields with defaults: positional -> LEARNED, pooling ->
// CLS, attention.name -> "full" (with the attention mixer), qkv_dim -> d_model,
// mlp_dim -> 4 * d_model, classifier_dim -> mlp_dim, num_segments -> 1. Fields
// without a sensible default (vocab_size, d_model, num_layers, num_heads,
// num_classes) are left for validation.
absl::Status ResolveModelDefaults(ModelConfig* config);

// Whether the blocks mix tokens with multi-head attention (ModelConfig.mixer
// unset or "attention") rather than another registered mixer.
bool UsesAttentionMixer(const ModelConfig& config);

// Whether positions lie on a 2-D grid of grid_width tokens per row
// (POSITIONAL_LEARNED_2D or POSITIONAL_SINUSOIDAL_2D).
bool UsesGridPositions(const ModelConfig& config);

// Checks a resolved config for an encoder over `seq_len` task tokens (all
// segments together), its attention against `plugins`; each error names the
// field, its value and what is allowed.
absl::Status ValidateModelConfig(const ModelConfig& config, int seq_len,
                                 int max_batch, const ModelPlugins& plugins);

// The sizes an encoder is built for, and the run's seed.
struct EncoderOptions {
  // Task tokens of one example (without CLS); with num_segments = 2 both
  // documents, [doc 1 | doc 2].
  int seq_len = 0;
  // Examples per Forward at most; workspaces are sized for it.
  int max_batch = 0;
  // The run's seed: plugins' random structure (BigBird's random blocks,
  // Performer's features) derives from (seed, layer), so a second seed draws
  // other structure. Parameters are initialised separately (InitParameters).
  uint64_t seed = 0;
  // Run the row-wise layers (embedding, LayerNorm, projections, MLP,
  // pooling) on the real tokens only, packed [T, D], when every block's mixer
  // supports it (the attention mixer with a plugin that honours the key
  // padding mask, and no sequence plugin); otherwise, or when false, on every
  // padded position as before. Outputs and gradients agree with the padded
  // computation within float rounding (see models/README.md).
  bool pack_real_rows = true;
};

class Encoder {
 public:
  // seq_len = task tokens of one example (without CLS); with num_segments = 2
  // that is both documents, [doc 1 | doc 2], so it must be even and each
  // document is seq_len / 2 tokens, encoded on its own with its own CLS and
  // positions 0.. seq_len / 2 (+ CLS). Applies ResolveModelDefaults to a copy
  // of `config` and validates it; plugins are looked up in `plugins`. All
  // workspaces are sized for max_batch here, so the training step allocates
  // nothing afterwards except oneDNN primitives on the first call with a new
  // batch size.
  static absl::StatusOr<std::unique_ptr<Encoder>> Create(
      const ModelConfig& config, const EncoderOptions& options,
      const ModelPlugins& plugins);

  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  ~Encoder();

  // Deterministic by seed: token embeddings, learned positions and CLS are
  // normal(0, 0.02); Linear weights xavier-uniform; biases 0; LayerNorm
  // gamma 1, beta 0; plugins initialise their own parameters.
  void InitParameters(uint64_t seed);

  // Visits every parameter with its gradient (same shape) in a fixed order:
  // embed.*, then per layer ln1, attn (wq bq wk bk wv bv wo bo, then plugin
  // parameters), ln2, mlp, then final_ln and head. Names are the same for
  // both num_segments; only head.w1 differs in shape ([D, C'] or [4D, C'],
  // C' = classifier_dim).
  void ForEachParameter(const ParameterVisitor& fn);
  // The same, with how each parameter is trained (learning-rate scale,
  // weight decay), for the optimizer.
  void ForEachTrainable(const WeightVisitor& fn);
  int64_t NumParameters() const;

  // tokens: [batch, seq_len] int32 in [0, vocab_size), 0 = padding (for
  // the dual encoder [batch, 2, seq_len / 2], each document padded on its
  // own); 1 <= batch <= max_batch (see CheckInputs). Returns logits
  // [batch, num_classes], valid until the next Forward. Dropout only when
  // training; its masks are a pure function of dropout_seed.
  const float* Forward(const int32_t* tokens, int batch, bool training,
                       uint64_t dropout_seed);
  // Mean softmax cross-entropy over the batch of the last Forward; keeps
  // d(logits) for Backward; *correct (may be nullptr) = argmax hits.
  float Loss(const int32_t* labels, int* correct);
  void ZeroGrad();
  // Tells every layer the 1-based training step about to run (or the step a
  // checkpoint was saved at, before evaluating it): plugins whose random
  // structure is redrawn as training goes rebuild it from (seed, layer,
  // step).
  void SetStep(int64_t step);
  // Adds the gradients of the last Loss into every parameter's grad. Needs a
  // preceding Forward (training or not) and Loss.
  void Backward();

  // Called by Backward as gradients become final: fn(first) says that the
  // grads of parameters [first, end) in ForEachParameter order will not
  // change again in this Backward (end: the parameter count). Backward calls
  // it with each of GradientReadyPoints() in turn: after the head and final
  // LayerNorm, after each block from the last to the first, and after the
  // embedding (first = 0). For callers that start using finished gradients
  // (summing them over processes) while the earlier layers are still being
  // differentiated; an empty fn (the default) calls nothing.
  using GradientReadyFn = std::function<void(int first)>;
  void SetGradientReadyHook(GradientReadyFn fn) { ready_hook_ = std::move(fn); }
  // The `first` values Backward passes to the hook, in order: decreasing,
  // the same for every batch, the last 0.
  const std::vector<int>& GradientReadyPoints() const { return ready_points_; }

  // The pooled encodings of the last Forward, [num_segments * batch, D]: row
  // S * b + s is segment s of example b (for the dual encoder, rows 2b and
  // 2b + 1 are u and v). Valid until the next Forward.
  const float* pooled() const { return pooled_.data(); }

  // Checks what Forward and Loss assume but do not check (token ids in the
  // vocabulary, labels in [0, num_classes), batch size); labels may be nullptr.
  absl::Status CheckInputs(const int32_t* tokens, const int32_t* labels,
                           int batch) const;

  const ModelConfig& config() const { return config_; }
  int seq_len() const { return seq_len_; }
  int num_segments() const { return segments_; }
  int max_batch() const { return max_batch_; }
  // Whether Forward runs the row-wise layers on packed real rows.
  bool packs_real_rows() const { return pack_; }

 private:
  // Token and position embeddings, the CLS vector and the pixel intensity
  // direction; position, the grid's row and column tables, cls and intensity
  // are empty when the config has no learned 1-D positions, no learned 2-D
  // positions, no CLS or no pixel_intensity.
  struct EmbeddingWeights {
    EmbeddingWeights(int64_t vocab, int64_t d, int64_t positions,
                     int64_t grid_rows, int64_t grid_cols, bool cls,
                     bool intensity)
        : token({vocab, d}),
          position(positions > 0 ? Tensor({positions, d}) : Tensor()),
          position_row(grid_rows > 0 ? Tensor({grid_rows, d}) : Tensor()),
          position_col(grid_cols > 0 ? Tensor({grid_cols, d}) : Tensor()),
          cls(cls ? Tensor({d}) : Tensor()),
          intensity(intensity ? Tensor({d}) : Tensor()) {}
    Tensor token;         // [vocab, D]
    Tensor position;      // [max_positions, D] (learned positions only)
    Tensor position_row;  // [grid rows, D] (learned 2-D positions only)
    Tensor position_col;  // [grid_width, D] (learned 2-D positions only)
    Tensor cls;           // [D] (CLS pooling only)
    Tensor intensity;     // [D] (ModelConfig.pixel_intensity only)
  };
  // Everything outside the blocks; one instance for values, one for grads.
  struct OuterWeights {
    OuterWeights(const ModelConfig& config, int64_t positions,
                 int64_t segment_len, int64_t features);
    EmbeddingWeights embed;
    LayerNormWeights final_ln;
    MlpWeights head;  // [F, C'] -> ReLU -> [C', classes]
  };
  struct Parameter {
    std::string name;
    Tensor* value;
    Tensor* grad;
    WeightSpec spec;
  };

  Encoder(const ModelConfig& config, const EncoderOptions& options);
  absl::Status Build(const ModelPlugins& plugins);
  void ForEachWeight(const WeightVisitor& fn);
  // The head on pooled [B', D]: logits [B, C].
  void HeadForward(int batch);
  // d(logits) -> dpooled_ [B', D].
  void HeadBackward(int batch);
  // Without a sequence plugin: the blocks on the embedded input in xs_[0]
  // ([B', N', D], or [R, D] on a packed step), the final LN and the pooling
  // into pooled_.
  void ForwardThroughBlocks(int seqs, bool training, uint64_t dropout_seed);
  // Its backward: pooling, final LN and the blocks backward,
  // dx [B', N', D] = d(embedded input), overwritten ([R, D] when packed).
  void BackwardThroughBlocks(float* d_final_ln, float* dx);
  // On a packed step: the embedding on the packed real rows, then
  // ForwardThroughBlocks.
  void ForwardPacked(const int32_t* tokens, int seqs, bool training,
                     uint64_t dropout_seed);
  // The table the embedding reads, [vocab, D]: embed.token, or with
  // pixel_intensity token_table_ = token[t] + intensity(t) * embed.intensity,
  // rebuilt here.
  const float* TokenTableForward();
  // Where the embedding backward adds d(table): g.token, or token_dtable_
  // (zeroed) with pixel_intensity; TokenTableBackward then sends it on to
  // the token table and the intensity direction.
  float* TokenTableGradient();
  void TokenTableBackward();
  // The position table [N', D] added to the embedded tokens, or nullptr
  // without positions; with learned 2-D positions it is first rebuilt from
  // the row and column tables.
  const float* PositionsForward();
  // Where the embedding backward adds d(position table) [N', D] (zeroed
  // first for learned 2-D positions), or nullptr when nothing is learned;
  // PositionsBackward then sends it on to the row and column tables.
  float* PositionGradient();
  void PositionsBackward();
  // Calls the gradient-ready hook, when one is set.
  void GradientsReady(int first) {
    if (ready_hook_) ready_hook_(first);
  }

  ModelConfig config_;
  int seq_len_;      // task tokens per example, all segments
  int segments_;     // S: documents per example, each encoded separately
  int segment_len_;  // N = seq_len_ / S tokens per encoded sequence
  int positions_;    // N' = N + 1 with CLS, else N
  int feature_dim_;  // F: head input width, D (S = 1) or 4 D (S = 2)
  int max_batch_;
  uint64_t seed_;
  bool pack_requested_;  // EncoderOptions.pack_real_rows
  bool pack_ = false;    // requested and every block supports it
  // The last Forward ran packed: pack_, and packing removed at least one
  // 64-row chunk (a batch without padding keeps the one-matmul padded path).
  bool packed_step_ = false;
  int d_, classifier_, classes_;
  bool has_cls_;

  OuterWeights w_, g_;
  ScratchBuffers scratch_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<Parameter> params_;  // every parameter in visiting order
  // The first parameter of final_ln and of each block (the hook's points).
  int final_ln_first_ = 0;
  std::vector<int> block_first_;
  std::vector<int> ready_points_;
  GradientReadyFn ready_hook_;
  // The sequence plugin (ModelConfig.sequence), or null for all positions at
  // once through the block loop.
  std::unique_ptr<SequenceHandler> sequence_;
  // Further lists of blocks the sequence plugin runs on (block_lists() - 1
  // of them), built like blocks_; not parameters.
  std::vector<BlockList> block_copies_;
  int stream_len_;  // P: positions normalised and pooled (N' without plugin)
  Linear head1_, head2_;

  // Activations of the last Forward, sized for max_batch. Inside the blocks
  // the batch is of sequences: B' = S * B, where sequence S * b + s is
  // segment s of example b (the tokens' own layout, so no copy is needed).
  Tensor sinusoid_;                    // [N', D] (1-D or 2-D sinusoids only)
  int grid_rows_ = 0, grid_cols_ = 0;  // the 2-D positions' grid, or 0
  Tensor grid_table_;                  // [N', D] (learned 2-D positions only)
  Tensor grid_dtable_;                 // [N', D] its gradient
  Tensor token_table_;                 // [vocab, D] (pixel_intensity only)
  Tensor token_dtable_;                // [vocab, D] its gradient
  std::vector<int32_t> tokens_;      // [B', N] copy of the last Forward's input
  std::vector<uint8_t> key_mask_;    // [B', N'] 1 = real token (CLS is real)
  std::vector<uint8_t> embed_mask_;  // [B', N', D] embedding dropout
  // L + 1 residual streams, each [B', N', D], or [R, D] packed; sized for
  // PackedCapacity(B' N') rows, as are the other row buffers below.
  std::vector<Tensor> xs_;
  // The real rows of key_mask_ (pack_ only).
  std::vector<int32_t> pack_position_;   // [B' N']
  std::vector<int32_t> pack_seq_start_;  // [B' + 1]
  PackedRows packed_;
  // With a sequence plugin: its output and what pooling averages.
  Tensor stream_out_;               // [B', P, D]
  std::vector<uint8_t> pool_mask_;  // [B', P]
  Tensor dstream_;                  // [B', P, D]
  Tensor final_ln_;                 // [B', N', D] ([B', P, D])
  Tensor final_mean_, final_rstd_;  // [B', N']
  Tensor pooled_;                   // [B', D]
  Tensor features_;                 // [B, F] (S = 2 only): [u, v, u*v, u-v]
  Tensor head_hidden_;              // [B, C'] after ReLU
  Tensor logits_;                   // [B, C]
  Tensor dlogits_;                  // [B, C]
  // Gradient buffers.
  Tensor dx_;              // [B', N', D] gradient of the stream
  ScratchRef d_final_ln_;  // [B', N', D]
  Tensor dpooled_;         // [B', D]
  Tensor dfeatures_;       // [B, F] (S = 2 only)
  Tensor dhead_hidden_;    // [B, C']

  int batch_ = 0;
  bool dropout_active_ = false;
};

}  // namespace lra

#endif  // LRA_MODELS_ENCODER_H_
