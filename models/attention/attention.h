// The attention plugin contract and its registry: the seam where X-former
// variants plug into the attention mixer (models/attention_mixer.h). One
// plugin = one folder under attention/, listed once in builtin.cc.
#ifndef LRA_MODELS_ATTENTION_ATTENTION_H_
#define LRA_MODELS_ATTENTION_ATTENTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/parameters.h"
#include "models/plugin_params.h"
#include "models/plugin_registry.h"
#include "models/rng.h"
#include "models/tensor.h"
#include "proto/config.pb.h"

namespace lra {

// A conformance check that does not apply to a plugin as written, and what
// the suite does instead. Declared with a reason that `lra list` prints; the
// suite refuses an exemption it does not know how to honour, and never
// exempts padding invariance.
struct AttentionExemption {
  enum class Treatment {
    // Discrete choices made from the inputs (hash buckets, sorted blocks)
    // flip under a central-difference step: the gradient checks freeze the
    // structure found by the analytic pass (Attention::FreezeStructure).
    // For "Gradients" and "GradientsWithDropout".
    kFreezeStructure,
    // The check does not apply and is skipped: only "DropoutApplied", for a
    // plugin with no attention matrix to drop entries of.
    kSkip,
  };
  std::string check;  // a ConformanceCheck name, e.g. "Gradients"
  Treatment treatment = Treatment::kSkip;
  std::string reason;
};

// What a plugin supports, printed by `lra list` and checked by the
// conformance suite.
struct AttentionCapabilities {
  bool key_padding_mask =
      false;               // honours key_mask (padded keys get no weight)
  bool causal = false;     // can restrict a query to keys at or before it
  bool learnable = false;  // has parameters of its own
  std::string complexity;  // in sequence length N, e.g. "O(N^2)"
  // Queries and keys are one projection (Reformer's shared QK): the mixer
  // computes no key projection, passes k == q, and Backward folds the
  // gradient of the key role into dq (dk is nullptr).
  bool shared_qk = false;
  // Reads the block's normalised input x [B, N, D] (the dense Synthesizer
  // computes its attention weights from it) and adds into its gradient.
  bool needs_layer_input = false;
  // Has parameters sized by shape.seq_len (Linformer's projections, the
  // random Synthesizer's matrix): a checkpoint is tied to its length.
  bool length_dependent_parameters = false;
  // Random structure redrawn as training goes (SetStep), e.g. Performer's
  // features every K steps.
  bool redraws_structure = false;
  std::vector<AttentionExemption> exemptions;
};

// Tolerances the plugin declares for the shared tests: forward against its
// reference, and central-difference gradient checks.
struct AttentionTolerances {
  float forward_abs = 1e-4f;
  float grad_rel = 2e-2f;
  float grad_abs = 2e-3f;
  float grad_epsilon = 1e-2f;
};

// The fixed sizes an instance is built for; workspaces are sized by them.
struct AttentionShape {
  int max_batch = 1;
  int num_heads = 1;
  int seq_len = 1;  // positions seen by attention (including CLS)
  int head_dim = 1;
  float attention_dropout = 0.0f;
  int layer_index = 0;
  // Seed of the plugin's random structure (BigBird's random blocks,
  // Performer's features, Reformer's rotations), derived from the run's
  // seed and the layer: a second seed draws other structure.
  uint64_t seed = 0;
  // Position 0 is the encoder's CLS token (CLS pooling), which patterns such
  // as Longformer's make global.
  bool cls_token = false;
  int d_model = 1;  // width of the layer input (needs_layer_input plugins)
};

// Attention dropout's factor for weight (i, j) of head (b, h) as "full"
// attention draws it: element i * N + j of the head's stream (HeadDropoutFactor
// with head b * H + h), for plugins that form an [N, N] matrix of weights.
inline float DropoutFactorAt(const AttentionShape& shape, bool active,
                             uint64_t seed, int b, int h, int i, int j) {
  return HeadDropoutFactor(
      active, seed, static_cast<uint64_t>(b) * shape.num_heads + h,
      static_cast<uint64_t>(i) * shape.seq_len + j, shape.attention_dropout);
}

// What one Forward reads. q, k, v are [B, H, N, Dh] contiguous with
// N = shape.seq_len; the instance may keep these pointers and read them in
// Backward, so the caller keeps the buffers alive and unchanged until then.
struct AttentionInputs {
  const float* q = nullptr;
  const float* k = nullptr;  // == q for shared_qk plugins
  const float* v = nullptr;
  // [B, N], 1 = real key, 0 = padding (nullptr = no padding). A padded
  // position is padding as a query too: its output is unspecified (finite),
  // and no caller may let it reach a real position; "full" and the
  // block-sparse engine write zero there and skip blocks of padded queries.
  const uint8_t* key_mask = nullptr;
  int batch = 0;
  // Attention dropout applies only when training; its masks are a pure
  // function of seed (counter-based, so Backward can regenerate them).
  bool training = false;
  uint64_t seed = 0;
  // [B, N, D]: the block's normalised input, for needs_layer_input plugins
  // (nullptr for the others).
  const float* x = nullptr;
};

// Where Backward writes, for the batch of the last Forward. dq, dk, dv
// ([B, H, N, Dh]) are overwritten; dk is nullptr for shared_qk plugins, whose
// dq holds the gradient of both the query and the key role. dx ([B, N, D],
// needs_layer_input plugins only, else nullptr) is added into: the plugin
// zeroes nothing and adds its part for the batch's examples (the attention
// mixer zeroes dx first and adds the projections' part afterwards).
struct AttentionGradients {
  float* dq = nullptr;
  float* dk = nullptr;
  float* dv = nullptr;
  float* dx = nullptr;
};

// One instance per encoder layer; owns its workspace.
class Attention {
 public:
  virtual ~Attention() = default;

  // out: [B, H, N, Dh]. The score scale 1/sqrt(Dh) is applied inside.
  virtual void Forward(const AttentionInputs& in, float* out) = 0;
  // dout: [B, H, N, Dh]. Adds into the plugin's own parameter gradients.
  virtual void Backward(const float* dout, const AttentionGradients& grads) = 0;

  // Visits the plugin's own parameters (names relative to the layer, e.g.
  // "proj"; the encoder prefixes "layer{i}.attn.").
  virtual void ForEachParameter(const ParameterVisitor& fn) {}
  // Deterministic initialisation of the plugin's own parameters.
  virtual void InitParameters(uint64_t seed) {}

  // Called before every training step with its 1-based step, and before
  // evaluating a checkpoint with the step it was saved at. A plugin that
  // redraws random structure every K steps rebuilds it here as a pure
  // function of (shape.seed, step / K), so a resumed run and an evaluated
  // checkpoint see the structure they trained with.
  virtual void SetStep(int64_t step) {}
  // Tests only, for a kFreezeStructure exemption: while frozen, Forward
  // reuses the discrete structure chosen by the last unfrozen Forward.
  virtual void FreezeStructure(bool frozen) {}
};

using AttentionFactory =
    std::function<absl::StatusOr<std::unique_ptr<Attention>>(
        const PluginParams& params, const AttentionShape& shape)>;

// One configuration in which the conformance suite
// (models/attention/conformance/) runs a plugin. A plugin lists the parameter
// settings worth testing: e.g. a small block so that short test sequences span
// several blocks, each mode it has, and its causal setting.
struct AttentionTestCase {
  std::string label;                // shown in failures, e.g. "sliding"
  std::vector<PluginParam> params;  // overrides of the declared defaults
  // These params make the plugin causal, so the suite checks that no output
  // depends on a later position.
  bool causal = false;
  // Shortest sequence this configuration supports; the suite skips shorter
  // test lengths (and runs at min_seq_len itself if that skips them all).
  int min_seq_len = 1;
};

// Everything the registry knows about one variant.
struct AttentionPlugin {
  std::string name;
  std::string description;
  std::vector<PluginParamSpec> params;
  AttentionCapabilities capabilities;
  AttentionTolerances tolerances;
  AttentionFactory factory;
  // Configurations for the conformance suite. Empty means one case with the
  // defaults, plus (for a causal-capable plugin with a flag named "causal")
  // one with that flag set.
  std::vector<AttentionTestCase> test_cases;
  // Optional: forward FLOPs (a multiply-add counts 2) of the attention
  // product itself, all heads (qkv_dim = heads x head_dim), over sequences
  // of these real positions; not the Q, K, V and output projections around
  // it. Without it `lra bench` leaves the product out ("no_mixer_core").
  std::function<double(const PluginParams& params, int qkv_dim,
                       const std::vector<int>& positions)>
      flops;
};

// The attention variants by name (kind "attention": configs choose one with
// ModelConfig.attention). RegisterOrDie (plugin_registry.h) fills one from a
// list and stops the program on a duplicate name.
class AttentionRegistry : public PluginRegistry<AttentionPlugin> {
 public:
  AttentionRegistry() : PluginRegistry("attention") {}

  // Resolves config's parameters (ResolveParams) and calls the factory.
  absl::StatusOr<std::unique_ptr<Attention>> Create(
      const PluginConfig& config, const AttentionShape& shape) const;
};

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_ATTENTION_H_
