#include "models/attention/factory_checks.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {

absl::Status ParamError(absl::string_view plugin, absl::string_view name,
                        double value, absl::string_view allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat("model.attention.param '", name, "' of attention '", plugin,
                   "' is ", value, "; allowed: ", allowed));
}

absl::StatusOr<int> WholeNumberParam(const PluginParams& params,
                                     absl::string_view plugin,
                                     absl::string_view name, int min_value,
                                     int max_value, absl::string_view allowed) {
  ASSIGN_OR_RETURN(const double value, params.Number(std::string(name)));
  if (!(value >= min_value && value <= max_value &&
        value == std::floor(value))) {
    return ParamError(
        plugin, name, value,
        allowed.empty()
            ? absl::StrCat("a whole number from ", min_value, " to ", max_value)
            : std::string(allowed));
  }
  return static_cast<int>(value);
}

absl::Status CheckPositiveShape(absl::string_view plugin,
                                const AttentionShape& shape,
                                bool with_d_model) {
  if (shape.max_batch < 1 || shape.num_heads < 1 || shape.seq_len < 1 ||
      shape.head_dim < 1 || (with_d_model && shape.d_model < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention '", plugin, "': batch, heads, seq_len",
                     with_d_model ? ", head_dim and d_model" : " and head_dim",
                     " must be >= 1; got ", shape.max_batch, ", ",
                     shape.num_heads, ", ", shape.seq_len, ", ", shape.head_dim,
                     with_d_model ? absl::StrCat(", ", shape.d_model) : ""));
  }
  return absl::OkStatus();
}

absl::Status CheckDropoutRate(absl::string_view plugin,
                              const AttentionShape& shape) {
  if (!(shape.attention_dropout >= 0.0f && shape.attention_dropout < 1.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention '", plugin, "': attention dropout ",
                     shape.attention_dropout, "; allowed: [0, 1)"));
  }
  return absl::OkStatus();
}

}  // namespace lra
