// The plugin registries a model is built from. The caller passes them to the
// encoder, so the core code knows no plugin: the binary passes the built-in
// ones (models/builtin.h), a test may pass its own.
#ifndef LRA_MODELS_PLUGINS_H_
#define LRA_MODELS_PLUGINS_H_

#include "models/attention/attention.h"
#include "models/mixer.h"
#include "models/sequence/sequence.h"

namespace lra {

struct ModelPlugins {
  // Attention variants, chosen by ModelConfig.attention.name.
  const AttentionRegistry* attention = nullptr;
  // Token mixers other than attention, chosen by ModelConfig.mixer.name.
  const MixerRegistry* mixers = nullptr;
  // How the sequence passes through the blocks, chosen by
  // ModelConfig.sequence.name (unset: all positions at once).
  const SequenceRegistry* sequence = nullptr;
};

}  // namespace lra

#endif  // LRA_MODELS_PLUGINS_H_
