// Field checks on configs that need no registry: numbers in range, training
// defaults, and errors that name the file, line and field. Checks against the
// attention and task registries live in //lra:validate.
#ifndef CONFIG_VALIDATION_H_
#define CONFIG_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
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

// What a name that becomes one path component of a results folder (suite,
// task label, model and train names) may contain.
extern const char kSafeNameAllowed[];

// True when `name` is 1..100 characters of [A-Za-z0-9._+-] and does not
// start with '.': it can never be "", "." or "..", hold a '/' or '\\', a NUL
// or a control character, or be hidden from folder listings.
bool IsSafeName(absl::string_view name);

// FieldError naming the file, field and value (quoted, control characters
// escaped) when `name` is not IsSafeName.
absl::Status ValidateSafeName(const ConfigOrigin& origin,
                              const std::string& field, absl::string_view name);

// Fills proto3-zero fields of a TrainConfig with the defaults.
void ResolveTrainDefaults(TrainConfig* train);

// Checks a TrainConfig whose defaults are filled (its name with
// ValidateSafeName).
absl::Status ValidateTrain(const TrainConfig& train,
                           const ConfigOrigin& origin);

// Checks the sizes of a ModelConfig that do not depend on the task or on the
// registries: widths, layers, heads, dropout; and its name, when set, with
// ValidateSafeName.
absl::Status ValidateModelShape(const ModelConfig& model,
                                const ConfigOrigin& origin);

}  // namespace lra

#endif  // CONFIG_VALIDATION_H_
