#include "lra/flops.h"

#include "models/encoder.h"

namespace lra {

StepFlops TrainingStepFlops(const ModelConfig& model,
                            const std::vector<int>& lengths) {
  StepFlops flops;
  const double d = model.d_model();
  const double qkv = model.qkv_dim() > 0 ? model.qkv_dim() : d;
  const double mlp = model.mlp_dim() > 0 ? model.mlp_dim() : 4 * d;
  const double classifier =
      model.classifier_dim() > 0 ? model.classifier_dim() : mlp;
  const int segments = model.num_segments() > 0 ? model.num_segments() : 1;
  const bool cls =
      model.pooling() == POOLING_CLS || model.pooling() == POOLING_UNSPECIFIED;
  const bool attention_mixer = UsesAttentionMixer(model);
  const bool full = attention_mixer && (model.attention().name().empty() ||
                                        model.attention().name() == "full");
  for (int length : lengths) {
    const double n = length + (cls ? 1 : 0);  // CLS is a real position.
    if (attention_mixer) flops.projections += 2 * n * d * qkv * 4;
    // Per head n x n x Dh twice; over heads qkv = H * Dh.
    if (full) flops.attention += 2 * 2 * n * n * qkv;
    flops.mlp += 2 * 2 * n * d * mlp;
  }
  flops.projections *= model.num_layers();
  flops.attention *= model.num_layers();
  flops.mlp *= model.num_layers();
  const double examples = static_cast<double>(lengths.size()) / segments;
  const double head_in = segments == 2 ? 4 * d : d;
  flops.head =
      examples * 2 * (head_in * classifier + classifier * model.num_classes());
  flops.total =
      3 * (flops.projections + flops.attention + flops.mlp + flops.head);
  flops.scope = !model.sequence().name().empty() ? "no_sequence_plugin"
                : full                           ? "all"
                                                 : "no_mixer_core";
  return flops;
}

}  // namespace lra
