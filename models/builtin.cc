#include "models/builtin.h"

#include "models/attention/builtin.h"
#include "models/mixers/builtin.h"
#include "models/sequence/builtin.h"

namespace lra {

const ModelPlugins& BuiltinPlugins() {
  static const ModelPlugins* plugins = [] {
    auto* attention = new AttentionRegistry();
    RegisterOrDie(*attention, BuiltinAttentionPlugins());
    auto* mixers = new MixerRegistry();
    RegisterOrDie(*mixers, BuiltinMixerPlugins());
    auto* sequence = new SequenceRegistry();
    RegisterOrDie(*sequence, BuiltinSequencePlugins());
    auto* result = new ModelPlugins();
    result->sequence = sequence;
    result->attention = attention;
    result->mixers = mixers;
    return result;
  }();
  return *plugins;
}

}  // namespace lra
