// The built-in attention plugins, listed explicitly in builtin.cc.
#ifndef LRA_MODELS_ATTENTION_BUILTIN_H_
#define LRA_MODELS_ATTENTION_BUILTIN_H_

#include "absl/status/status.h"
#include "models/attention/attention.h"

namespace lra {

// Adds every built-in plugin to `registry`.
absl::Status RegisterBuiltinAttentions(AttentionRegistry& registry);

// The registry holding every built-in plugin, built on first use (thread-safe)
// and never destroyed.
const AttentionRegistry& BuiltinAttentions();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BUILTIN_H_
