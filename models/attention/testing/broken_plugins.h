// Deliberately broken attention plugins, for tests only: each wraps a good
// built-in plugin and breaks exactly one promise of the contract, so that
// broken_plugins_test (in conformance/) can show that the matching conformance
// check fails. They are registered only into test registries, never into
// the built-in ones.
#ifndef LRA_MODELS_ATTENTION_TESTING_BROKEN_PLUGINS_H_
#define LRA_MODELS_ATTENTION_TESTING_BROKEN_PLUGINS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/attention/attention.h"

namespace lra {

// How a broken plugin misbehaves.
enum class Breakage {
  kNone,                  // a faithful wrapper: must pass every check
  kBackwardOffByFactor,   // dq is 1.25 times too large
  kParameterGradientOff,  // adds twice its parameter gradient
  kReadsPaddedKeys,       // ignores the key padding mask it claims to honour
  kNondeterministic,      // draws its dropout seed from a global counter
  kLeaksAcrossBatch,      // mixes the next example's v into each output
  kFalselyCausal,         // declares a causal case but looks ahead
  kWritesPastBatch,       // zeroes outputs up to max_batch, not batch
  kTrainingDiffers,       // scales outputs by 1.01 when training
  kIgnoresDropout,        // never applies attention dropout
  kLearnableWithoutParameters,  // declares learnable but has none
  // declares a kFreezeStructure exemption from Gradients, and its dq is off
  kFrozenButWrong,
  // The contract-v2 inputs, on test plugins that use them (see
  // InputPath in broken_plugins.cc):
  kSharedQkDropsKeyGradient,      // shared_qk, but dq lacks the key role
  kLayerInputGradientOff,         // needs_layer_input, dx 1.25 times too large
  kLayerInputOverwritesGradient,  // writes dx instead of adding into it
  kLayerInputReadsPadding,        // real outputs read x at the last position
  kUndeclaredLengthDependence,    // [N]-sized parameter, flag not set
};

struct BrokenPlugin {
  Breakage breakage;
  // The conformance check that must catch it (see conformance.h), or empty
  // for kNone.
  std::string caught_by;
  AttentionPlugin plugin;  // named "broken_<what>"
};

// Every broken plugin, one per Breakage, and the faithful plugins (kNone)
// that must pass every check: "broken_none", which wraps "full", and one per
// contract-v2 input path (shared QK, a layer input, a length-dependent
// parameter), each "full" plus that path. The broken ones wrap "full",
// "example_window" (the docs' example, which has a parameter) for the
// parameter one, or a faithful input-path plugin with one bug.
std::vector<BrokenPlugin> BrokenPlugins();

// Registers BrokenPlugins() into `registry`.
absl::Status RegisterBrokenPlugins(AttentionRegistry& registry);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_BROKEN_PLUGINS_H_
