// Training one run: AdamW on the train split, evaluation on validation every
// N steps, the best-validation checkpoint kept and tested, resumable.
#ifndef LRA_TRAINER_H_
#define LRA_TRAINER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"
#include "lra/dist/communicator.h"
#include "models/encoder.h"
#include "proto/config.pb.h"
#include "proto/result.pb.h"

namespace lra {

// The results-folder format written into result.pbtxt, failed.pbtxt and
// checkpoints' run state (RunResult.format_version). Raise it when an older
// harness would misread what a newer one writes; a harness refuses to write
// into a run folder of a newer format.
inline constexpr int kResultFormatVersion = 1;

// SIGINT and SIGTERM ask a running TrainRun to stop: it saves its state at
// the next step boundary (checkpoint.last, resumable bit for bit) and
// returns `interrupted` with the signal. A second signal ends the process at
// once, unless `repeats_end_process` is false: a rank that an MPI launcher
// started gets the same request twice when the signal goes to every process
// of a job (Slurm's pre-emption, `scancel --signal`) and mpirun or srun
// passes on what it got too; the launcher kills the ranks itself when asked
// to twice. The handlers are installed while an object of this class lives.
class ScopedStopSignals {
 public:
  explicit ScopedStopSignals(bool repeats_end_process = true);
  ~ScopedStopSignals();
  ScopedStopSignals(const ScopedStopSignals&) = delete;
  ScopedStopSignals& operator=(const ScopedStopSignals&) = delete;
};

// The stop signal received (SIGINT or SIGTERM), or 0.
int StopSignalReceived();
// For tests: as if `signal` had been received (0 clears).
void SetStopSignalForTesting(int signal);
// The ranks of a data-parallel run stopped together for `signal`, the one
// they agreed on (a rank may have had another, or none): StopSignalReceived()
// returns it from now on, so that every rank exits with 128 + it.
void AdoptAgreedStopSignal(int signal);

struct TrainOptions {
  // Folder of this run: checkpoints, result.pbtxt and metrics.csv go here.
  std::string run_dir;
  std::string suite_name;
  // Label shown on progress lines, e.g. "listops/transformer".
  std::string label;
  // Resolves relative data paths in the task config; also where `git` looks
  // for the revision recorded in the result.
  std::string workspace_dir;
  // Continue from run_dir/checkpoint.last when it exists.
  bool resume = false;
  // For tests of resumption: stop (as if interrupted) after this many steps,
  // leaving the last checkpoint behind; 0 = run to the end.
  int64_t stop_after_steps = 0;
  // Progress lines go here (nullptr = silent). Only rank 0 writes them.
  std::ostream* log = nullptr;
  // The ranks training this run data-parallel (mpirun); nullptr = this
  // process alone. Every rank calls TrainRun with the same config; all
  // return the same status and figures, and only rank 0 writes into
  // run_dir. TrainConfig.micro_batches must be a multiple of the ranks.
  Communicator* comm = nullptr;
  // With several ranks: the gradient is summed in buckets of at least this
  // many MB (1e6 bytes), each as soon as the backward pass of the last
  // micro-batch has finished its layers, overlapped with the rest of it;
  // 0 = as one buffer after it. The results are the same bits either way.
  // 1 MB gives LRA's models (blocks of 1-8 MB) one bucket per block.
  double allreduce_bucket_mb = 1.0;
};

// Outcome of TrainRun: the result, or `interrupted` when stop_after_steps or
// a stop signal stopped it early. A run whose loss or gradients stopped being
// finite has result.status() == "failed" with the step and tensor in
// result.error() (also written to result.pbtxt; the best checkpoint stays).
struct TrainOutcome {
  RunResult result;
  bool interrupted = false;
  int stop_signal = 0;  // SIGINT or SIGTERM when a signal stopped the run.
  int64_t step = 0;     // The step the run stopped at.
};

// Trains `config` (already resolved and validated) and writes result.pbtxt
// and metrics.csv into options.run_dir atomically. Refuses (before writing
// anything) a run folder written by a newer format. The test figures are those
// of the best-validation checkpoint. Deterministic for fixed configs, seed
// and thread count, whether or not the run was interrupted and resumed, and
// (for a power-of-two number of ranks) whatever the number of ranks: the
// global batch is always TrainConfig.micro_batches micro-batches whose
// gradients are summed in one fixed order (lra/dist/micro_batches.h). With
// several ranks, the ranks' weights and optimizer state are compared by hash
// at every evaluation; a difference fails the run.
absl::StatusOr<TrainOutcome> TrainRun(const RunConfig& config,
                                      const TrainOptions& options);

// Loss and accuracy of an evaluation.
struct EvalFigures {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
  int64_t correct = 0;
};

// Evaluates `batches` batches of `data` in order (0 = all) without dropout,
// `batch_size` examples per Forward; `tokens` ([batch_size, seq_len]) and
// `labels` ([batch_size]) are the caller's buffers. A token id or label the
// encoder does not accept is InvalidArgument naming the example.
absl::StatusOr<EvalFigures> Evaluate(Encoder& encoder, const Dataset& data,
                                     int batch_size, int batches,
                                     std::vector<int32_t>& tokens,
                                     std::vector<int32_t>& labels);

// Evaluate over the ranks of `comm`: batch k on rank k % size, the figures
// summed in batch order, so every rank gets the bits Evaluate gives on one
// process. With one rank it is Evaluate.
absl::StatusOr<EvalFigures> EvaluateOnRanks(
    Communicator& comm, Encoder& encoder, const Dataset& data, int batch_size,
    int batches, std::vector<int32_t>& tokens, std::vector<int32_t>& labels);

// Fails, naming the file, when run folder `dir` holds a result.pbtxt or
// failed.pbtxt written by a format newer than kResultFormatVersion (a
// checkpoint's run state is checked when it is resumed).
absl::Status CheckRunFolderFormat(const std::string& dir);

// Peak resident memory of this process since the last ResetPeakRss() (or
// since it started), in MiB. TrainRun resets it first, so a suite's later
// runs do not report an earlier run's peak.
double PeakRssMb();
void ResetPeakRss();

// The CPU's model name (/proc/cpuinfo "model name"), or "unknown CPU".
std::string CpuModelName();

// "hostname (CPU model, N cores)".
std::string MachineDescription();

// The workspace's git revision ("<sha>" or "<sha>-dirty"), or "unknown".
std::string GitRevision(const std::string& workspace_dir);

}  // namespace lra

#endif  // LRA_TRAINER_H_
