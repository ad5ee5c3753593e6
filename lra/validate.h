// Configs checked as `lra run` checks them: defaults filled from the task
// registry, models checked against the registered attention variants, then
// the registry-free field checks of //config:validation. Every error names
// the file, line and field with what is allowed.
#ifndef LRA_VALIDATE_H_
#define LRA_VALIDATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/suite.h"
#include "config/text_proto.h"
#include "proto/config.pb.h"

namespace lra {

// Fills the task's defaults from the task registry (an unknown name lists
// the registered tasks) and its label.
absl::Status ResolveAndValidateTask(TaskConfig* task,
                                    const ConfigOrigin& origin);

// Fills the model's defaults that follow from `task` (vocabulary, classes,
// segments) and from the encoder, then checks its sizes, its attention
// variant and parameters against BuiltinPlugins() and its max_len against
// the task's length.
absl::Status ResolveAndValidateModel(ModelConfig* model, const TaskConfig& task,
                                     const ConfigOrigin& origin);

// For a model file that is not tied to a task (`lra bench`'s model, a
// model file shared by several tasks): the encoder's defaults, sizes, and
// the attention variant and parameters against BuiltinPlugins().
absl::Status ResolveAndValidateModelWithoutTask(ModelConfig* model,
                                                const ConfigOrigin& origin);

// Both of the above and the train config's defaults and checks.
absl::Status ResolveAndValidateRun(PlannedRun* run);

// ExpandSuite, ResolveAndValidateRun on every run, then AssignRunIds: the
// suite exactly as `lra run` trains it. The first error wins.
absl::StatusOr<Suite> LoadSuite(const std::string& path,
                                const std::string& workspace_dir);

}  // namespace lra

#endif  // LRA_VALIDATE_H_
