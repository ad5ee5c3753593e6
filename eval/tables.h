// The numbers behind every leaderboard format: the accuracy table (rows =
// models, columns = tasks), the efficiency tables of bench sweeps, and the
// data of the speed-accuracy-memory chart. Rendering lives elsewhere
// (format.h for Markdown and CSV, html_report.h for HTML).
#ifndef EVAL_TABLES_H_
#define EVAL_TABLES_H_

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "eval/results.h"
#include "proto/result.pb.h"

namespace lra {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// Runs of one model on one task whose configs differ only in the seed (and
// the recipe's name): test accuracy as mean +- sample std over the finished
// runs, with the failed and unfinished ones counted beside it.
struct AccuracyCell {
  std::vector<double> values;  // Test accuracy in percent, one per run.
  double mean = kNoValue;
  double std = kNoValue;  // Sample standard deviation; NaN for one run.
  int failed = 0;
  int unfinished = 0;
  std::string error;  // The first failed run's error, whole.
  std::vector<std::string> run_ids;
  bool best = false;

  bool has_value() const { return !values.empty(); }
  bool empty() const { return run_ids.empty(); }
};

struct AccuracyColumn {
  std::string label;  // The task label (result folder name).
  // Index into LraTaskNames() when the paper's numbers may stand beside this
  // column (see WhyNotLraComparable), else -1.
  int lra_index = -1;
  // For a label that names an LRA task but is not LRA's configuration: why.
  std::string not_comparable;
};

// One learning curve: mean validation accuracy (percent) per step over the
// runs of a cell.
using Curve = std::vector<std::pair<int, double>>;

struct AccuracyRow {
  std::string name;  // Model name, plus a qualifier where one is needed.
  std::string model;
  std::string attention;  // The attention variant (registry name).
  // The attention configuration, named by what differs from the variant's
  // defaults: "sparse_transformer (mode=strided)" (AttentionConfigLabel).
  std::string attention_config;
  std::string machine;              // Set when grouping by machine.
  std::vector<AccuracyCell> cells;  // One per column.
  std::vector<Curve> curves;        // One per column (empty when none).
  // Mean over the columns this row has a value in.
  double average = kNoValue;
  int average_tasks = 0;
  bool best_average = false;
  // Mean over LRA's five tasks; only when the table has all five columns
  // and this row has a value in each.
  double lra_average = kNoValue;
  bool best_lra_average = false;
};

// A row of the paper's Table 1, placed in our columns. Never part of our
// averages or best marks.
struct ReferenceAccuracyRow {
  std::string name;
  // Our attention variant (registry name) this paper row belongs beside
  // (LraPaperVariants()), or "" when we have no such variant.
  std::string variant;
  std::vector<double> cells;  // NaN where a column is not comparable.
  double average = kNoValue;  // Only when every column is comparable.
  double lra_average = kNoValue;
};

struct AccuracyTable {
  std::vector<AccuracyColumn> columns;
  std::vector<AccuracyRow> rows;
  std::vector<ReferenceAccuracyRow> reference_rows;
  bool has_lra_average = false;    // All five LRA columns are present.
  std::vector<std::string> notes;  // Footnotes: qualifiers, comparability.
};

struct AccuracyOptions {
  bool group_by_machine = false;
};

// Builds the accuracy table. Runs group into one cell when their task label,
// model name (and machine, when grouping by it) agree and their configs
// differ only in train.seed, train.name, train.threads and train.log_every.
// When one model has several such groups on a task, the extra groups become
// rows of their own, named by their suite or by the first fields that
// differ. Rows are sorted by LRA average, then average, best first.
AccuracyTable BuildAccuracyTable(const std::vector<RunRecord>& runs,
                                 const AccuracyOptions& options);

// One measured (or failed) point of a sweep.
struct EfficiencyCell {
  bool measured = false;
  double step_ms = kNoValue;
  double steps_per_second = kNoValue;
  double memory_gb = kNoValue;  // Peak resident memory, GiB.
  // Relative to the baseline variant at the same length (NaN when either
  // is missing).
  double relative_speed = kNoValue;
  double relative_memory = kNoValue;
  std::string error;        // BenchPoint.error, whole.
  std::string short_error;  // "OOM", "> budget", "skipped" or "failed".

  bool empty() const { return !measured && error.empty(); }
};

struct EfficiencyRow {
  std::string variant;  // Registry name (colours and markers follow it).
  // Name and parameters: "sparse_transformer (mode=strided)". Rows are one
  // per configuration, and runs are matched to rows by it.
  std::string label;
  std::vector<EfficiencyCell> cells;  // One per length.
  // A configuration trained in the results folder that this sweep did not
  // measure: every cell says "not measured" (nothing is borrowed).
  bool not_measured = false;
};

// One sweep in the layout of LRA's Table 2.
struct EfficiencyTable {
  std::string path;
  std::string machine;
  std::string git_revision;
  int threads = 0;
  int batch = 0;
  ModelConfig model;
  std::vector<int> lengths;         // Ascending.
  std::vector<EfficiencyRow> rows;  // The baseline first.
  std::string baseline = "full";
  bool has_baseline = false;
};

// Names a plugin configuration by what differs from its defaults: the name,
// then the parameters as a config gives them, sorted by name:
// "sparse_transformer (mode=strided)", or just "full". Two configurations
// with the same label are the same; a parameter written with its default
// value counts as different (nothing is borrowed on a guess).
std::string AttentionConfigLabel(
    const std::string& name,
    const google::protobuf::RepeatedPtrField<PluginParam>& params);
std::string AttentionConfigLabel(const PluginConfig& config);

// "OOM", "> budget", "skipped" or "failed" for a BenchPoint error.
std::string ShortBenchError(const std::string& error);

EfficiencyTable BuildEfficiencyTable(const SweepRecord& sweep);

// Appends a "not measured" row for each attention configuration of the
// accuracy table that `efficiency` has no row for.
void AddUnmeasuredRows(const AccuracyTable& accuracy,
                       EfficiencyTable* efficiency);

// The order in which a table shows our rows and the paper's: our rows in
// order, each paper row right after the first of our rows of its variant
// (matched by name, LraPaperVariants(): linformer's best row is followed by
// "LRA paper: Linformer"), and the paper rows no row of ours matches after
// all of ours, in the paper's order.
struct TableSlot {
  bool paper = false;  // A paper row (else one of ours).
  int index = 0;       // Into rows, or into the paper's rows.
};
// Over table.rows and table.reference_rows.
std::vector<TableSlot> AccuracyDisplayOrder(const AccuracyTable& table);
// Over table.rows and LraTable2(); without `with_paper`, ours only.
std::vector<TableSlot> EfficiencyDisplayOrder(const EfficiencyTable& table,
                                              bool with_paper);

// Where a length sits among LRA Table 2's columns (1K..4K): 1024 and 1000
// are both "1K". Returns -1 for other lengths.
int LraTable2Column(int length);

// The speed-accuracy-memory chart (LRA's Figure 3): one bubble per accuracy
// row whose attention configuration (name and parameters) was measured by
// the sweep. A row whose configuration the sweep did not measure gets no
// bubble and a note saying "not measured", never another configuration's
// figures.
struct Bubble {
  std::string label;  // The row's name.
  std::string variant;
  std::string config;       // The measured attention configuration's label.
  double speed = kNoValue;  // Relative to the baseline, or absolute steps/s.
  double accuracy = kNoValue;
  double memory_gb = kNoValue;
};

struct BubbleChart {
  int length = 0;         // The sweep length the bubbles are measured at.
  bool relative = false;  // Speed relative to the baseline (else steps/s).
  std::vector<std::string> tasks;  // Columns the accuracy averages over.
  bool same_tasks = true;          // Every bubble averages over `tasks`.
  std::vector<Bubble> bubbles;
  std::vector<std::string> notes;  // Rows left out, and why.
};

// Picks the length (4096 when the baseline has it, else the longest length
// the baseline was measured at) and averages each row's accuracy over the
// columns every bubble row has.
BubbleChart BuildBubbleChart(const AccuracyTable& accuracy,
                             const EfficiencyTable& efficiency);

// Everything one leaderboard shows.
struct Report {
  std::string results_dir;
  AccuracyTable accuracy;
  std::vector<EfficiencyTable> efficiency;
  std::vector<RunRecord> runs;
  int done = 0;
  int failed = 0;
  int unfinished = 0;
};

Report BuildReport(const std::string& results_dir, const ResultSet& results,
                   const AccuracyOptions& options);

// Formatting shared by the renderers.
std::string FormatPercent(double value);  // "36.37", or "" for NaN.
// "36.37 ± 0.52" (the ± part only for several runs).
std::string FormatMeanStd(const AccuracyCell& cell);
// The last `max_chars` characters of an error, on one line, with "…" in
// front when cut.
std::string ErrorTail(const std::string& error, size_t max_chars = 60);
// `value` with `digits` significant digits and no exponent: 10.9, 8.00,
// 0.0312, 1234; "" for NaN. For speeds and memory, which span decades.
std::string FormatSignificant(double value, int digits = 3);
// "12.3 s", "4m 05s", "2h 13m"; "" for zero.
std::string FormatWallTime(double seconds);
// "1K", "2K", "1.5K", "16K", or the number itself below 1000.
std::string FormatLength(int length);

}  // namespace lra

#endif  // EVAL_TABLES_H_
