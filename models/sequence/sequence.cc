#include "models/sequence/sequence.h"

#include "util/status_macros.h"

namespace lra {

absl::StatusOr<std::unique_ptr<SequenceHandler>> SequenceRegistry::Create(
    const PluginConfig& config, const SequenceShape& shape,
    const ModelConfig& model) const {
  ASSIGN_OR_RETURN(PluginParams params, ResolveParams(config));
  return (*Find(config.name()))->factory(params, shape, model);
}

}  // namespace lra
