// The attention plugins shipped with the harness, listed explicitly in
// builtin.cc. The worked example of docs/plugins.md (example/) is not among
// them: it is built and tested, but a run, `lra list` and `lra bench --sweep`
// never see it.
#ifndef LRA_MODELS_ATTENTION_BUILTIN_H_
#define LRA_MODELS_ATTENTION_BUILTIN_H_

#include <vector>

#include "absl/status/status.h"
#include "models/attention/attention.h"

namespace lra {

// Every built-in plugin, in a fixed order.
std::vector<AttentionPlugin> BuiltinAttentionPlugins();

// Adds every built-in plugin to `registry`; fails on the first registration
// error (a name already registered, a plugin without a factory).
absl::Status RegisterBuiltinAttentions(AttentionRegistry& registry);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BUILTIN_H_
