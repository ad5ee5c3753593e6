// Checks that attention plugin factories share: a whole-number parameter in
// a range, a positive shape and an attention dropout rate in [0, 1), each
// failing with an InvalidArgument status that names the plugin (and the
// parameter), in the words `lra run` prints for a bad config.
#ifndef LRA_MODELS_ATTENTION_FACTORY_CHECKS_H_
#define LRA_MODELS_ATTENTION_FACTORY_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/attention/attention.h"

namespace lra {

// Number parameter `name` of attention `plugin` as a whole number in
// [min_value, max_value]. The error says "allowed: " followed by `allowed`,
// or by "a whole number from <min> to <max>" when `allowed` is empty.
absl::StatusOr<int> WholeNumberParam(const PluginParams& params,
                                     absl::string_view plugin,
                                     absl::string_view name, int min_value,
                                     int max_value,
                                     absl::string_view allowed = "");

// The error for a number parameter whose value `value` is outside what the
// plugin allows (for checks WholeNumberParam does not cover).
absl::Status ParamError(absl::string_view plugin, absl::string_view name,
                        double value, absl::string_view allowed);

// Batch, heads, seq_len and head_dim (and d_model when with_d_model) >= 1.
absl::Status CheckPositiveShape(absl::string_view plugin,
                                const AttentionShape& shape,
                                bool with_d_model = false);

// The attention dropout rate in [0, 1).
absl::Status CheckDropoutRate(absl::string_view plugin,
                              const AttentionShape& shape);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_FACTORY_CHECKS_H_
