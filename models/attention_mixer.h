// The attention mixer: multi-head self-attention around an attention plugin.
// It projects x to queries, keys and values, splits heads, lets the plugin
// (models/attention/) mix positions, merges heads and projects back.
#ifndef LRA_MODELS_ATTENTION_MIXER_H_
#define LRA_MODELS_ATTENTION_MIXER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/linear.h"
#include "models/mixer.h"
#include "models/packed_mixer.h"
#include "models/qkv_projections.h"
#include "models/scratch.h"
#include "proto/config.pb.h"

namespace lra {

class AttentionMixer final : public TokenMixer, public PackedRowsMixer {
 public:
  // Builds the plugin named by config.attention from `registry` for `shape`
  // (config must be resolved: qkv_dim, num_heads, attention_dropout).
  // Temporaries come from `scratch`, shared with the other layers.
  static absl::StatusOr<std::unique_ptr<AttentionMixer>> Create(
      const ModelConfig& config, const MixerShape& shape,
      const AttentionRegistry& registry, ScratchBuffers* scratch);

  void Forward(const float* x, const MixerStep& step, float* y) override;
  void Backward(const float* dy, float* dx) override;
  void ForEachWeight(const WeightVisitor& fn) override;
  void InitParameters(uint64_t seed) override;
  void SetStep(int64_t step) override;
  const char* name_prefix() const override { return "attn"; }

  // Packed real rows: the projections run on the real rows only; the plugin
  // still sees [B', H, N, Dh] with zeros at padded positions, and its outputs
  // there are dropped. Supported when the plugin honours the key padding
  // mask (then real outputs do not depend on the padded rows).
  bool packed_rows_supported() const override { return key_padding_mask_; }
  void ForwardPacked(const float* x, const MixerStep& step,
                     const PackedRows& rows, float* y) override;
  void BackwardPacked(const float* dy, float* dx) override;

 private:
  // The four projections x Wq + bq, ..., merged Wo + bo (wk and bk stay
  // empty for a shared-QK plugin).
  using Projections = QkvProjections;

  AttentionMixer(const MixerShape& shape, int heads, int qkv,
                 const AttentionCapabilities& capabilities,
                 std::unique_ptr<Attention> attention, ScratchBuffers* scratch);

  // After the plugin's Backward: dx (+)= dq Wq^T + dk Wk^T + dv Wv^T (the
  // first overwrites unless accumulate) and the projections' parameter
  // gradients, over `rows` rows: padded rows when packed is nullptr, else
  // the packed real rows.
  void BackwardProjections(const PackedRows* packed, int64_t rows,
                           bool accumulate, float* d_merged, float* dx);

  MixerShape shape_;
  int heads_, head_dim_, qkv_dim_;
  // The plugin's queries are its keys: no key projection (wk, bk unused).
  bool shared_qk_;
  // The plugin reads the normalised input x and adds into dx.
  bool needs_layer_input_;
  bool key_padding_mask_;  // the plugin honours key_mask
  Projections w_, g_;
  Linear q_, k_, v_, o_;
  std::unique_ptr<Attention> attention_;

  // Kept from Forward for Backward (the plugin reads q, k, v and out).
  const float* x_ = nullptr;  // [B', N, D] (packed: [R, D])
  int seqs_ = 0;
  PackedRows packed_;    // of the last ForwardPacked
  Tensor qh_, kh_, vh_;  // [B', H, N, Dh]
  Tensor heads_out_;     // [B', H, N, Dh]
  Tensor merged_;        // [B', N, Q] (packed: [R, Q]; R <= capacity)
  Tensor x_padded_;      // [B', N, D] packed x scattered (needs_layer_input)
  // Shared temporaries.
  ScratchRef qkv_;           // [B', N, Q] (packed: [R, Q])
  ScratchRef d_merged_;      // [B', N, Q] (packed: [R, Q])
  ScratchRef dx_padded_;     // [B', N, D] (packed, needs_layer_input only)
  ScratchRef d_heads_;       // [B', H, N, Dh]
  ScratchRef dq_, dk_, dv_;  // [B', H, N, Dh]
};

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_MIXER_H_
