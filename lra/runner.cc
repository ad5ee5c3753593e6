#include "lra/runner.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "config/text_proto.h"
#include "lra/checkpoint.h"
#include "lra/trainer.h"
#include "proto/result.pb.h"

namespace lra {

absl::StatusOr<SuiteSummary> RunSuite(const Suite& suite,
                                      const SuiteRunOptions& options) {
  SuiteSummary summary;
  std::vector<PlannedRun> runs =
      ShardRuns(suite.runs, options.shard, options.shards);
  if (options.log) {
    *options.log << "suite " << suite.name << ": " << runs.size() << " of "
                 << suite.runs.size() << " runs in this shard ("
                 << options.shard << "/" << options.shards << "), results in "
                 << options.out_dir << "/" << suite.name << "\n";
  }
  for (const PlannedRun& run : runs) {
    if (StopSignalReceived() != 0) {
      summary.stop_signal = StopSignalReceived();
      break;
    }
    const std::string dir =
        absl::StrCat(options.out_dir, "/", suite.name, "/", run.id);
    const std::string result_path = dir + "/result.pbtxt";
    // A folder from a newer harness is neither read nor written.
    absl::Status format = CheckRunFolderFormat(dir);
    if (!format.ok()) {
      ++summary.failed;
      if (options.log) {
        *options.log << "[" << run.id << "] error: " << format.message()
                     << "\n";
      }
      continue;
    }
    if (FileExists(result_path)) {
      RunResult existing;
      absl::Status status = LoadTextProto(result_path, &existing);
      const bool same_config =
          status.ok() && existing.config().SerializeAsString() ==
                             run.config.SerializeAsString();
      if (same_config && existing.status() == "ok") {
        ++summary.skipped;
        if (options.log) {
          *options.log << "[" << run.id << "] already done (test accuracy "
                       << existing.test_accuracy() << "), skipped\n";
        }
        continue;
      }
      // A run that diverged diverges again with the same config.
      if (same_config && existing.status() == "failed") {
        ++summary.failed;
        if (options.log) {
          *options.log << "[" << run.id
                       << "] failed earlier: " << existing.error() << " ("
                       << result_path
                       << "); change its config to train it again\n";
        }
        continue;
      }
      // A failure recorded with another config gives way to the new one.
      if (status.ok() && existing.status() == "failed") {
        if (options.log) {
          *options.log << "[" << run.id << "] the config changed since it "
                       << "failed (" << existing.error()
                       << "); training it again\n";
        }
        std::remove(result_path.c_str());
      } else {
        // A finished result with another config is never overwritten.
        std::string why = status.ok() ? "it was made with a different config"
                                      : std::string(status.message());
        ++summary.failed;
        if (options.log) {
          *options.log << "[" << run.id << "] error: " << result_path
                       << " exists and " << why
                       << "; move it away or choose another --out\n";
        }
        continue;
      }
    }
    TrainOptions train_options;
    train_options.run_dir = dir;
    train_options.suite_name = suite.name;
    train_options.label = run.id;
    train_options.workspace_dir = options.workspace_dir;
    train_options.resume = options.resume;
    train_options.stop_after_steps = options.stop_after_steps;
    train_options.log = options.log;
    if (!options.resume && FileExists(dir + "/checkpoint.last") &&
        options.log) {
      *options.log << "[" << run.id
                   << "] note: an interrupted run's checkpoint is in " << dir
                   << "; starting afresh (pass --resume to continue it)\n";
    }
    absl::StatusOr<TrainOutcome> outcome = TrainRun(run.config, train_options);
    if (!outcome.ok()) {
      ++summary.failed;
      if (options.log) {
        *options.log << "[" << run.id
                     << "] FAILED: " << outcome.status().message() << "\n";
      }
      RunResult failed;
      failed.set_suite(suite.name);
      *failed.mutable_config() = run.config;
      failed.set_status("failed");
      failed.set_error(std::string(outcome.status().message()));
      failed.set_machine(MachineDescription());
      failed.set_git_revision(GitRevision(options.workspace_dir));
      if (MakeDirs(dir).ok()) {
        WriteTextProtoAtomic(dir + "/failed.pbtxt", failed).IgnoreError();
      }
      continue;
    }
    if (outcome->interrupted) {
      ++summary.interrupted;
      if (outcome->stop_signal != 0) {
        summary.stop_signal = outcome->stop_signal;
        summary.stopped_run_dir = dir;
        summary.stopped_at_step = outcome->step;
        break;
      }
      continue;
    }
    if (outcome->result.status() == "failed") {
      ++summary.failed;  // Diverged: the trainer wrote result.pbtxt.
      std::remove((dir + "/failed.pbtxt").c_str());
      continue;
    }
    ++summary.trained;
    std::remove((dir + "/failed.pbtxt").c_str());
  }
  return summary;
}

}  // namespace lra
