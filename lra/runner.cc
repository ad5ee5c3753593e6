#include "lra/runner.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/text_proto.h"
#include "lra/checkpoint.h"
#include "lra/dist/world.h"
#include "lra/trainer.h"
#include "proto/result.pb.h"

namespace lra {

namespace {

// What to do with one planned run, decided by rank 0 from the results folder.
enum class RunAction : int32_t { kTrain, kSkip, kFail };

// The checks before training a run: a newer format, a finished result, a
// recorded failure. Logs why a run is skipped or counted as failed.
RunAction DecideRun(const PlannedRun& run, const std::string& dir,
                    std::ostream* log) {
  const std::string result_path = dir + "/result.pbtxt";
  // A folder from a newer harness is neither read nor written.
  absl::Status format = CheckRunFolderFormat(dir);
  if (!format.ok()) {
    if (log) *log << "[" << run.id << "] error: " << format.message() << "\n";
    return RunAction::kFail;
  }
  if (!FileExists(result_path)) return RunAction::kTrain;
  RunResult existing;
  absl::Status status = LoadTextProto(result_path, &existing);
  const bool same_config =
      status.ok() &&
      existing.config().SerializeAsString() == run.config.SerializeAsString();
  if (same_config && existing.status() == "ok") {
    if (log) {
      *log << "[" << run.id << "] already done (test accuracy "
           << existing.test_accuracy() << "), skipped\n";
    }
    return RunAction::kSkip;
  }
  // A run that diverged diverges again with the same config.
  if (same_config && existing.status() == "failed") {
    if (log) {
      *log << "[" << run.id << "] failed earlier: " << existing.error() << " ("
           << result_path << "); change its config to train it again\n";
    }
    return RunAction::kFail;
  }
  // A failure recorded with another config gives way to the new one.
  if (status.ok() && existing.status() == "failed") {
    if (log) {
      *log << "[" << run.id << "] the config changed since it "
           << "failed (" << existing.error() << "); training it again\n";
    }
    std::remove(result_path.c_str());
    return RunAction::kTrain;
  }
  // A finished result with another config is never overwritten.
  std::string why = status.ok() ? "it was made with a different config"
                                : std::string(status.message());
  if (log) {
    *log << "[" << run.id << "] error: " << result_path << " exists and " << why
         << "; move it away or choose another --out\n";
  }
  return RunAction::kFail;
}

// The stop signal of any rank (the lowest rank's), or 0.
absl::StatusOr<int> AgreedStopSignal(Communicator& comm) {
  if (comm.size() == 1) return StopSignalReceived();
  std::vector<uint64_t> signals;
  absl::Status status = comm.AllGather(StopSignalReceived(), &signals);
  if (!status.ok()) return status;
  for (uint64_t signal : signals) {
    if (signal != 0) return static_cast<int>(signal);
  }
  return 0;
}

}  // namespace

absl::StatusOr<SuiteSummary> RunSuite(const Suite& suite,
                                      const SuiteRunOptions& options) {
  // With several ranks (mpirun), every rank trains every run of the shard
  // together; rank 0 alone reads and writes the results folder and logs,
  // and tells the others what it decided.
  Communicator& comm = options.comm != nullptr ? *options.comm : World();
  const bool leader = comm.rank() == 0;
  std::ostream* const log = leader ? options.log : nullptr;
  SuiteSummary summary;
  std::vector<PlannedRun> runs =
      ShardRuns(suite.runs, options.shard, options.shards);
  if (log) {
    *log << "suite " << suite.name << ": " << runs.size() << " of "
         << suite.runs.size() << " runs in this shard (" << options.shard << "/"
         << options.shards << "), results in " << options.out_dir << "/"
         << suite.name;
    if (comm.size() > 1) *log << ", " << comm.size() << " MPI ranks per run";
    *log << "\n";
  }
  for (const PlannedRun& run : runs) {
    absl::StatusOr<int> stop = AgreedStopSignal(comm);
    if (!stop.ok()) return stop.status();
    if (*stop != 0) {
      summary.stop_signal = *stop;
      break;
    }
    const std::string dir =
        absl::StrCat(options.out_dir, "/", suite.name, "/", run.id);
    RunAction action = leader ? DecideRun(run, dir, log) : RunAction::kTrain;
    if (comm.size() > 1) {
      absl::Status status = comm.Broadcast(&action, sizeof(action), 0);
      if (!status.ok()) return status;
    }
    if (action == RunAction::kSkip) {
      ++summary.skipped;
      continue;
    }
    if (action == RunAction::kFail) {
      ++summary.failed;
      continue;
    }
    TrainOptions train_options;
    train_options.run_dir = dir;
    train_options.suite_name = suite.name;
    train_options.label = run.id;
    train_options.workspace_dir = options.workspace_dir;
    train_options.resume = options.resume;
    train_options.stop_after_steps = options.stop_after_steps;
    train_options.allreduce_bucket_mb = options.allreduce_bucket_mb;
    train_options.log = log;
    train_options.comm = &comm;
    if (!options.resume && log && FileExists(dir + "/checkpoint.last")) {
      *log << "[" << run.id << "] note: an interrupted run's checkpoint is in "
           << dir << "; starting afresh (pass --resume to continue it)\n";
    }
    // The outcome (and any error) is the same on every rank.
    absl::StatusOr<TrainOutcome> outcome = TrainRun(run.config, train_options);
    if (!outcome.ok()) {
      ++summary.failed;
      if (!leader) continue;
      if (log) {
        *log << "[" << run.id << "] FAILED: " << outcome.status().message()
             << "\n";
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
      if (leader) std::remove((dir + "/failed.pbtxt").c_str());
      continue;
    }
    ++summary.trained;
    if (leader) std::remove((dir + "/failed.pbtxt").c_str());
  }
  return summary;
}

}  // namespace lra
