// `lra run`: validates a suite, then trains its runs (one shard of them).
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lra/commands.h"
#include "lra/dist/communicator.h"
#include "lra/dist/world.h"
#include "lra/runner.h"
#include "lra/trainer.h"
#include "lra/validate.h"
#include "util/files.h"

namespace lra {

namespace {

absl::Status ParseShard(const std::string& text, int* shard, int* count) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], shard) ||
      !absl::SimpleAtoi(parts[1], count) || *count < 1 || *shard < 0 ||
      *shard >= *count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shard=", text, ": allowed: I/N with 0 <= I < N, e.g. 0/4"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunCommand(const RunCommandOptions& options) {
  if (options.suite.empty()) {
    return absl::InvalidArgumentError(
        "run needs --suite=FILE, e.g. --suite=configs/suites/smoke.pbtxt");
  }
  int shard = 0, shards = 1;
  absl::Status status = ParseShard(options.shard, &shard, &shards);
  if (!status.ok()) return status;
  const std::string workspace = WorkspaceDir();
  absl::StatusOr<Suite> suite =
      LoadSuite(ResolvePath(workspace, options.suite), workspace);
  if (!suite.ok()) return suite.status();
  SuiteRunOptions run_options;
  run_options.out_dir = ResolvePath(workspace, options.out);
  run_options.workspace_dir = workspace;
  run_options.resume = options.resume;
  run_options.shard = shard;
  run_options.shards = shards;
  run_options.stop_after_steps = options.stop_after_steps;
  run_options.allreduce_bucket_mb = options.allreduce_bucket_mb;
  run_options.log = &std::cerr;
  // Ctrl-C or `kill`: the running run saves its state at the next step
  // boundary and the suite stops there. A rank of an MPI job may get the
  // signal twice (from Slurm and from mpirun or srun passing it on): the
  // second is the same request.
  ScopedStopSignals stop_signals(
      /*repeats_end_process=*/!LaunchedByMpiLauncher());
  absl::StatusOr<SuiteSummary> summary = RunSuite(*suite, run_options);
  if (!summary.ok()) return summary.status();
  if (summary->stop_signal != 0) {
    // Every rank stopped at the same step boundary; they agree on the signal
    // (the lowest rank's that had one), so that all exit 128 + it.
    Communicator& world = World();
    if (world.size() > 1) {
      std::vector<uint64_t> signals;
      absl::Status gathered = world.AllGather(
          static_cast<uint64_t>(StopSignalReceived()), &signals);
      if (!gathered.ok()) return gathered;
      for (uint64_t signal : signals) {
        if (signal != 0) {
          summary->stop_signal = static_cast<int>(signal);
          break;
        }
      }
    }
    AdoptAgreedStopSignal(summary->stop_signal);
    std::string resume =
        absl::StrCat("lra run --suite=", options.suite, " --out=", options.out);
    if (shards > 1) absl::StrAppend(&resume, " --shard=", options.shard);
    absl::StrAppend(&resume, " --resume");
    std::string where =
        summary->stopped_run_dir.empty()
            ? std::string("before its next run started")
            : absl::StrCat("at step ", summary->stopped_at_step,
                           "; its state is in ", summary->stopped_run_dir,
                           "/checkpoint.last");
    return absl::CancelledError(
        absl::StrCat("suite '", suite->name, "' stopped by ",
                     summary->stop_signal == SIGINT ? "SIGINT" : "SIGTERM", " ",
                     where, ". Resume with:\n  ", resume));
  }
  std::cerr << "suite " << suite->name << ": " << summary->trained
            << " trained, " << summary->skipped << " already done, "
            << summary->failed << " failed";
  if (summary->interrupted > 0) {
    std::cerr << ", " << summary->interrupted
              << " stopped early (--resume continues)";
  }
  std::cerr << "\n";
  if (summary->failed > 0) {
    return absl::AbortedError(
        absl::StrCat(summary->failed, " run(s) of suite '", suite->name,
                     "' failed; their errors are above and in failed.pbtxt in "
                     "their folders"));
  }
  return absl::OkStatus();
}

}  // namespace lra
