// Suites as plain configs: reading a SuiteConfig with the task, model and
// train files it names, expanding grids into runs, naming each run's folder
// and sharding. Nothing here knows a registry; //lra:validate fills defaults
// from the task registry and checks models against the attention registry.
#ifndef CONFIG_SUITE_H_
#define CONFIG_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/text_proto.h"
#include "proto/config.pb.h"

namespace lra {

// One run of a suite with where each part of its config was written.
struct PlannedRun {
  RunConfig config;
  ConfigOrigin task_origin;
  ConfigOrigin model_origin;
  ConfigOrigin train_origin;
  // "<task label>/<model name>[.<train name>]", the run's folder under
  // <out>/<suite>/; set by AssignRunIds.
  std::string id;
};

struct Suite {
  std::string name;
  std::string path;
  std::vector<PlannedRun> runs;
};

// Loads the suite at `path` (already resolved), reads the task, model and
// train files it names (relative to `workspace_dir`) and expands grids, in
// the order written: inline runs, then each grid's inline configs before its
// files. Checks the suite's name and that it plans at least one run; the
// runs' fields are neither defaulted nor validated, and ids are not set.
absl::StatusOr<Suite> ExpandSuite(const std::string& path,
                                  const std::string& workspace_dir);

// The names a run's folder is made of, with the defaults that
// ResolveAndValidateRun would fill: task label (else task name), model name
// (else attention name, else "transformer"), train name (else "default").
std::string RunTaskLabel(const TaskConfig& task);
std::string RunModelName(const ModelConfig& model);
std::string RunTrainName(const TrainConfig& train);

// Sets each run's id to "<task label>/<model name>", adding ".<train name>"
// where one task and model are trained with several recipes. Fails, naming
// the run, when two runs would share a folder.
absl::Status AssignRunIds(Suite* suite);

// Returns the runs whose index i satisfies i % count == shard (0-based).
std::vector<PlannedRun> ShardRuns(const std::vector<PlannedRun>& runs,
                                  int shard, int count);

}  // namespace lra

#endif  // CONFIG_SUITE_H_
