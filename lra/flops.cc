#include "lra/flops.h"

#include <algorithm>

#include "models/builtin.h"
#include "models/encoder.h"
#include "models/sequence/sequence.h"

namespace lra {
namespace {

// One block's forward FLOPs over sequences of `positions` real positions:
// the token mixer (through its plugin's hook) and the MLP.
ForwardFlops BlockFlops(const ModelConfig& model, const ModelPlugins& plugins,
                        const std::vector<int>& positions) {
  ForwardFlops flops;
  const double d = model.d_model();
  const double qkv = model.qkv_dim() > 0 ? model.qkv_dim() : d;
  const double mlp = model.mlp_dim() > 0 ? model.mlp_dim() : 4 * d;
  for (int n : positions) flops.mlp += 2 * 2 * n * d * mlp;
  if (UsesAttentionMixer(model)) {
    for (int n : positions) flops.projections += 4 * 2 * n * d * qkv;
    PluginConfig attention = model.attention();
    if (attention.name().empty()) attention.set_name("full");
    absl::StatusOr<const AttentionPlugin*> plugin =
        plugins.attention == nullptr
            ? absl::StatusOr<const AttentionPlugin*>(
                  absl::NotFoundError("no attention registry"))
            : plugins.attention->Find(attention.name());
    absl::StatusOr<PluginParams> params =
        plugin.ok() ? plugins.attention->ResolveParams(attention)
                    : absl::StatusOr<PluginParams>(plugin.status());
    if (params.ok() && (*plugin)->flops) {
      flops.core = (*plugin)->flops(*params, static_cast<int>(qkv), positions);
    } else {
      flops.core_counted = false;
    }
    return flops;
  }
  absl::StatusOr<const MixerPlugin*> plugin =
      plugins.mixers == nullptr ? absl::StatusOr<const MixerPlugin*>(
                                      absl::NotFoundError("no mixer registry"))
                                : plugins.mixers->Find(model.mixer().name());
  absl::StatusOr<PluginParams> params =
      plugin.ok() ? plugins.mixers->ResolveParams(model.mixer())
                  : absl::StatusOr<PluginParams>(plugin.status());
  if (params.ok() && (*plugin)->flops) {
    ForwardFlops mixer = (*plugin)->flops(*params, model, positions);
    flops.projections += mixer.projections;
    flops.core += mixer.core;
    flops.core_counted = mixer.core_counted;
  } else {
    flops.core_counted = false;
  }
  return flops;
}

}  // namespace

StepFlops TrainingStepFlops(const ModelConfig& model,
                            const std::vector<int>& lengths, int padded_len,
                            const ModelPlugins* plugins_or_null) {
  const ModelPlugins& plugins =
      plugins_or_null != nullptr ? *plugins_or_null : BuiltinPlugins();
  StepFlops step;
  const double d = model.d_model();
  const double mlp = model.mlp_dim() > 0 ? model.mlp_dim() : 4 * d;
  const double classifier =
      model.classifier_dim() > 0 ? model.classifier_dim() : mlp;
  const int segments = model.num_segments() > 0 ? model.num_segments() : 1;
  auto block = [&](const std::vector<int>& positions) {
    return BlockFlops(model, plugins, positions);
  };
  ForwardFlops blocks;
  bool sequence_counted = true;
  if (!model.sequence().name().empty()) {
    absl::StatusOr<const SequencePlugin*> plugin =
        plugins.sequence == nullptr
            ? absl::StatusOr<const SequencePlugin*>(
                  absl::NotFoundError("no sequence registry"))
            : plugins.sequence->Find(model.sequence().name());
    absl::StatusOr<PluginParams> params =
        plugin.ok() ? plugins.sequence->ResolveParams(model.sequence())
                    : absl::StatusOr<PluginParams>(plugin.status());
    if (params.ok() && (*plugin)->flops) {
      int padded = padded_len;
      for (int n : lengths) padded = std::max(padded, n);
      blocks = (*plugin)->flops(*params, model, lengths, padded, block);
    } else {
      // The task tokens through the blocks, as if there were no plugin.
      sequence_counted = false;
      blocks = block(lengths);
      blocks *= model.num_layers();
    }
  } else {
    // CLS is a real position.
    const int cls =
        model.pooling() == POOLING_CLS || model.pooling() == POOLING_UNSPECIFIED
            ? 1
            : 0;
    std::vector<int> positions = lengths;
    for (int& n : positions) n += cls;
    blocks = block(positions);
    blocks *= model.num_layers();
  }
  step.projections = blocks.projections;
  step.core = blocks.core;
  step.mlp = blocks.mlp;
  step.forward_only = blocks.forward_only;
  const double examples = static_cast<double>(lengths.size()) / segments;
  const double head_in = segments == 2 ? 4 * d : d;
  step.head =
      examples * 2 * (head_in * classifier + classifier * model.num_classes());
  step.total = 3 * (step.projections + step.core + step.mlp + step.head) -
               2 * step.forward_only;
  step.scope = !sequence_counted     ? "no_sequence_plugin"
               : blocks.core_counted ? "all"
                                     : "no_mixer_core";
  return step;
}

}  // namespace lra
