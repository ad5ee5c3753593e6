// Running a suite: each planned run trained in turn, finished runs skipped,
// failures recorded beside (never over) earlier results.
#ifndef LRA_RUNNER_H_
#define LRA_RUNNER_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "config/suite.h"
#include "lra/dist/communicator.h"

namespace lra {

struct SuiteRunOptions {
  std::string out_dir;        // Results go to out_dir/<suite>/<task>/<model>/.
  std::string workspace_dir;  // For data paths and the git revision.
  bool resume = false;
  int shard = 0;  // This process runs runs i with i % shards == shard.
  int shards = 1;
  int64_t stop_after_steps = 0;      // Testing aid, see TrainOptions.
  double allreduce_bucket_mb = 1.0;  // See TrainOptions.
  std::ostream* log = nullptr;       // Rank 0's only.
  // The ranks that train each run together; nullptr = World() (every rank
  // of an mpirun job, else this process alone).
  Communicator* comm = nullptr;
};

struct SuiteSummary {
  int trained = 0;
  int skipped = 0;  // Already finished with the same config.
  int failed = 0;
  int interrupted = 0;  // Stopped by stop_after_steps or a stop signal.
  // SIGINT or SIGTERM when a signal stopped the suite (its run's state saved;
  // the runs after it not started), else 0.
  int stop_signal = 0;
  std::string stopped_run_dir;  // The folder of the run it stopped.
  int64_t stopped_at_step = 0;
};

absl::StatusOr<SuiteSummary> RunSuite(const Suite& suite,
                                      const SuiteRunOptions& options);

}  // namespace lra

#endif  // LRA_RUNNER_H_
