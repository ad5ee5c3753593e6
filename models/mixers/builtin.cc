// The one list of built-in token mixers. To add one: include its header,
// append its MixerPlugin below, and add its library to :builtin's deps.
#include "models/mixers/builtin.h"

#include "models/mixers/isab/isab_mixer.h"
#include "models/mixers/lru/lru_mixer.h"
#include "models/mixers/s4d/s4d_mixer.h"

namespace lra {

std::vector<MixerPlugin> BuiltinMixerPlugins() {
  return {S4dMixer::Plugin(), LruMixer::Plugin(), IsabMixer::Plugin()};
}

}  // namespace lra
