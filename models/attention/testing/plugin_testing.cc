#include "models/attention/testing/plugin_testing.h"

#include "util/status_macros.h"

namespace lra {

PluginConfig PluginConfigOf(const std::string& name,
                            const std::vector<PluginParam>& params) {
  PluginConfig config;
  config.set_name(name);
  for (const PluginParam& p : params) *config.add_param() = p;
  return config;
}

absl::StatusOr<PluginParams> ResolvePluginParamsOf(
    const AttentionPlugin& plugin, const std::vector<PluginParam>& params) {
  AttentionRegistry registry;
  RETURN_IF_ERROR(registry.Register(plugin));
  return registry.ResolveParams(PluginConfigOf(plugin.name, params));
}

absl::StatusOr<std::unique_ptr<Attention>> CreatePlugin(
    const AttentionPlugin& plugin, const std::vector<PluginParam>& params,
    const AttentionShape& shape) {
  AttentionRegistry registry;
  RETURN_IF_ERROR(registry.Register(plugin));
  return registry.Create(PluginConfigOf(plugin.name, params), shape);
}

}  // namespace lra
