// The one list of built-in token mixers. To add one: include its header,
// append its MixerPlugin below, and add its library to :builtin's deps.
#include "models/mixers/builtin.h"

namespace lra {

std::vector<MixerPlugin> BuiltinMixerPlugins() { return {}; }

}  // namespace lra
