// The token mixers shipped with the harness besides attention, listed
// explicitly in builtin.cc.
#ifndef LRA_MODELS_MIXERS_BUILTIN_H_
#define LRA_MODELS_MIXERS_BUILTIN_H_

#include <vector>

#include "models/mixer.h"

namespace lra {

// Every built-in mixer, in a fixed order.
std::vector<MixerPlugin> BuiltinMixerPlugins();

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_BUILTIN_H_
