#include "lra/trainer.h"

#include <omp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/text_proto.h"
#include "datasets/dataset.h"
#include "lra/checkpoint.h"
#include "lra/data_order.h"
#include "lra/dist/communicator.h"
#include "lra/dist/micro_batches.h"
#include "lra/optimizer.h"
#include "lra/progress.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "util/status_macros.h"

namespace lra {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

NamedTensors ParameterTensors(Encoder& encoder) {
  NamedTensors tensors;
  encoder.ForEachParameter(
      [&tensors](const std::string& name, Tensor& value, Tensor&) {
        tensors.push_back({name, &value});
      });
  return tensors;
}

std::string MetricsCsv(const RunResult& result) {
  std::string csv =
      "step,train_loss,train_accuracy,val_loss,val_accuracy,wall_seconds\n";
  for (const EvalPoint& point : result.eval()) {
    absl::StrAppendFormat(&csv, "%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", point.step(),
                          point.train_loss(), point.train_accuracy(),
                          point.val_loss(), point.val_accuracy(),
                          point.wall_seconds());
  }
  return csv;
}

std::string Now() {
  return absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
}

volatile sig_atomic_t stop_signal = 0;
volatile sig_atomic_t repeats_end_process = 1;
struct sigaction previous_int, previous_term;

void OnStopSignal(int signal) {
  if (stop_signal != 0) {
    // Under an MPI launcher: the launcher passing on the signal this rank
    // already had.
    if (!repeats_end_process) return;
    // A second signal: the user wants out now.
    std::signal(signal, SIG_DFL);
    raise(signal);
    return;
  }
  stop_signal = signal;
}

// Test hook: LRA_TEST_STEP_DELAY_MS=N sleeps N ms after each training step,
// so that shell tests can signal or kill a tiny run at chosen moments.
int StepDelayMs() {
  static const int delay = [] {
    const char* text = std::getenv("LRA_TEST_STEP_DELAY_MS");
    int value = 0;
    return text != nullptr && absl::SimpleAtoi(text, &value) ? value : 0;
  }();
  return delay;
}

// The cores this process may run on (its CPU affinity: all cores on a
// plain machine; what mpirun's binding or a Slurm allocation leaves it).
int UsableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// Test hook: LRA_TEST_DESYNC_RANK=r makes rank r of a data-parallel run
// nudge one weight after its first step, so that tests see the ranks'
// state check stop the run.
int DesyncRank() {
  static const int rank = [] {
    const char* text = std::getenv("LRA_TEST_DESYNC_RANK");
    int value = -1;
    return text != nullptr && absl::SimpleAtoi(text, &value) ? value : -1;
  }();
  return rank;
}

// Finds "format_version: N" at the top level of a RunResult text proto
// without parsing the rest: a newer format may hold fields this one does
// not know, which would fail a full parse before the version could be read.
int TextFormatVersion(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "format_version:")) {
      int version = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &version)) {
        return version;
      }
    }
  }
  return 0;
}

// Removes temporary files that a killed process left behind in `dir` (a
// run folder has one writer; WriteFileAtomic names them <file>.tmp.<pid>).
void RemoveStaleTemporaries(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

// The examples evaluated: the first `batches` batches, or all (batches 0).
int64_t EvalLimit(const Dataset& data, int batch_size, int batches) {
  const int64_t total = data.size();
  return batches > 0 ? std::min<int64_t>(total, int64_t{batches} * batch_size)
                     : total;
}

// The size of the batch that starts at `start`.
int EvalBatch(int batch_size, int64_t limit, int64_t start) {
  return static_cast<int>(std::min<int64_t>(batch_size, limit - start));
}

// Reads examples [start, start + batch) into tokens and labels and checks
// them against the model (vocabulary and classes); the error names the batch.
absl::Status ReadEvalBatch(const Encoder& encoder, const Dataset& data,
                           int64_t start, int batch,
                           std::vector<int32_t>& tokens,
                           std::vector<int32_t>& labels) {
  const int n = data.seq_len();
  for (int b = 0; b < batch; ++b) {
    labels[b] = data.Get(start + b, tokens.data() + int64_t{b} * n);
  }
  absl::Status status =
      encoder.CheckInputs(tokens.data(), labels.data(), batch);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "evaluation batch at example ", start, ": ", status.message()));
  }
  return absl::OkStatus();
}

// The mean loss and accuracy over `examples` examples.
EvalFigures FiguresOf(int64_t examples, double loss_sum, int64_t correct_sum) {
  EvalFigures figures;
  figures.examples = examples;
  figures.correct = correct_sum;
  if (examples > 0) {
    figures.loss = loss_sum / examples;
    figures.accuracy = static_cast<double>(correct_sum) / examples;
  }
  return figures;
}

}  // namespace

absl::StatusOr<EvalFigures> Evaluate(Encoder& encoder, const Dataset& data,
                                     int batch_size, int batches,
                                     std::vector<int32_t>& tokens,
                                     std::vector<int32_t>& labels) {
  const int64_t limit = EvalLimit(data, batch_size, batches);
  double loss_sum = 0;
  int64_t correct_sum = 0;
  for (int64_t start = 0; start < limit; start += batch_size) {
    const int batch = EvalBatch(batch_size, limit, start);
    RETURN_IF_ERROR(ReadEvalBatch(encoder, data, start, batch, tokens, labels));
    encoder.Forward(tokens.data(), batch, /*training=*/false, 0);
    int correct = 0;
    loss_sum += double{encoder.Loss(labels.data(), &correct)} * batch;
    correct_sum += correct;
  }
  return FiguresOf(limit, loss_sum, correct_sum);
}

absl::StatusOr<EvalFigures> EvaluateOnRanks(
    Communicator& comm, Encoder& encoder, const Dataset& data, int batch_size,
    int batches, std::vector<int32_t>& tokens, std::vector<int32_t>& labels) {
  if (comm.size() == 1) {
    return Evaluate(encoder, data, batch_size, batches, tokens, labels);
  }
  const int64_t limit = EvalLimit(data, batch_size, batches);
  const int64_t count = (limit + batch_size - 1) / batch_size;
  // Per batch k: loss * examples at 2k, correct at 2k + 1, each written by
  // one rank only (x + 0 is exact), then a bad-input flag.
  std::vector<double> slots(2 * count + 1, 0.0);
  for (int64_t k = comm.rank(); k < count; k += comm.size()) {
    const int64_t start = k * batch_size;
    const int batch = EvalBatch(batch_size, limit, start);
    if (!ReadEvalBatch(encoder, data, start, batch, tokens, labels).ok()) {
      slots[2 * count] = 1;
      continue;
    }
    encoder.Forward(tokens.data(), batch, /*training=*/false, 0);
    int correct = 0;
    slots[2 * k] = double{encoder.Loss(labels.data(), &correct)} * batch;
    slots[2 * k + 1] = correct;
  }
  RETURN_IF_ERROR(comm.AllReduceSum(slots.data(), slots.size()));
  if (slots[2 * count] > 0) {
    // Every rank looks for the first bad example, so all report the same.
    for (int64_t start = 0; start < limit; start += batch_size) {
      RETURN_IF_ERROR(ReadEvalBatch(encoder, data, start,
                                    EvalBatch(batch_size, limit, start), tokens,
                                    labels));
    }
  }
  // Summed in batch order, as Evaluate does: the same bits for every rank
  // count.
  double loss_sum = 0;
  int64_t correct_sum = 0;
  for (int64_t k = 0; k < count; ++k) {
    loss_sum += slots[2 * k];
    correct_sum += static_cast<int64_t>(slots[2 * k + 1]);
  }
  return FiguresOf(limit, loss_sum, correct_sum);
}

ScopedStopSignals::ScopedStopSignals(bool repeats_end) {
  stop_signal = 0;
  repeats_end_process = repeats_end ? 1 : 0;
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

ScopedStopSignals::~ScopedStopSignals() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int StopSignalReceived() { return stop_signal; }

void SetStopSignalForTesting(int signal) { stop_signal = signal; }

void AdoptAgreedStopSignal(int signal) { stop_signal = signal; }

absl::Status CheckRunFolderFormat(const std::string& dir) {
  for (const char* name : {"/result.pbtxt", "/failed.pbtxt"}) {
    const std::string path = dir + name;
    std::string text;
    if (!FileExists(path) || !ReadFile(path, &text).ok()) continue;
    const int version = TextFormatVersion(text);
    if (version > kResultFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": written by a newer harness (format_version ", version,
          ", this one writes ", kResultFormatVersion,
          "); left untouched: update lra or choose another --out"));
    }
  }
  return absl::OkStatus();
}

void ResetPeakRss() {
  // Linux resets the VmHWM high-water mark on "5"; elsewhere this is a no-op
  // and PeakRssMb() falls back to the whole process's peak.
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      int64_t kib = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(
                               absl::StripPrefix(line, "VmHWM:"), "kB")),
                           &kib)) {
        return kib / 1024.0;
      }
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

std::string CpuModelName() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (absl::StartsWith(line, "model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown CPU";
}

std::string MachineDescription() {
  char host[256] = "unknown";
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, " (", CpuModelName(), ", ",
                      sysconf(_SC_NPROCESSORS_ONLN), " cores)");
}

std::string GitRevision(const std::string& workspace_dir) {
  std::string command = absl::StrCat(
      "git -C '", workspace_dir,
      "' rev-parse --short=12 HEAD 2>/dev/null && git -C '", workspace_dir,
      "' status --porcelain --untracked-files=no 2>/dev/null | head -1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "unknown";
  char buffer[256];
  std::string sha, dirty;
  if (fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    sha = std::string(absl::StripAsciiWhitespace(buffer));
  }
  if (fgets(buffer, sizeof(buffer), pipe) != nullptr) dirty = "-dirty";
  pclose(pipe);
  if (sha.empty()) return "unknown";
  return sha + dirty;
}

namespace {

// One run of TrainRun as named steps over the state they share. The steps
// run in the order TrainRun calls them; each is short enough to read alone.
struct Run {
  Run(const RunConfig& config, const TrainOptions& options)
      : config(config),
        options(options),
        train(config.train()),
        comm(options.comm != nullptr ? *options.comm : SingleProcess()),
        leader(comm.rank() == 0),
        log(leader ? options.log : nullptr) {}

  // Runs `fn` (writing results or checkpoints, reading checkpoints) on rank 0
  // only; every rank returns its status.
  absl::Status OnLeader(absl::FunctionRef<absl::Status()> fn) {
    return AgreeOnStatus(comm, leader ? fn() : absl::OkStatus());
  }

  // Threads, run folder, data splits, encoder, optimizer, buffers and the
  // result's header; everything the step loop touches is allocated here.
  absl::Status Prepare();
  // With options.resume and a last checkpoint: weights, optimizer state,
  // step and the result so far, after checking the config is the same. Read
  // by rank 0, which then sends its state (resumed or initial) to all ranks.
  absl::Status Resume();
  absl::Status ResumeFromLastCheckpoint();
  // One optimizer step on the next batch of the fixed data order.
  absl::Status TrainStep();
  // The same as micro-batches over the ranks (MicroBatchGradient).
  absl::Status TrainMicroBatchStep();
  // Validation or test figures, split over the ranks.
  absl::StatusOr<EvalFigures> EvaluateSplit(const Dataset& data, int batches);
  // Fails when the ranks' weights and optimizer state are not the same bits.
  absl::Status CheckRanksAgree();
  // Whether to stop at this step boundary: a stop signal (on any rank).
  bool StopRequested() const;
  // Validation figures, the best checkpoint when they improve, the last
  // checkpoint and metrics.csv.
  absl::Status EvaluateAndCheckpoint();
  // checkpoint.last: weights, optimizer state and the run state, with the
  // training figures since the last evaluation.
  absl::Status SaveLastCheckpoint();
  // TrainStep until train.steps, evaluating every eval_every steps. Returns
  // true when options.stop_after_steps or a stop signal interrupted it (the
  // state saved), or when training diverged (`divergence` set).
  absl::StatusOr<bool> TrainToTheEnd();
  // The name of the first trainable tensor whose gradient holds a NaN or an
  // infinity, with the value and its index; empty when all are finite.
  std::string FirstNonFiniteGradient();
  // Whether training diverged at this step: the loss, or else a gradient,
  // is not finite. Sets `divergence` to say which.
  bool LossDiverged(float loss);
  bool GradientDiverged();
  // Counts a finished step into the training figures and the progress line.
  void CountStep(float loss, int correct, double seconds, double lr);
  // result.pbtxt with status "failed" and `divergence` as the error, and
  // metrics.csv; the best checkpoint is kept as it is.
  absl::Status WriteDivergedResult();
  // Stamps the result finished with `status` (peak memory, time, no longer
  // pending) and writes metrics.csv and result.pbtxt.
  absl::Status WriteResultFiles(const std::string& status);
  // Test figures of the best-validation checkpoint, not the last weights.
  absl::Status TestBestCheckpoint();
  // Throughput, memory, metrics.csv and result.pbtxt; the closing log line.
  absl::Status WriteFinishedResult();

  const RunConfig& config;
  const TrainOptions& options;
  const TrainConfig& train;
  Communicator& comm;
  const bool leader;        // Rank 0: writes results, checkpoints and logs.
  std::ostream* const log;  // options.log on rank 0, else nullptr.
  const Clock::time_point run_start = Clock::now();
  int threads = 1;
  std::unique_ptr<Dataset> train_data, val_data, test_data;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<AdamW> optimizer;
  int batch_size = 0;
  // TrainConfig.micro_batches (at least 1) and the examples of each: the
  // encoder's batch, also for evaluation.
  int micro_batches = 1;
  int micro_size = 0;
  // Set when micro_batches > 1 or there are several ranks; otherwise each
  // step is one Forward/Backward of the whole batch, as before.
  std::unique_ptr<MicroBatchGradient> micro_gradient;
  bool stop_agreed = false;  // Some rank had a stop signal at the last step.
  int64_t session_first_step = 0;  // The step this process started from.
  int seq_len = 0;
  std::vector<int32_t> tokens;  // [batch, seq_len]
  std::vector<int32_t> labels;  // [batch]
  std::unique_ptr<DataOrder> order;
  NamedTensors params;      // The weights (the best checkpoint).
  NamedTensors full_state;  // Weights and optimizer state (the last one).
  std::string last_path, best_path;
  std::unique_ptr<Progress> progress;

  RunResult result;
  int64_t step = 0;
  double train_seconds = 0;          // Excludes evaluation and checkpointing.
  double session_train_seconds = 0;  // The same, in this process only.
  double previous_wall = 0;  // Wall time of earlier sessions of this run.
  // Training figures since the last evaluation.
  double loss_sum = 0;
  int64_t correct_sum = 0, seen = 0;
  int64_t saved_step = -1;  // The step checkpoint.last holds.
  std::string divergence;   // Why training stopped being finite.
  int stop_signal = 0;      // The signal that interrupted the run.
};

absl::Status Run::Prepare() {
  ResetPeakRss();
  threads = train.threads() > 0 ? train.threads() : UsableCores();
  omp_set_num_threads(threads);
  if (leader) {
    RETURN_IF_ERROR(CheckRunFolderFormat(options.run_dir));
    RETURN_IF_ERROR(MakeDirs(options.run_dir));
    RemoveStaleTemporaries(options.run_dir);
    // The config beside the run from its start, so that an interrupted or
    // killed run's folder says what it was training.
    RETURN_IF_ERROR(
        WriteTextProtoAtomic(options.run_dir + "/config.pbtxt", config));
  }
  ASSIGN_OR_RETURN(train_data, MakeDataset(config.task(), Split::kTrain,
                                           options.workspace_dir));
  ASSIGN_OR_RETURN(
      val_data, MakeDataset(config.task(), Split::kVal, options.workspace_dir));
  ASSIGN_OR_RETURN(test_data, MakeDataset(config.task(), Split::kTest,
                                          options.workspace_dir));
  batch_size = train.batch_size();
  micro_batches = train.micro_batches() == 0 ? 1 : train.micro_batches();
  RETURN_IF_ERROR(CheckMicroBatches(batch_size, micro_batches, comm.size()));
  micro_size = batch_size / micro_batches;
  seq_len = train_data->seq_len();
  ASSIGN_OR_RETURN(encoder, Encoder::Create(config.model(),
                                            {seq_len, micro_size, train.seed()},
                                            BuiltinPlugins()));
  encoder->InitParameters(train.seed());
  optimizer = std::make_unique<AdamW>(train, encoder.get());
  if (micro_batches > 1 || comm.size() > 1) {
    micro_gradient = std::make_unique<MicroBatchGradient>(
        encoder.get(), &comm, micro_batches, micro_size,
        options.allreduce_bucket_mb);
  }

  tokens.resize(int64_t{batch_size} * seq_len);
  labels.resize(batch_size);
  const uint64_t order_seed = Mix64(train.seed() ^ 0x5eedda7aULL);
  if (train.length_bucket_batches() > 0) {
    // Real tokens of every training example (all documents together), for
    // batches of similar length.
    std::vector<int> lengths(train_data->size());
    for (int64_t i = 0; i < train_data->size(); ++i) {
      train_data->Get(i, tokens.data());
      int length = 0;
      for (int p = 0; p < seq_len; ++p) length += tokens[p] != 0 ? 1 : 0;
      lengths[i] = length;
    }
    order =
        std::make_unique<DataOrder>(std::move(lengths), order_seed, batch_size,
                                    train.length_bucket_batches());
  } else {
    order = std::make_unique<DataOrder>(train_data->size(), order_seed);
  }
  params = ParameterTensors(*encoder);
  full_state = params;
  optimizer->ForEachState([this](const std::string& name, Tensor& value) {
    full_state.push_back({name, &value});
  });
  last_path = options.run_dir + "/checkpoint.last";
  best_path = options.run_dir + "/checkpoint.best";

  result.set_suite(options.suite_name);
  result.set_format_version(kResultFormatVersion);
  *result.mutable_config() = config;
  result.set_num_parameters(encoder->NumParameters());
  result.set_threads(threads);
  result.set_machine(comm.size() > 1 ? absl::StrCat(MachineDescription(), " x ",
                                                    comm.size(), " MPI ranks")
                                     : MachineDescription());
  result.set_git_revision(GitRevision(options.workspace_dir));
  result.set_started(Now());
  result.set_best_step(0);
  result.set_best_val_accuracy(-1);
  return absl::OkStatus();
}

absl::Status Run::Resume() {
  RETURN_IF_ERROR(OnLeader([this] { return ResumeFromLastCheckpoint(); }));
  if (comm.size() > 1) {
    // Rank 0's state, resumed or initial, on every rank: a resume needs the
    // checkpoint on rank 0's file system only, and every rank starts from
    // the same bits whatever the number of ranks the checkpoint was made
    // with.
    RETURN_IF_ERROR(comm.Broadcast(&step, sizeof(step), 0));
    for (auto& [name, tensor] : full_state) {
      RETURN_IF_ERROR(comm.Broadcast(
          tensor->data(), tensor->size() * int64_t{sizeof(float)}, 0));
    }
  }
  session_first_step = step;
  return absl::OkStatus();
}

absl::Status Run::ResumeFromLastCheckpoint() {
  if (!options.resume || !FileExists(last_path)) return absl::OkStatus();
  std::string metadata;
  RETURN_IF_ERROR(LoadCheckpoint(last_path, &step, &metadata, full_state));
  RunResult saved;
  if (!saved.ParseFromString(metadata)) {
    return absl::DataLossError(
        absl::StrCat(last_path, ": corrupt run state in checkpoint"));
  }
  if (saved.format_version() > kResultFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        last_path, ": written by a newer harness (format_version ",
        saved.format_version(), ", this one reads ", kResultFormatVersion,
        "); left untouched: update lra or choose another --out"));
  }
  if (saved.config().SerializeAsString() != config.SerializeAsString()) {
    return absl::FailedPreconditionError(absl::StrCat(
        last_path, ": written by a run with a different config; delete ",
        options.run_dir, " to start afresh"));
  }
  train_seconds = saved.wall_seconds();
  previous_wall = saved.eval_size() > 0
                      ? saved.eval(saved.eval_size() - 1).wall_seconds()
                      : 0;
  result = saved;
  // Figures since the last evaluation: zero unless a signal stopped the run
  // between evaluations.
  loss_sum = saved.pending().loss_sum();
  correct_sum = saved.pending().correct_sum();
  seen = saved.pending().seen();
  result.clear_pending();
  result.set_format_version(kResultFormatVersion);
  saved_step = step;
  result.add_resumed_at(static_cast<int32_t>(step));
  if (log) {
    *log << "[" << options.label << "] resuming from step " << step << " ("
         << last_path << ")\n";
  }
  return absl::OkStatus();
}

absl::Status Run::TrainStep() {
  if (micro_gradient != nullptr) return TrainMicroBatchStep();
  const auto step_start = Clock::now();
  for (int b = 0; b < batch_size; ++b) {
    int64_t index = order->Index(step * batch_size + b);
    labels[b] = train_data->Get(index, tokens.data() + int64_t{b} * seq_len);
  }
  // The dataset and the model must agree on vocabulary and classes; a
  // bad id would otherwise read outside the embedding table.
  absl::Status status =
      encoder->CheckInputs(tokens.data(), labels.data(), batch_size);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training batch of step ", step + 1, ": ", status.message()));
  }
  ++step;
  encoder->SetStep(step);
  encoder->ZeroGrad();
  encoder->Forward(tokens.data(), batch_size, /*training=*/true,
                   Mix64(train.seed() ^ Mix64(static_cast<uint64_t>(step))));
  int correct = 0;
  float loss = encoder->Loss(labels.data(), &correct);
  // Checked before the optimizer step, so the weights (and every checkpoint)
  // stay finite.
  if (LossDiverged(loss)) return absl::OkStatus();
  encoder->Backward();
  if (GradientDiverged()) return absl::OkStatus();
  const double lr = LearningRate(train, step);
  optimizer->Step(step, lr);
  CountStep(loss, correct, Seconds(step_start), lr);
  return absl::OkStatus();
}

absl::Status Run::TrainMicroBatchStep() {
  const auto step_start = Clock::now();
  const int64_t first = step * batch_size;
  encoder->SetStep(step + 1);
  absl::StatusOr<MicroBatchGradient::Figures> figures = micro_gradient->Compute(
      [this, first](int micro, int32_t* micro_tokens, int32_t* micro_labels) {
        const int64_t start = first + int64_t{micro} * micro_size;
        for (int b = 0; b < micro_size; ++b) {
          micro_labels[b] = train_data->Get(
              order->Index(start + b), micro_tokens + int64_t{b} * seq_len);
        }
      },
      Mix64(train.seed() ^ Mix64(static_cast<uint64_t>(step + 1))),
      StopSignalReceived() != 0);
  if (!figures.ok()) {
    if (figures.status().code() != absl::StatusCode::kInvalidArgument) {
      return figures.status();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "training batch of step ", step + 1, ": ", figures.status().message()));
  }
  ++step;
  stop_agreed = figures->stop;
  const float loss = figures->loss;
  // The same figures and gradients on every rank: every rank takes the same
  // branch.
  if (LossDiverged(loss) || GradientDiverged()) return absl::OkStatus();
  const double lr = LearningRate(train, step);
  optimizer->Step(step, lr);
  if (comm.rank() == DesyncRank() && step == session_first_step + 1) {
    params.front().second->data()[0] += 1e-3f;
  }
  CountStep(loss, figures->correct, Seconds(step_start), lr);
  return absl::OkStatus();
}

bool Run::LossDiverged(float loss) {
  if (std::isfinite(loss)) return false;
  divergence =
      absl::StrCat("training diverged at step ", step, ": the loss is ", loss,
                   "; lower learning_rate or set grad_clip");
  return true;
}

bool Run::GradientDiverged() {
  const std::string gradient = FirstNonFiniteGradient();
  if (gradient.empty()) return false;
  divergence =
      absl::StrCat("training diverged at step ", step, ": the gradient of ",
                   gradient, "; lower learning_rate or set grad_clip");
  return true;
}

void Run::CountStep(float loss, int correct, double seconds, double lr) {
  loss_sum += loss;
  correct_sum += correct;
  seen += batch_size;
  train_seconds += seconds;
  session_train_seconds += seconds;
  progress->Step(step, loss, static_cast<double>(correct) / batch_size, lr);
}

bool Run::StopRequested() const {
  return comm.size() == 1 ? StopSignalReceived() != 0 : stop_agreed;
}

absl::StatusOr<EvalFigures> Run::EvaluateSplit(const Dataset& data,
                                               int batches) {
  return EvaluateOnRanks(comm, *encoder, data, micro_size, batches, tokens,
                         labels);
}

absl::Status Run::CheckRanksAgree() {
  if (comm.size() == 1) return absl::OkStatus();
  uint64_t hash = 0;
  for (const auto& [name, tensor] : full_state) {
    hash = HashFloats(tensor->data(), tensor->size(), hash);
  }
  return CheckSameOnAllRanks(
      comm, hash, absl::StrCat("weights and optimizer state at step ", step));
}

absl::Status Run::EvaluateAndCheckpoint() {
  ASSIGN_OR_RETURN(EvalFigures val,
                   EvaluateSplit(*val_data, train.eval_batches()));
  EvalPoint* point = result.add_eval();
  point->set_step(static_cast<int32_t>(step));
  int64_t steps_since = std::max<int64_t>(1, seen / batch_size);
  point->set_train_loss(loss_sum / steps_since);
  point->set_train_accuracy(seen > 0 ? double(correct_sum) / seen : 0);
  point->set_val_loss(val.loss);
  point->set_val_accuracy(val.accuracy);
  point->set_wall_seconds(previous_wall + Seconds(run_start));
  loss_sum = 0;
  correct_sum = 0;
  seen = 0;
  RETURN_IF_ERROR(OnLeader([&]() -> absl::Status {
    // Strictly better only: ties keep the earlier checkpoint.
    if (val.accuracy > result.best_val_accuracy()) {
      result.set_best_val_accuracy(val.accuracy);
      result.set_best_step(static_cast<int32_t>(step));
      RETURN_IF_ERROR(SaveCheckpoint(best_path, step, "", params));
    }
    progress->Eval(step, val.loss, val.accuracy, result.best_val_accuracy(),
                   result.best_step());
    RETURN_IF_ERROR(SaveLastCheckpoint());
    return WriteFileAtomic(options.run_dir + "/metrics.csv",
                           MetricsCsv(result));
  }));
  return CheckRanksAgree();
}

absl::Status Run::SaveLastCheckpoint() {
  result.set_wall_seconds(train_seconds);
  RunResult state = result;
  PendingTrainFigures* pending = state.mutable_pending();
  pending->set_loss_sum(loss_sum);
  pending->set_correct_sum(correct_sum);
  pending->set_seen(seen);
  RETURN_IF_ERROR(
      SaveCheckpoint(last_path, step, state.SerializeAsString(), full_state));
  saved_step = step;
  return absl::OkStatus();
}

std::string Run::FirstNonFiniteGradient() {
  std::string found;
  encoder->ForEachParameter(
      [&found](const std::string& name, Tensor&, Tensor& grad) {
        if (!found.empty()) return;
        const float* values = grad.data();
        const int64_t size = grad.size();
        for (int64_t i = 0; i < size; ++i) {
          if (!std::isfinite(values[i])) {
            found = absl::StrCat("'", name, "' is ", values[i], " at index ", i,
                                 " of ", size);
            return;
          }
        }
      });
  return found;
}

absl::StatusOr<bool> Run::TrainToTheEnd() {
  progress = std::make_unique<Progress>(log, options.label, train.steps(),
                                        train.log_every());
  progress->Start(step);
  const int delay_ms = StepDelayMs();
  while (step < train.steps()) {
    // A step boundary: a stop signal saves the state here and stops.
    if (StopRequested()) {
      // With several ranks, a rank without the signal stops with the others.
      stop_signal = StopSignalReceived() != 0 ? StopSignalReceived() : SIGTERM;
      RETURN_IF_ERROR(OnLeader([this] {
        return saved_step != step ? SaveLastCheckpoint() : absl::OkStatus();
      }));
      progress->Finish();
      return true;
    }
    RETURN_IF_ERROR(TrainStep());
    if (!divergence.empty()) {
      progress->Finish();
      return true;
    }
    if (step % train.eval_every() == 0 || step == train.steps()) {
      RETURN_IF_ERROR(EvaluateAndCheckpoint());
      if (options.stop_after_steps > 0 && step >= options.stop_after_steps &&
          step < train.steps()) {
        progress->Finish();
        return true;
      }
    }
    if (delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }
  progress->Finish();
  return false;
}

absl::Status Run::TestBestCheckpoint() {
  int64_t best_step = 0;
  std::string unused;
  RETURN_IF_ERROR(OnLeader(
      [&] { return LoadCheckpoint(best_path, &best_step, &unused, params); }));
  if (comm.size() > 1) {
    RETURN_IF_ERROR(comm.Broadcast(&best_step, sizeof(best_step), 0));
    for (auto& [name, tensor] : params) {
      RETURN_IF_ERROR(comm.Broadcast(
          tensor->data(), tensor->size() * int64_t{sizeof(float)}, 0));
    }
  }
  // Structure redrawn as training goes is that of the checkpoint's step.
  encoder->SetStep(best_step);
  ASSIGN_OR_RETURN(EvalFigures test,
                   EvaluateSplit(*test_data, train.test_batches()));
  result.set_test_accuracy(test.accuracy);
  result.set_test_loss(test.loss);
  return absl::OkStatus();
}

absl::Status Run::WriteFinishedResult() {
  result.set_wall_seconds(previous_wall + Seconds(run_start));
  if (train_seconds > 0) {
    result.set_steps_per_second(train.steps() / train_seconds);
    result.set_tokens_per_second(static_cast<double>(train.steps()) *
                                 batch_size * seq_len / train_seconds);
  }
  RETURN_IF_ERROR(WriteResultFiles("ok"));
  if (log) {
    *log << absl::StrFormat(
        "[%s] done: best val %.4f @ step %d, test %.4f (best checkpoint), "
        "%.2f steps/s, %.1f s\n",
        options.label, result.best_val_accuracy(), result.best_step(),
        result.test_accuracy(), result.steps_per_second(),
        result.wall_seconds());
    if (micro_gradient != nullptr && step > session_first_step) {
      // For tools/mpi_bench.sh: what one step costs and what it sends.
      const double steps = step - session_first_step;
      *log << absl::StrFormat(
          "[%s] data parallel: %d rank(s), %d micro-batches of %d; "
          "all-reduce %.3f MB per step in %d bucket(s); step %.2f ms, "
          "all-reduce %.2f ms, exposed %.2f ms (mean of %d steps)\n",
          options.label, comm.size(), micro_batches, micro_size,
          micro_gradient->reduced_floats() * 4.0 / 1e6,
          micro_gradient->buckets(), session_train_seconds * 1e3 / steps,
          micro_gradient->allreduce_seconds() * 1e3 / steps,
          micro_gradient->exposed_seconds() * 1e3 / steps,
          static_cast<int>(steps));
    }
  }
  return absl::OkStatus();
}

absl::Status Run::WriteResultFiles(const std::string& status) {
  result.set_peak_rss_mb(PeakRssMb());
  result.set_finished(Now());
  result.set_status(status);
  result.clear_pending();
  RETURN_IF_ERROR(
      WriteFileAtomic(options.run_dir + "/metrics.csv", MetricsCsv(result)));
  return WriteTextProtoAtomic(options.run_dir + "/result.pbtxt", result);
}

absl::Status Run::WriteDivergedResult() {
  result.set_wall_seconds(previous_wall + Seconds(run_start));
  result.set_error(divergence);
  RETURN_IF_ERROR(WriteResultFiles("failed"));
  if (log) {
    *log << "[" << options.label << "] FAILED: " << divergence
         << " (recorded in result.pbtxt; "
         << (result.best_step() > 0
                 ? absl::StrCat("the best checkpoint, of step ",
                                result.best_step(), ", is kept")
                 : std::string("no evaluation before it, so no best "
                               "checkpoint"))
         << ")\n";
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainOutcome> TrainRun(const RunConfig& config,
                                      const TrainOptions& options) {
  Run run(config, options);
  // Every status returned from here on is the same on every rank (see
  // Run::OnLeader), so that all ranks go on to the same next run.
  RETURN_IF_ERROR(AgreeOnStatus(run.comm, run.Prepare()));
  RETURN_IF_ERROR(run.Resume());
  ASSIGN_OR_RETURN(bool interrupted, run.TrainToTheEnd());
  TrainOutcome outcome;
  outcome.step = run.step;
  if (!run.divergence.empty()) {
    RETURN_IF_ERROR(run.OnLeader([&run] { return run.WriteDivergedResult(); }));
    run.result.set_status("failed");  // Also on the ranks that wrote nothing.
    run.result.set_error(run.divergence);
    outcome.result = std::move(run.result);
    return outcome;
  }
  if (interrupted) {
    outcome.result = run.result;
    outcome.interrupted = true;
    outcome.stop_signal = run.stop_signal;
    return outcome;
  }
  RETURN_IF_ERROR(run.TestBestCheckpoint());
  RETURN_IF_ERROR(run.OnLeader([&run] { return run.WriteFinishedResult(); }));
  run.result.set_status("ok");
  outcome.result = std::move(run.result);
  return outcome;
}

}  // namespace lra
