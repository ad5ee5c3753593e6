// End-to-end tests of training runs on a tiny ListOps: results written,
// best-validation checkpoint tested, rerun skipped, resume exact.
#include "lra/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/text_proto.h"
#include "datasets/dataset.h"
#include "gtest/gtest.h"
#include "lra/checkpoint.h"
#include "lra/dist/thread_communicator.h"
#include "lra/runner.h"
#include "lra/validate.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

Suite TinySuite() {
  absl::StatusOr<Suite> suite = LoadSuite(
      TestWorkspace() + "/lra/testdata/tiny_suite.pbtxt", TestWorkspace());
  EXPECT_TRUE(suite.ok()) << suite.status();
  return *suite;
}

SuiteRunOptions Options(const std::string& out) {
  SuiteRunOptions options;
  options.out_dir = out;
  options.workspace_dir = TestWorkspace();
  return options;
}

RunResult ReadResult(const std::string& path) {
  RunResult result;
  absl::Status status = LoadTextProto(path, &result);
  EXPECT_TRUE(status.ok()) << status;
  return result;
}

// A suite trains its runs in one process, so each run's peak memory must be
// its own: after a 256 MiB buffer is freed, a reset peak no longer shows it.
TEST(TrainerTest, PeakRssResetsBetweenRuns) {
  ResetPeakRss();
  const double before = PeakRssMb();
  {
    constexpr size_t kBytes = size_t{256} << 20;
    std::unique_ptr<char[]> buffer(new char[kBytes]);
    std::memset(buffer.get(), 1, kBytes);
    EXPECT_GE(PeakRssMb(), before + 200);
  }
  ResetPeakRss();
  EXPECT_LT(PeakRssMb(), before + 100);
}

TEST(TrainerTest, WritesResultsAndTestsTheBestCheckpoint) {
  const std::string out = MakeTestTmpDir("results");
  Suite suite = TinySuite();
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->trained, 2);
  EXPECT_EQ(summary->failed, 0);

  const std::string dir = out + "/tiny/listops/tiny";
  RunResult result = ReadResult(dir + "/result.pbtxt");
  EXPECT_EQ(result.status(), "ok");
  ASSERT_EQ(result.eval_size(), 3);  // Steps 4, 8, 12.
  // best_step is the first step with the highest validation accuracy.
  int best = 0;
  for (int i = 1; i < result.eval_size(); ++i) {
    if (result.eval(i).val_accuracy() > result.eval(best).val_accuracy())
      best = i;
  }
  EXPECT_EQ(result.best_step(), result.eval(best).step());
  EXPECT_GT(result.num_parameters(), 0);
  EXPECT_GT(result.steps_per_second(), 0);
  EXPECT_EQ(result.threads(), 1);

  // The reported test figures are those of checkpoint.best.
  const RunConfig& config = result.config();
  auto encoder =
      Encoder::Create(config.model(),
                      {config.task().seq_len(), config.train().batch_size(),
                       config.train().seed()},
                      BuiltinPlugins());
  ASSERT_TRUE(encoder.ok());
  NamedTensors params;
  (*encoder)->ForEachParameter(
      [&](const std::string& name, Tensor& v, Tensor&) {
        params.push_back({name, &v});
      });
  int64_t step;
  std::string meta;
  ASSERT_TRUE(
      LoadCheckpoint(dir + "/checkpoint.best", &step, &meta, params).ok());
  EXPECT_EQ(step, result.best_step());
  auto test = MakeDataset(config.task(), Split::kTest, TestWorkspace());
  ASSERT_TRUE(test.ok());
  const int n = config.task().seq_len();
  std::vector<int32_t> tokens((*test)->size() * n), labels((*test)->size());
  for (int64_t i = 0; i < (*test)->size(); ++i) {
    labels[i] = (*test)->Get(i, tokens.data() + i * n);
  }
  int correct_total = 0;
  const int batch = config.train().batch_size();
  for (int64_t start = 0; start < (*test)->size(); start += batch) {
    (*encoder)->Forward(tokens.data() + start * n, batch, false, 0);
    int correct = 0;
    (*encoder)->Loss(labels.data() + start, &correct);
    correct_total += correct;
  }
  EXPECT_FLOAT_EQ(result.test_accuracy(),
                  static_cast<float>(correct_total) / (*test)->size());

  std::string csv;
  ASSERT_TRUE(ReadFile(dir + "/metrics.csv", &csv).ok());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // Header + 3 evals.

  // A rerun skips both runs and leaves the results as they were.
  std::string before;
  ASSERT_TRUE(ReadFile(dir + "/result.pbtxt", &before).ok());
  summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->skipped, 2);
  EXPECT_EQ(summary->trained, 0);
  std::string after;
  ASSERT_TRUE(ReadFile(dir + "/result.pbtxt", &after).ok());
  EXPECT_EQ(before, after);
}

// Trains `suite` straight through and again stopped after step `stop_step`
// (an evaluation step) and resumed; expects both to end bit for bit alike.
// Returns the straight run.
RunResult ExpectResumeIsExact(const Suite& suite, const std::string& name,
                              int stop_step = 4) {
  const std::string run_dir = "/tiny/" + suite.runs[0].id;
  const std::string straight = MakeTestTmpDir(name + "_straight");
  EXPECT_TRUE(RunSuite(suite, Options(straight)).ok());

  const std::string resumed = MakeTestTmpDir(name + "_resumed");
  SuiteRunOptions stop = Options(resumed);
  stop.stop_after_steps = stop_step;
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, stop);
  EXPECT_TRUE(summary.ok());
  EXPECT_EQ(summary->interrupted, 1);
  EXPECT_FALSE(FileExists(resumed + run_dir + "/result.pbtxt"));
  SuiteRunOptions resume = Options(resumed);
  resume.resume = true;
  summary = RunSuite(suite, resume);
  EXPECT_TRUE(summary.ok());
  EXPECT_EQ(summary->trained, 1);

  RunResult a = ReadResult(straight + run_dir + "/result.pbtxt");
  RunResult b = ReadResult(resumed + run_dir + "/result.pbtxt");
  EXPECT_EQ(b.resumed_at_size(), 1);
  if (b.resumed_at_size() == 1) {
    EXPECT_EQ(b.resumed_at(0), stop_step);
  }
  EXPECT_EQ(a.eval_size(), b.eval_size());
  for (int i = 0; i < std::min(a.eval_size(), b.eval_size()); ++i) {
    EXPECT_EQ(a.eval(i).step(), b.eval(i).step());
    EXPECT_EQ(a.eval(i).train_loss(), b.eval(i).train_loss()) << i;
    EXPECT_EQ(a.eval(i).val_loss(), b.eval(i).val_loss()) << i;
    EXPECT_EQ(a.eval(i).val_accuracy(), b.eval(i).val_accuracy()) << i;
  }
  EXPECT_EQ(a.best_step(), b.best_step());
  EXPECT_EQ(a.test_accuracy(), b.test_accuracy());
  EXPECT_EQ(a.test_loss(), b.test_loss());
  return a;
}

TEST(TrainerTest, ResumedRunEndsExactlyLikeAnUninterruptedOne) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  // Two threads: the result must not depend on how work was split in time.
  suite.runs[0].config.mutable_train()->set_threads(2);
  ExpectResumeIsExact(suite, "plain");
}

TEST(TrainerTest, ResumeStaysExactWithLengthBucketing) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  suite.runs[0].config.mutable_train()->set_threads(2);
  RunResult plain = ExpectResumeIsExact(suite, "unbucketed");
  // 64 examples, batches of 8: windows of 2 batches; 12 steps cross an
  // epoch boundary (step 9 starts epoch 1).
  suite.runs[0].config.mutable_train()->set_length_bucket_batches(2);
  RunResult bucketed = ExpectResumeIsExact(suite, "bucketed");
  // Resumed where epoch 1 begins: the resumed process's first batches come
  // from an epoch it bucketed without having seen the one before.
  ExpectResumeIsExact(suite, "bucketed_epoch1", 8);
  // Bucketing changes which examples share a batch, hence the training loss.
  ASSERT_GT(bucketed.eval_size(), 0);
  EXPECT_NE(plain.eval(0).train_loss(), bucketed.eval(0).train_loss());
}

TEST(TrainerTest, ResumeStaysExactWithMicroBatches) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  suite.runs[0].config.mutable_train()->set_micro_batches(4);
  RunResult micro = ExpectResumeIsExact(suite, "micro");
  EXPECT_EQ(micro.status(), "ok");
}

TEST(TrainerTest, MicroBatchesThatDoNotDivideTheBatchFailNamingTheField) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  suite.runs[0].config.mutable_train()->set_micro_batches(3);  // Batch 8.
  const std::string out = MakeTestTmpDir("micro3");
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->failed, 1);
  RunResult failed =
      ReadResult(out + "/tiny/" + suite.runs[0].id + "/failed.pbtxt");
  EXPECT_NE(failed.error().find("train.micro_batches = 3"), std::string::npos)
      << failed.error();
}

// Two ranks as threads of this process train the suite together (4
// micro-batches of 2): rank 0's results equal one process's bit for bit, and
// rank 1 writes nothing.
TEST(TrainerTest, TwoRanksEndLikeOneProcess) {
  absl::StatusOr<Suite> loaded = LoadSuite(
      TestWorkspace() + "/lra/dist/testdata/mpi_suite.pbtxt", TestWorkspace());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Suite& suite = *loaded;
  const std::string one = MakeTestTmpDir("one_rank");
  ASSERT_TRUE(RunSuite(suite, Options(one)).ok());

  const std::string two = MakeTestTmpDir("two_ranks");
  const std::string elsewhere = MakeTestTmpDir("two_ranks_rank1");
  ThreadGroup group(2);
  std::vector<absl::StatusOr<SuiteSummary>> summaries(
      2, absl::UnknownError("not run"));
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    // Rank 1 is given another folder: it must write nothing there.
    SuiteRunOptions options = Options(rank == 0 ? two : elsewhere);
    options.comm = &comm;
    summaries[rank] = RunSuite(suite, options);
  });
  for (const auto& summary : summaries) {
    ASSERT_TRUE(summary.ok()) << summary.status();
    EXPECT_EQ(summary->trained, 2);
  }
  EXPECT_FALSE(FileExists(elsewhere + "/mpi"));
  for (const PlannedRun& run : suite.runs) {
    RunResult a = ReadResult(one + "/mpi/" + run.id + "/result.pbtxt");
    RunResult b = ReadResult(two + "/mpi/" + run.id + "/result.pbtxt");
    EXPECT_NE(b.machine().find(" x 2 MPI ranks"), std::string::npos);
    ASSERT_EQ(a.eval_size(), b.eval_size());
    for (int i = 0; i < a.eval_size(); ++i) {
      EXPECT_EQ(a.eval(i).train_loss(), b.eval(i).train_loss()) << i;
      EXPECT_EQ(a.eval(i).train_accuracy(), b.eval(i).train_accuracy()) << i;
      EXPECT_EQ(a.eval(i).val_loss(), b.eval(i).val_loss()) << i;
      EXPECT_EQ(a.eval(i).val_accuracy(), b.eval(i).val_accuracy()) << i;
    }
    EXPECT_EQ(a.best_step(), b.best_step());
    EXPECT_EQ(a.test_accuracy(), b.test_accuracy());
    EXPECT_EQ(a.test_loss(), b.test_loss());
  }
}

TEST(TrainerTest, CorruptResumeCheckpointFailsWithoutTouchingResults) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  const std::string out = MakeTestTmpDir("corrupt");
  SuiteRunOptions stop = Options(out);
  stop.stop_after_steps = 4;
  ASSERT_TRUE(RunSuite(suite, stop).ok());
  const std::string dir = out + "/tiny/" + suite.runs[0].id;
  ASSERT_TRUE(WriteFileAtomic(dir + "/checkpoint.last", "garbage").ok());
  SuiteRunOptions resume = Options(out);
  resume.resume = true;
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, resume);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->failed, 1);
  RunResult failed = ReadResult(dir + "/failed.pbtxt");
  EXPECT_EQ(failed.status(), "failed");
  EXPECT_NE(failed.error().find("checkpoint.last"), std::string::npos)
      << failed.error();
  EXPECT_FALSE(FileExists(dir + "/result.pbtxt"));
  // metrics.csv from the interrupted part is still there.
  EXPECT_TRUE(FileExists(dir + "/metrics.csv"));
}

// A learning rate of 1e30 makes the weights overflow after the first step:
// the run stops at the step where the loss or a gradient stops being finite,
// names it, keeps the best checkpoint, and records the run as failed in
// result.pbtxt; a rerun with the same config does not train it again.
TEST(TrainerTest, DivergedRunStopsNamingStepAndTensorAndIsRecordedAsFailed) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  TrainConfig* train = suite.runs[0].config.mutable_train();
  train->set_learning_rate(1e30f);
  train->set_eval_every(1);
  const std::string out = MakeTestTmpDir("diverged");
  const std::string dir = out + "/tiny/" + suite.runs[0].id;
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->failed, 1);
  EXPECT_EQ(summary->trained, 0);
  RunResult result = ReadResult(dir + "/result.pbtxt");
  EXPECT_EQ(result.status(), "failed");
  EXPECT_EQ(result.format_version(), kResultFormatVersion);
  EXPECT_FALSE(result.has_pending());
  // Step 1 was finite (evaluated and checkpointed), step 2 was not.
  EXPECT_NE(result.error().find("training diverged at step 2: the "),
            std::string::npos)
      << result.error();
  EXPECT_TRUE(result.error().find("the loss is ") != std::string::npos ||
              result.error().find("the gradient of '") != std::string::npos)
      << result.error();
  EXPECT_EQ(result.best_step(), 1);
  EXPECT_TRUE(FileExists(dir + "/checkpoint.best"));
  EXPECT_FALSE(FileExists(dir + "/failed.pbtxt"));
  // The leaderboard's reader sees a failed run with the reason.
  summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->failed, 1);
  EXPECT_EQ(ReadResult(dir + "/result.pbtxt").error(), result.error());
}

// A folder written by a newer harness is neither trained into nor
// overwritten; the error names the file.
TEST(TrainerTest, NewerFormatFolderIsLeftUntouched) {
  Suite suite = TinySuite();
  suite.runs.resize(1);
  const std::string out = MakeTestTmpDir("newer");
  const std::string dir = out + "/tiny/" + suite.runs[0].id;
  ASSERT_TRUE(MakeDirs(dir).ok());
  const std::string text =
      "format_version: 99\nstatus: \"ok\"\nfield_from_the_future: 1\n";
  ASSERT_TRUE(WriteFileAtomic(dir + "/result.pbtxt", text).ok());
  absl::Status status = CheckRunFolderFormat(dir);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir + "/result.pbtxt: written by a newer "
                                        "harness (format_version 99"),
            std::string::npos)
      << status;
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, Options(out));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->failed, 1);
  std::string after;
  ASSERT_TRUE(ReadFile(dir + "/result.pbtxt", &after).ok());
  EXPECT_EQ(after, text);
  EXPECT_FALSE(FileExists(dir + "/failed.pbtxt"));
  EXPECT_FALSE(FileExists(dir + "/checkpoint.last"));
}

// A stop signal before a run starts stops the suite there.
TEST(TrainerTest, StopSignalBeforeARunStartsNothing) {
  Suite suite = TinySuite();
  const std::string out = MakeTestTmpDir("signalled");
  SetStopSignalForTesting(SIGTERM);
  absl::StatusOr<SuiteSummary> summary = RunSuite(suite, Options(out));
  SetStopSignalForTesting(0);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->stop_signal, SIGTERM);
  EXPECT_EQ(summary->trained, 0);
  EXPECT_FALSE(FileExists(out + "/tiny"));
}

}  // namespace
}  // namespace lra
