#include "models/attention/attention.h"

#include <utility>

#include "util/status_macros.h"

namespace lra {

absl::StatusOr<std::unique_ptr<Attention>> AttentionRegistry::Create(
    const PluginConfig& config, const AttentionShape& shape) const {
  ASSIGN_OR_RETURN(PluginParams params, ResolveParams(config));
  return (*Find(config.name()))->factory(params, shape);
}

}  // namespace lra
