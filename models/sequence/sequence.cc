#include "models/sequence/sequence.h"

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {

absl::Status SequenceParamError(const std::string& plugin,
                                const std::string& param, double value,
                                const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("sequence '", plugin,
                                                 "': param ", param, " = ",
                                                 value, " is invalid; ", rule));
}

absl::StatusOr<std::unique_ptr<SequenceHandler>> SequenceRegistry::Create(
    const PluginConfig& config, const SequenceShape& shape,
    const ModelConfig& model) const {
  ASSIGN_OR_RETURN(PluginParams params, ResolveParams(config));
  return (*Find(config.name()))->factory(params, shape, model);
}

}  // namespace lra
