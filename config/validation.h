// Field checks on configs that need no registry: numbers in range, training
// defaults, and errors that name the file, line and field. Checks against the
// attention and task registries live in //lra:validate.
#ifndef CONFIG_VALIDATION_H_
#define CONFIG_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "config/text_proto.h"
#include "proto/config.pb.h"

namespace lra {

// "FILE:LINE: field = value: allowed: ..." as an InvalidArgumentError.
absl::Status FieldError(const ConfigOrigin& origin, const std::string& field,
                        const std::string& value, const std::string& allowed);

// Prefixes an error from a library (which knows the field but not the file)
// with the file and line of the message it came from; OK stays OK.
absl::Status WithOrigin(const ConfigOrigin& origin, const absl::Status& status);

// A number as error messages show it ("%g").
std::string FormatNumber(double value);

// Fills proto3-zero fields of a TrainConfig with the defaults.
void ResolveTrainDefaults(TrainConfig* train);

// Checks a TrainConfig whose defaults are filled.
absl::Status ValidateTrain(const TrainConfig& train,
                           const ConfigOrigin& origin);

// Checks the sizes of a ModelConfig that do not depend on the task or on the
// registries: widths, layers, heads, dropout.
absl::Status ValidateModelShape(const ModelConfig& model,
                                const ConfigOrigin& origin);

}  // namespace lra

#endif  // CONFIG_VALIDATION_H_
