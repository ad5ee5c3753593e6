// The token mixer: the part of a block through which positions see each
// other. Attention (models/attention_mixer.h, around an attention plugin) is
// one kind; mixers that are not attention (state-space layers, for example)
// implement the same interface and sit in the same place of the block.
#ifndef LRA_MODELS_MIXER_H_
#define LRA_MODELS_MIXER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/parameters.h"
#include "models/plugin_params.h"
#include "models/plugin_registry.h"
#include "proto/config.pb.h"

namespace lra {

class TokenMixer;

// The fixed sizes a mixer instance is built for.
struct MixerShape {
  int max_seqs = 1;     // B': sequences per call at most
  int seq_len = 1;      // N: positions per sequence (including CLS)
  int d_model = 1;      // D
  int layer_index = 0;  // the block's index, for parameter names and seeds
  // Position 0 is the encoder's CLS token.
  bool cls_token = false;
  // The run's seed: random structure (BigBird's blocks, Performer's
  // features) derives from (structure_seed, layer_index).
  uint64_t structure_seed = 0;
  // Block layer_index - 1's mixer, already built (null for layer 0 and for
  // a mixer built alone): a mixer may read state its predecessor leaves
  // (isab's slots carried from layer to layer). Blocks run Forward in layer
  // order and Backward in reverse, per segment inside a sequence plugin.
  TokenMixer* previous_layer = nullptr;
};

// What changes from call to call.
struct MixerStep {
  int seqs = 0;                       // B' <= max_seqs
  const uint8_t* key_mask = nullptr;  // [B', N], 1 = real position
  bool training = false;
  uint64_t seed = 0;  // for the mixer's own randomness (attention dropout)
};

class TokenMixer {
 public:
  virtual ~TokenMixer() = default;

  // x [B', N, D] (the block's normalised input) -> y [B', N, D]. The mixer
  // may keep the x pointer for Backward: the caller keeps x alive and
  // unchanged until then.
  virtual void Forward(const float* x, const MixerStep& step, float* y) = 0;
  // dy [B', N, D] -> dx [B', N, D], overwritten, for the last Forward; adds
  // into the mixer's parameter gradients.
  virtual void Backward(const float* dy, float* dx) = 0;

  // The mixer's parameters in a fixed order, names relative to the mixer
  // (the block prefixes them).
  virtual void ForEachWeight(const WeightVisitor& fn) = 0;
  // Initialises the parameters visited with Init::kByOwner.
  virtual void InitParameters(uint64_t seed) {}
  // Called before each training step (1-based) and before evaluating a
  // checkpoint with its step, for structure redrawn as training goes.
  virtual void SetStep(int64_t step) {}
  // The prefix of this mixer's parameter names inside a block: "attn" for
  // attention, the registry name for other mixers.
  virtual const char* name_prefix() const = 0;
};

// What a mixer plugin supports, printed by `lra list`.
struct MixerCapabilities {
  // Padded positions never influence real ones (in every direction the
  // mixer reads).
  bool key_padding_mask = false;
  std::string complexity;  // in sequence length N, e.g. "O(N log N)"
};

// Analytic forward FLOPs of part of a training step (a multiply-add counts
// 2), by kind, as `lra bench` reports them (lra/flops.h). Elementwise work
// (softmax, LayerNorm, activations) is not counted.
struct ForwardFlops {
  double projections = 0;  // dense matmuls into and out of the token mixer
  double core = 0;  // the mixer's own work: Q K^T and P V, scans, slot maps
  double mlp = 0;   // the blocks' two MLP matmuls
  // Of the above, forward FLOPs no backward pass follows (segments before a
  // truncated BPTT window): the step's total counts them once, the rest
  // three times (backward computes d(input) and d(weight)).
  double forward_only = 0;
  // False when some of the mixer's own work is left out (a plugin without
  // a FLOPs hook).
  bool core_counted = true;

  double sum() const { return projections + core + mlp; }
  ForwardFlops& operator+=(const ForwardFlops& other) {
    projections += other.projections;
    core += other.core;
    mlp += other.mlp;
    forward_only += other.forward_only;
    core_counted = core_counted && other.core_counted;
    return *this;
  }
  ForwardFlops& operator*=(double factor) {
    projections *= factor;
    core *= factor;
    mlp *= factor;
    forward_only *= factor;
    return *this;
  }
};

// A mixer's FLOPs hook: forward FLOPs of ONE layer's mixer (projections and
// core) over the sequences of one step, `positions` holding each sequence's
// real positions (CLS and memory tokens included). `model` is resolved.
using MixerFlopsFn = std::function<ForwardFlops(
    const PluginParams& params, const ModelConfig& model,
    const std::vector<int>& positions)>;

// Builds one instance for one block. `model` is the resolved ModelConfig
// (for widths the mixer may need).
using MixerFactory = std::function<absl::StatusOr<std::unique_ptr<TokenMixer>>(
    const PluginParams& params, const MixerShape& shape,
    const ModelConfig& model)>;

// A parameter setting the mixer's tests run it in.
struct MixerTestCase {
  std::string label;
  std::vector<PluginParam> params;
};

// A token mixer other than attention (state-space layers, ...), chosen with
// ModelConfig.mixer. Multi-head attention is not an entry: it is the
// default mixer, built around ModelConfig.attention.
struct MixerPlugin {
  std::string name;
  std::string description;
  std::vector<PluginParamSpec> params;
  MixerCapabilities capabilities;
  MixerFactory factory;
  std::vector<MixerTestCase> test_cases;
  // Optional: without it `lra bench` counts only the block's MLP for this
  // mixer and marks its FLOPs "no_mixer_core".
  MixerFlopsFn flops;
};

class MixerRegistry : public PluginRegistry<MixerPlugin> {
 public:
  MixerRegistry() : PluginRegistry("mixer") {}

  // Resolves config's parameters and calls the factory.
  absl::StatusOr<std::unique_ptr<TokenMixer>> Create(
      const PluginConfig& config, const MixerShape& shape,
      const ModelConfig& model) const;
};

// The name ModelConfig.mixer takes for multi-head attention (the default).
inline constexpr char kAttentionMixerName[] = "attention";

}  // namespace lra

#endif  // LRA_MODELS_MIXER_H_
