// Creating one attention plugin the way a model does (through a registry, so
// that its parameter checks and defaults apply), for the plugins' own tests.
// Tests only.
#ifndef LRA_MODELS_ATTENTION_TESTING_PLUGIN_TESTING_H_
#define LRA_MODELS_ATTENTION_TESTING_PLUGIN_TESTING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/plugin_params.h"
#include "proto/config.pb.h"

namespace lra {

// A config that chooses plugin `name` with `params`.
PluginConfig PluginConfigOf(const std::string& name,
                            const std::vector<PluginParam>& params);

// Registers `plugin` alone and resolves `params` against its parameter
// specs (unknown names and invalid values are errors, defaults filled).
absl::StatusOr<PluginParams> ResolvePluginParamsOf(
    const AttentionPlugin& plugin, const std::vector<PluginParam>& params);

// Registers `plugin` alone and creates it with `params` for `shape`.
absl::StatusOr<std::unique_ptr<Attention>> CreatePlugin(
    const AttentionPlugin& plugin, const std::vector<PluginParam>& params,
    const AttentionShape& shape);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_PLUGIN_TESTING_H_
