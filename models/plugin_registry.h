// A registry of one plugin kind (attention variants, token mixers): plugins
// by unique name, each with declared parameters and a factory. The caller
// builds registries and passes them to the model (models/plugins.h).
#ifndef LRA_MODELS_PLUGIN_REGISTRY_H_
#define LRA_MODELS_PLUGIN_REGISTRY_H_

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/plugin_params.h"
#include "proto/config.pb.h"

namespace lra {

// Plugin must have `std::string name`, `std::vector<PluginParamSpec> params`
// and a callable `factory`.
template <typename Plugin>
class PluginRegistry {
 public:
  // kind: "attention" or "mixer", the ModelConfig field that names plugins
  // of this registry; used in error messages.
  explicit PluginRegistry(std::string kind) : kind_(std::move(kind)) {}

  const std::string& kind() const { return kind_; }

  // Fails on an empty or duplicate name, or a missing factory.
  absl::Status Register(Plugin plugin) {
    if (plugin.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind_, " plugin has an empty name"));
    }
    if (!plugin.factory) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind_, " plugin '", plugin.name, "' has no factory"));
    }
    if (plugins_.count(plugin.name) > 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          kind_, " plugin '", plugin.name, "' is registered twice"));
    }
    std::string name = plugin.name;
    plugins_.emplace(std::move(name), std::move(plugin));
    return absl::OkStatus();
  }

  // Unknown names fail with the list of registered names.
  absl::StatusOr<const Plugin*> Find(const std::string& name) const {
    auto it = plugins_.find(name);
    if (it == plugins_.end()) {
      return absl::NotFoundError(
          absl::StrCat("model.", kind_, ".name: unknown ", kind_, " '", name,
                       "'; registered: ", absl::StrJoin(Names(), ", ")));
    }
    return &it->second;
  }

  // Sorted registered names.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& entry : plugins_) names.push_back(entry.first);
    return names;
  }

  // Checks config.param against the plugin's specs (unknown names list the
  // known ones; a value of the wrong kind names the expected kind) and fills
  // defaults: the validation half of creating an instance.
  absl::StatusOr<PluginParams> ResolveParams(const PluginConfig& config) const {
    absl::StatusOr<const Plugin*> plugin = Find(config.name());
    if (!plugin.ok()) return plugin.status();
    return ResolvePluginParams(kind_, config.name(), (*plugin)->params,
                               config.param());
  }

 private:
  std::string kind_;
  std::map<std::string, Plugin> plugins_;
};

// Registers `plugins` in order. A registration error (an empty or duplicate
// name, a missing factory) is a programming error in a plugin list: this
// prints it ("lra: cannot register <kind> plugins: ...") and aborts.
template <typename Plugin>
void RegisterOrDie(PluginRegistry<Plugin>& registry,
                   std::vector<Plugin> plugins) {
  for (Plugin& plugin : plugins) {
    absl::Status status = registry.Register(std::move(plugin));
    if (!status.ok()) {
      std::fprintf(stderr, "lra: cannot register %s plugins: %s\n",
                   registry.kind().c_str(),
                   std::string(status.message()).c_str());
      std::abort();
    }
  }
}

}  // namespace lra

#endif  // LRA_MODELS_PLUGIN_REGISTRY_H_
