#include "eval/tables.h"

#include <cmath>
#include <string>
#include <vector>

#include "config/plugin_param.h"
#include "eval/results.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

RunRecord Done(const FakeRunSpec& spec, const std::string& folder = "") {
  RunRecord record;
  record.suite = spec.suite;
  record.task_label = spec.task_label;
  record.run_folder = folder.empty() ? spec.model : folder;
  record.state = RunState::kDone;
  record.result = FakeRunResult(spec);
  return record;
}

RunRecord Failed(const FakeRunSpec& spec, const std::string& error) {
  RunRecord record = Done(spec);
  record.state = RunState::kFailed;
  record.result.set_status("failed");
  record.error = error;
  return record;
}

// An interrupted run: no config, only a folder name and its metrics.
RunRecord Unfinished(const FakeRunSpec& spec) {
  RunRecord record;
  record.suite = spec.suite;
  record.task_label = spec.task_label;
  record.run_folder = spec.model;
  record.state = RunState::kUnfinished;
  *record.result.add_eval() = FakeRunResult(spec).eval(0);
  return record;
}

const AccuracyRow* FindRow(const AccuracyTable& table,
                           const std::string& name) {
  for (const AccuracyRow& row : table.rows) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

int Column(const AccuracyTable& table, const std::string& label) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (table.columns[c].label == label) return static_cast<int>(c);
  }
  return -1;
}

TEST(AccuracyTableTest, SeedsOfOneRecipeGroupIntoMeanAndStd) {
  std::vector<RunRecord> runs;
  const double accuracies[] = {0.30, 0.32, 0.34};
  for (int s = 0; s < 3; ++s) {
    FakeRunSpec spec = Spec("listops", "transformer", accuracies[s]);
    spec.seed = s + 1;
    spec.train_name = "s" + std::to_string(s + 1);
    runs.push_back(Done(spec, "transformer." + spec.train_name));
  }
  AccuracyTable table = BuildAccuracyTable(runs, {});
  ASSERT_EQ(table.rows.size(), 1u);
  ASSERT_EQ(table.columns.size(), 1u);
  const AccuracyCell& cell = table.rows[0].cells[0];
  EXPECT_EQ(cell.values.size(), 3u);
  EXPECT_NEAR(cell.mean, 32.0, 1e-4);
  EXPECT_NEAR(cell.std, 2.0, 1e-4);  // Sample std of 30, 32, 34.
  EXPECT_EQ(FormatMeanStd(cell), "32.00 ± 2.00");
  EXPECT_EQ(cell.run_ids.size(), 3u);
  // One row with one value: nothing to be best against.
  EXPECT_FALSE(cell.best);
}

TEST(AccuracyTableTest, AnotherRecipeBecomesItsOwnRowNamedByWhatDiffers) {
  FakeRunSpec base = Spec("listops", "transformer", 0.30);
  FakeRunSpec other = base;
  other.learning_rate = 0.001f;
  other.train_name = "slow";
  other.test_accuracy = 0.20;
  std::vector<RunRecord> runs = {Done(base, "transformer.default"),
                                 Done(other, "transformer.slow")};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  ASSERT_EQ(table.rows.size(), 2u);
  const AccuracyRow* main = FindRow(table, "transformer");
  const AccuracyRow* slow =
      FindRow(table, "transformer (train.learning_rate=0.001)");
  ASSERT_NE(main, nullptr);
  ASSERT_NE(slow, nullptr) << table.rows[0].name << " / " << table.rows[1].name;
  EXPECT_NEAR(main->cells[0].mean, 30.0, 1e-4);
  EXPECT_NEAR(slow->cells[0].mean, 20.0, 1e-4);
  ASSERT_FALSE(table.notes.empty());
  EXPECT_TRUE(main->cells[0].best);
  EXPECT_FALSE(slow->cells[0].best);
}

TEST(AccuracyTableTest, SameLabelInAnotherSuiteIsQualifiedBySuite) {
  FakeRunSpec a = Spec("listops", "transformer", 0.30);
  a.suite = "big";
  FakeRunSpec b = a;
  b.suite = "small";
  b.seq_len = 1000;
  b.test_accuracy = 0.25;
  // "big" has more finished runs, so it is the main group.
  FakeRunSpec a2 = a;
  a2.seed = 2;
  std::vector<RunRecord> runs = {Done(a), Done(a2, "transformer.s2"), Done(b)};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  EXPECT_NE(FindRow(table, "transformer"), nullptr);
  EXPECT_NE(FindRow(table, "transformer (small)"), nullptr);
  // Mixed lengths under one LRA label: not comparable with the paper.
  EXPECT_EQ(table.columns[0].lra_index, -1);
  EXPECT_NE(table.columns[0].not_comparable.find("seq_len 1000"),
            std::string::npos);
}

TEST(AccuracyTableTest, BestIsMarkedAmongOurRowsOnly) {
  std::vector<RunRecord> runs = {Done(Spec("listops", "transformer", 0.30)),
                                 Done(Spec("listops", "local", 0.20))};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  // The paper's Transformer (36.37) beats both, but is never marked.
  ASSERT_FALSE(table.reference_rows.empty());
  EXPECT_NEAR(table.reference_rows[0].cells[0], 36.37, 1e-9);
  const AccuracyRow* transformer = FindRow(table, "transformer");
  const AccuracyRow* local = FindRow(table, "local");
  ASSERT_NE(transformer, nullptr);
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(transformer->cells[0].best);
  EXPECT_FALSE(local->cells[0].best);
  EXPECT_TRUE(transformer->best_average);
  // Best first.
  EXPECT_EQ(table.rows[0].name, "transformer");
}

TEST(AccuracyTableTest, TiesAreAllMarked) {
  std::vector<RunRecord> runs = {Done(Spec("listops", "transformer", 0.30)),
                                 Done(Spec("listops", "local", 0.30)),
                                 Done(Spec("listops", "linformer", 0.10))};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  EXPECT_TRUE(FindRow(table, "transformer")->cells[0].best);
  EXPECT_TRUE(FindRow(table, "local")->cells[0].best);
  EXPECT_FALSE(FindRow(table, "linformer")->cells[0].best);
}

TEST(AccuracyTableTest, MissingFailedAndUnfinishedCells) {
  FakeRunSpec text = Spec("text", "transformer", 0.60);
  text.seq_len = 1000;
  FakeRunSpec failing = Spec("listops", "local", 0.0);
  FakeRunSpec pending = Spec("listops", "linformer", 0.0);
  std::vector<RunRecord> runs = {
      Done(Spec("listops", "transformer", 0.30)), Done(text),
      Failed(failing,
             "TrainRun: step 12: loss is NaN (learning rate too high?)"),
      Unfinished(pending)};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  const int listops = Column(table, "listops");
  const int text_column = Column(table, "text");
  ASSERT_GE(listops, 0);
  ASSERT_GE(text_column, 0);
  EXPECT_LT(listops, text_column);  // LRA's order.

  const AccuracyRow* local = FindRow(table, "local");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->cells[listops].failed, 1);
  EXPECT_FALSE(local->cells[listops].has_value());
  EXPECT_NE(local->cells[listops].error.find("loss is NaN"), std::string::npos);
  EXPECT_TRUE(local->cells[text_column].empty());  // Not run.
  EXPECT_EQ(local->average_tasks, 0);

  // The unfinished run had no config; it joins its model's row by folder.
  const AccuracyRow* linformer = FindRow(table, "linformer");
  ASSERT_NE(linformer, nullptr);
  EXPECT_EQ(linformer->cells[listops].unfinished, 1);
  EXPECT_FALSE(linformer->curves[listops].empty());

  const AccuracyRow* transformer = FindRow(table, "transformer");
  ASSERT_NE(transformer, nullptr);
  EXPECT_NEAR(transformer->average, 45.0, 1e-4);
  EXPECT_EQ(transformer->average_tasks, 2);
}

TEST(AccuracyTableTest, FinishedAndFailedSeedsShareACell) {
  FakeRunSpec s1 = Spec("listops", "transformer", 0.30);
  FakeRunSpec s2 = s1;
  s2.seed = 2;
  std::vector<RunRecord> runs = {Done(s1, "transformer.s1"),
                                 Failed(s2, "out of memory")};
  runs[1].run_folder = "transformer.s2";
  AccuracyTable table = BuildAccuracyTable(runs, {});
  ASSERT_EQ(table.rows.size(), 1u);
  const AccuracyCell& cell = table.rows[0].cells[0];
  EXPECT_EQ(cell.values.size(), 1u);
  EXPECT_EQ(cell.failed, 1);
  EXPECT_TRUE(std::isnan(cell.std));
}

TEST(AccuracyTableTest, ReferenceRowsOnlyInComparableColumns) {
  FakeRunSpec short_listops = Spec("listops-short", "transformer", 0.60);
  short_listops.task_name = "listops";
  short_listops.seq_len = 64;
  std::vector<RunRecord> runs = {Done(Spec("listops", "transformer", 0.30)),
                                 Done(short_listops)};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  const int listops = Column(table, "listops");
  const int short_column = Column(table, "listops-short");
  EXPECT_EQ(table.columns[listops].lra_index, 0);
  EXPECT_EQ(table.columns[short_column].lra_index, -1);
  EXPECT_FALSE(table.has_lra_average);
  ASSERT_EQ(table.reference_rows.size(), 11u);
  for (const ReferenceAccuracyRow& row : table.reference_rows) {
    EXPECT_FALSE(std::isnan(row.cells[listops])) << row.name;
    EXPECT_TRUE(std::isnan(row.cells[short_column])) << row.name;
    // Not every column is LRA's: no reference average to compare.
    EXPECT_TRUE(std::isnan(row.average)) << row.name;
  }
  // Our average is ours alone: (30 + 60) / 2.
  EXPECT_NEAR(table.rows[0].average, 45.0, 1e-4);
}

TEST(AccuracyTableTest, NoReferenceRowsWithoutAnyLraColumn) {
  FakeRunSpec spec = Spec("recall", "transformer", 0.9);
  AccuracyTable table = BuildAccuracyTable({Done(spec)}, {});
  EXPECT_TRUE(table.reference_rows.empty());
}

TEST(AccuracyTableTest, LraAverageNeedsAllFiveTasks) {
  struct Task {
    const char* label;
    int seq_len;
  };
  const Task tasks[] = {{"listops", 2000},
                        {"text", 1000},
                        {"retrieval", 4000},
                        {"image", 1024},
                        {"pathfinder", 1024}};
  std::vector<RunRecord> runs;
  for (int t = 0; t < 5; ++t) {
    FakeRunSpec spec = Spec(tasks[t].label, "transformer", 0.40 + 0.05 * t);
    spec.seq_len = tasks[t].seq_len;
    runs.push_back(Done(spec));
    if (t < 4) {
      FakeRunSpec partial = spec;
      partial.model = "local";
      partial.attention = "local";
      runs.push_back(Done(partial));
    }
  }
  AccuracyTable table = BuildAccuracyTable(runs, {});
  EXPECT_TRUE(table.has_lra_average);
  const AccuracyRow* transformer = FindRow(table, "transformer");
  const AccuracyRow* local = FindRow(table, "local");
  ASSERT_NE(transformer, nullptr);
  ASSERT_NE(local, nullptr);
  EXPECT_NEAR(transformer->lra_average, 50.0, 1e-4);  // 40, 45, ..., 60.
  EXPECT_TRUE(std::isnan(local->lra_average));
  EXPECT_EQ(local->average_tasks, 4);
  // Only one complete row: no best LRA average to mark.
  EXPECT_FALSE(transformer->best_lra_average);
  // Paper rows carry the published average, and all columns compare.
  EXPECT_NEAR(table.reference_rows[0].lra_average, 54.39, 1e-9);
  EXPECT_NEAR(table.reference_rows[0].average, 54.388, 1e-6);
}

TEST(AccuracyTableTest, RowsAreNamedBySequenceHandlerOrMixer) {
  FakeRunSpec rmt = Spec("listops", "rmt", 0.30);
  rmt.attention = "full";
  RunRecord rmt_run = Done(rmt);
  PluginConfig* sequence =
      rmt_run.result.mutable_config()->mutable_model()->mutable_sequence();
  sequence->set_name("rmt");
  *sequence->add_param() = NumberParam("memory_slots", 8);
  FakeRunSpec s4d = Spec("listops", "s4d", 0.35);
  s4d.attention = "full";
  RunRecord s4d_run = Done(s4d);
  s4d_run.result.mutable_config()->mutable_model()->mutable_mixer()->set_name(
      "s4d");
  AccuracyTable table = BuildAccuracyTable({rmt_run, s4d_run}, {});
  const AccuracyRow* rmt_row = FindRow(table, "rmt");
  const AccuracyRow* s4d_row = FindRow(table, "s4d");
  ASSERT_NE(rmt_row, nullptr);
  ASSERT_NE(s4d_row, nullptr);
  // Not "full": the attention inside a segment is not what the row is.
  EXPECT_EQ(rmt_row->attention, "rmt");
  EXPECT_NE(rmt_row->attention_config.find("memory_slots"), std::string::npos)
      << rmt_row->attention_config;
  EXPECT_EQ(s4d_row->attention, "s4d");
}

TEST(AccuracyTableTest, GroupByMachineSplitsRows) {
  FakeRunSpec a = Spec("listops", "transformer", 0.30);
  a.machine = "alpha (CPU A, 2 cores)";
  FakeRunSpec b = a;
  b.machine = "beta (CPU B, 64 cores)";
  b.test_accuracy = 0.34;
  std::vector<RunRecord> runs = {Done(a, "transformer.s1"),
                                 Done(b, "transformer.s2")};
  AccuracyTable merged = BuildAccuracyTable(runs, {});
  ASSERT_EQ(merged.rows.size(), 1u);
  EXPECT_EQ(merged.rows[0].cells[0].values.size(), 2u);

  AccuracyOptions options;
  options.group_by_machine = true;
  AccuracyTable split = BuildAccuracyTable(runs, options);
  ASSERT_EQ(split.rows.size(), 2u);
  EXPECT_EQ(split.rows[0].name, "transformer @ beta");
  EXPECT_EQ(split.rows[0].machine, "beta (CPU B, 64 cores)");
  EXPECT_EQ(split.rows[1].name, "transformer @ alpha");
  EXPECT_TRUE(split.rows[0].cells[0].best);
}

TEST(AccuracyTableTest, CurvesAreMeansOverSeeds) {
  FakeRunSpec s1 = Spec("listops", "transformer", 0.30);
  FakeRunSpec s2 = s1;
  s2.seed = 2;
  std::vector<RunRecord> runs = {Done(s1, "transformer.s1"),
                                 Done(s2, "transformer.s2")};
  AccuracyTable table = BuildAccuracyTable(runs, {});
  const Curve& curve = table.rows[0].curves[0];
  ASSERT_EQ(curve.size(), 10u);
  double expected = 50.0 * (runs[0].result.eval(0).val_accuracy() +
                            runs[1].result.eval(0).val_accuracy());
  EXPECT_EQ(curve[0].first, runs[0].result.eval(0).step());
  EXPECT_NEAR(curve[0].second, expected, 1e-4);
}

EfficiencyTable DemoSweep() {
  SweepRecord record;
  record.path = "bench/sweep.pbtxt";
  record.sweep = FakeSweep({
      {"local", 2048, 100, 200, ""},
      {"local", 1024, 50, 100, ""},
      {"local", 4096, 200, 400, ""},
      {"full", 1024, 100, 200, ""},
      {"full", 2048, 400, 800, ""},
      {"full", 4096, 0, 0, "killed by signal 9 (out of memory?)"},
      {"performer", 1024, 0, 0, "skipped: over the 2 s step budget at 512"},
  });
  return BuildEfficiencyTable(record);
}

TEST(EfficiencyTableTest, RelativeToFullAtTheSameLength) {
  EfficiencyTable table = DemoSweep();
  ASSERT_EQ(table.lengths, (std::vector<int>{1024, 2048, 4096}));
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_TRUE(table.has_baseline);
  EXPECT_EQ(table.rows[0].variant, "full");  // The baseline first.
  EXPECT_EQ(table.rows[1].variant, "local");
  const EfficiencyCell& local_1k = table.rows[1].cells[0];
  EXPECT_TRUE(local_1k.measured);
  EXPECT_NEAR(local_1k.steps_per_second, 20.0, 1e-9);
  EXPECT_NEAR(local_1k.relative_speed, 2.0, 1e-9);
  EXPECT_NEAR(local_1k.relative_memory, 0.5, 1e-9);
  EXPECT_NEAR(local_1k.memory_gb, 100.0 / 1024, 1e-12);
  EXPECT_NEAR(table.rows[1].cells[1].relative_speed, 4.0, 1e-9);
  // Full ran out of memory at 4K: the cell shows it, and local's ratio there
  // is unknown rather than invented.
  const EfficiencyCell& full_4k = table.rows[0].cells[2];
  EXPECT_FALSE(full_4k.measured);
  EXPECT_EQ(full_4k.short_error, "OOM");
  EXPECT_TRUE(std::isnan(table.rows[1].cells[2].relative_speed));
  EXPECT_TRUE(table.rows[1].cells[2].measured);
  // Performer was never measured; it stays in the table.
  EXPECT_EQ(table.rows[2].cells[0].short_error, "> budget");
  EXPECT_TRUE(table.rows[2].cells[1].empty());
}

TEST(EfficiencyTableTest, ShortErrors) {
  EXPECT_EQ(ShortBenchError(""), "");
  EXPECT_EQ(ShortBenchError("killed by signal 9 (out of memory?)"), "OOM");
  EXPECT_EQ(ShortBenchError("std::bad_alloc"), "OOM");
  EXPECT_EQ(ShortBenchError("skipped: failed at 4096"), "skipped");
  EXPECT_EQ(ShortBenchError("skipped: over the 30 s step budget at 8192"),
            "> budget");
  EXPECT_EQ(ShortBenchError("unreadable answer: x"), "failed");
}

TEST(EfficiencyTableTest, Table2Columns) {
  EXPECT_EQ(LraTable2Column(1024), 0);
  EXPECT_EQ(LraTable2Column(1000), 0);
  EXPECT_EQ(LraTable2Column(3072), 2);
  EXPECT_EQ(LraTable2Column(4000), 3);
  EXPECT_EQ(LraTable2Column(8192), -1);
  EXPECT_EQ(FormatLength(1024), "1K");
  EXPECT_EQ(FormatLength(16384), "16K");
  EXPECT_EQ(FormatLength(3000), "3K");
  EXPECT_EQ(FormatLength(1536), "1.5K");
  EXPECT_EQ(FormatLength(512), "512");
}

TEST(BubbleChartTest, OneBubblePerMeasuredRowOnCommonTasks) {
  std::vector<RunRecord> runs = {Done(Spec("listops", "transformer", 0.30)),
                                 Done(Spec("recall", "transformer", 0.90)),
                                 Done(Spec("listops", "local", 0.20)),
                                 Done(Spec("listops", "performer", 0.25)),
                                 Done(Spec("listops", "linformer", 0.25))};
  AccuracyTable accuracy = BuildAccuracyTable(runs, {});
  EfficiencyTable efficiency = DemoSweep();
  BubbleChart chart = BuildBubbleChart(accuracy, efficiency);
  // Full was not measured at 4K, so the longest length it has: 2K.
  EXPECT_EQ(chart.length, 2048);
  EXPECT_TRUE(chart.relative);
  ASSERT_EQ(chart.bubbles.size(), 2u);
  // Only listops is common to both bubbles; recall does not count.
  EXPECT_EQ(chart.tasks, (std::vector<std::string>{"listops"}));
  for (const Bubble& bubble : chart.bubbles) {
    if (bubble.label == "transformer") {
      EXPECT_NEAR(bubble.accuracy, 30.0, 1e-4);
      EXPECT_NEAR(bubble.speed, 1.0, 1e-9);
      EXPECT_NEAR(bubble.memory_gb, 800.0 / 1024, 1e-9);
    } else {
      EXPECT_EQ(bubble.label, "local");
      EXPECT_NEAR(bubble.speed, 4.0, 1e-9);
    }
  }
  // Performer is in the sweep but not measured at 2K; linformer is not in
  // the sweep: both are named in the notes, not silently dropped.
  ASSERT_EQ(chart.notes.size(), 2u);
}

TEST(FormatTest, ErrorTailKeepsTheEnd) {
  EXPECT_EQ(ErrorTail("short"), "short");
  std::string tail = ErrorTail(std::string(100, 'x') + "\nthe end", 10);
  EXPECT_EQ(tail, "…xx the end");
  EXPECT_EQ(FormatSignificant(10.87), "10.9");
  EXPECT_EQ(FormatSignificant(8), "8.00");
  EXPECT_EQ(FormatSignificant(0.031234), "0.0312");
  EXPECT_EQ(FormatSignificant(1234.4), "1234");
  EXPECT_EQ(FormatWallTime(0), "");
  EXPECT_EQ(FormatWallTime(12.34), "12.3 s");
  EXPECT_EQ(FormatWallTime(245), "4m 05s");
  EXPECT_EQ(FormatWallTime(7980), "2h 13m");
}

}  // namespace
}  // namespace lra
