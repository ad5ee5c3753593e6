// The plugins shipped with the harness, in one place: what `lra` builds
// models from and lists with `lra list`.
#ifndef LRA_MODELS_BUILTIN_H_
#define LRA_MODELS_BUILTIN_H_

#include "models/plugins.h"

namespace lra {

// The built-in registries, built on first use. A registration error (a name
// registered twice, a plugin without a factory) is a programming error: it
// stops the program with a message naming the plugin.
const ModelPlugins& BuiltinPlugins();

}  // namespace lra

#endif  // LRA_MODELS_BUILTIN_H_
