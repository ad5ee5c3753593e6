// Suites: loading a SuiteConfig, expanding it into runs, filling defaults and
// validating every field before any training starts.
#ifndef LRA_SUITE_H_
#define LRA_SUITE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lra/config_io.h"
#include "proto/config.pb.h"

namespace lra {

// Where one part of a run's config (its task, model or train message) was
// written: a file and the field path of the message inside it.
struct ConfigOrigin {
  std::shared_ptr<ConfigSource> source;
  std::string prefix;  // e.g. "run[2].model" or "" for a whole file.

  // "file:line: prefix.field" for error messages.
  std::string Where(const std::string& field) const;
};

// One run of a suite, with its configs resolved (defaults filled in).
struct PlannedRun {
  RunConfig config;
  ConfigOrigin task_origin;
  ConfigOrigin model_origin;
  ConfigOrigin train_origin;
  // "<task label>/<model label>", the run's folder under <out>/<suite>/.
  std::string id;
};

struct Suite {
  std::string name;
  std::string path;
  std::vector<PlannedRun> runs;
};

// Loads the suite at `path` (already resolved), reads the task, model and
// train files it names (relative to `workspace_dir`), expands grids, fills
// defaults and validates every run. The first error names the file, line and
// field with what is allowed.
absl::StatusOr<Suite> LoadSuite(const std::string& path,
                                const std::string& workspace_dir);

// Fills proto3-zero fields of a TrainConfig with the defaults.
void ResolveTrainDefaults(TrainConfig* train);

// Fills defaults for all three parts and the fields that follow from the
// task (vocabulary, classes). Errors carry the origins' locations.
absl::Status ResolveAndValidateRun(PlannedRun* run);

// Returns the runs whose index i satisfies i % count == shard (0-based).
std::vector<PlannedRun> ShardRuns(const std::vector<PlannedRun>& runs,
                                  int shard, int count);

}  // namespace lra

#endif  // LRA_SUITE_H_
