#include "eval/tables.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "eval/lra_reference.h"

namespace lra {
namespace {

// Two doubles equal up to rounding, for ties in best marks.
bool SameValue(double a, double b) { return std::fabs(a - b) < 1e-9; }

double Mean(const std::vector<double>& values) {
  if (values.empty()) return kNoValue;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / values.size();
}

double SampleStd(const std::vector<double>& values) {
  if (values.size() < 2) return kNoValue;
  double mean = Mean(values);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / (values.size() - 1));
}

// The config without the fields that only choose a seed, name a recipe or
// set the thread count, so that seeds of one recipe group together.
RunConfig WithoutSeed(const RunConfig& config) {
  RunConfig copy = config;
  copy.mutable_train()->clear_seed();
  copy.mutable_train()->clear_name();
  copy.mutable_train()->clear_threads();
  copy.mutable_train()->clear_log_every();
  return copy;
}

std::string GroupingFingerprint(const RunConfig& config) {
  return WithoutSeed(config).SerializeAsString();
}

// Runs of one cell that share a grouping fingerprint.
struct Group {
  std::vector<const RunRecord*> runs;
  int done = 0;
  std::set<std::string> suites;
  const RunConfig* config = nullptr;  // Of the first run with a config.
  std::string qualifier;              // "" for the cell's primary group.
};

bool HasConfig(const RunRecord& run) { return run.result.has_config(); }

// The display name of a machine: its host name, without the CPU.
std::string ShortMachine(const std::string& machine) {
  if (machine.empty()) return "unknown machine";
  size_t paren = machine.find(" (");
  return paren == std::string::npos ? machine : machine.substr(0, paren);
}

// The order of task columns: LRA's tasks in the paper's order, each followed
// by the labels that extend it ("listops-short"), then the rest by name.
std::tuple<int, std::string> ColumnOrder(const std::string& label) {
  const std::vector<std::string>& names = LraTaskNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (absl::StartsWith(label, names[i])) return {static_cast<int>(i), label};
  }
  return {static_cast<int>(names.size()), label};
}

Curve MeanCurve(const std::vector<const RunRecord*>& runs) {
  // Prefer finished runs; fall back to whatever has points.
  std::vector<const RunRecord*> sources;
  for (const RunRecord* run : runs) {
    if (run->state == RunState::kDone && run->result.eval_size() > 0)
      sources.push_back(run);
  }
  if (sources.empty()) {
    for (const RunRecord* run : runs) {
      if (run->result.eval_size() > 0) sources.push_back(run);
    }
  }
  std::map<int, std::vector<double>> by_step;
  for (const RunRecord* run : sources) {
    for (const EvalPoint& point : run->result.eval()) {
      by_step[point.step()].push_back(100.0 * point.val_accuracy());
    }
  }
  Curve curve;
  for (const auto& [step, values] : by_step) {
    // Only steps every run reached, so the mean does not jump where one
    // seed's curve ends.
    if (values.size() == sources.size()) curve.push_back({step, Mean(values)});
  }
  return curve;
}

void FillCell(const std::vector<const RunRecord*>& runs, AccuracyCell* cell) {
  for (const RunRecord* run : runs) {
    cell->run_ids.push_back(run->Id());
    switch (run->state) {
      case RunState::kDone:
        cell->values.push_back(100.0 * run->result.test_accuracy());
        break;
      case RunState::kFailed:
        if (cell->failed++ == 0) cell->error = run->error;
        break;
      case RunState::kUnfinished:
        ++cell->unfinished;
        break;
    }
  }
  cell->mean = Mean(cell->values);
  cell->std = SampleStd(cell->values);
}

// Marks the largest value(s) among at least two candidates.
template <typename Get, typename Mark>
void MarkBest(std::vector<AccuracyRow>* rows, Get get, Mark mark) {
  double best = -1;
  int candidates = 0;
  for (AccuracyRow& row : *rows) {
    double value = get(row);
    if (std::isnan(value)) continue;
    ++candidates;
    best = std::max(best, value);
  }
  if (candidates < 2) return;
  for (AccuracyRow& row : *rows) {
    double value = get(row);
    if (!std::isnan(value) && SameValue(value, best)) mark(row);
  }
}

}  // namespace

std::string FormatPercent(double value) {
  if (std::isnan(value)) return "";
  return absl::StrFormat("%.2f", value);
}

std::string FormatMeanStd(const AccuracyCell& cell) {
  if (!cell.has_value()) return "";
  if (std::isnan(cell.std)) return FormatPercent(cell.mean);
  return absl::StrCat(FormatPercent(cell.mean), " ± ", FormatPercent(cell.std));
}

std::string ErrorTail(const std::string& error, size_t max_chars) {
  std::string flat = absl::StrReplaceAll(error, {{"\r", " "}, {"\n", " "}});
  flat = std::string(absl::StripAsciiWhitespace(flat));
  if (flat.size() <= max_chars) return flat;
  size_t start = flat.size() - max_chars;
  // Do not cut a UTF-8 sequence in half.
  while (start < flat.size() && (flat[start] & 0xC0) == 0x80) ++start;
  return absl::StrCat("…", flat.substr(start));
}

std::string FormatSignificant(double value, int digits) {
  if (std::isnan(value)) return "";
  if (value == 0) return "0";
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  int decimals = std::max(0, digits - 1 - magnitude);
  return absl::StrFormat("%.*f", decimals, value);
}

std::string FormatWallTime(double seconds) {
  if (!(seconds > 0)) return "";
  if (seconds < 60) return absl::StrFormat("%.1f s", seconds);
  int total = static_cast<int>(std::lround(seconds));
  if (total < 3600) return absl::StrFormat("%dm %02ds", total / 60, total % 60);
  return absl::StrFormat("%dh %02dm", total / 3600, (total % 3600) / 60);
}

std::string FormatLength(int length) {
  if (length >= 1024 && length % 1024 == 0) {
    return absl::StrCat(length / 1024, "K");
  }
  if (length >= 1000 && length % 1000 == 0) {
    return absl::StrCat(length / 1000, "K");
  }
  if (length >= 1000) return absl::StrFormat("%.1fK", length / 1000.0);
  return absl::StrCat(length);
}

namespace {

// The steps of BuildAccuracyTable, in the order it takes them.

// Runs of one task label, in the order given.
using RunsByLabel = std::map<std::string, std::vector<const RunRecord*>>;

// Why column `label` (an LRA task name) may not stand beside the paper's
// numbers, checked against the configs of its runs; "" when it may.
std::string WhyNotComparable(const std::string& label,
                             const std::vector<const RunRecord*>& runs) {
  bool checked = false;
  for (const RunRecord* run : runs) {
    if (!HasConfig(*run)) continue;
    checked = true;
    std::string why = WhyNotLraComparable(label, run->result.config().task());
    if (!why.empty()) return why;
  }
  return checked ? "" : "no run with a config to check it against LRA's";
}

// Step 1, columns: one per task label, in paper order, each with its
// comparability to LRA (a note says why where it is not comparable).
// Returns each label's column index.
std::map<std::string, int> AddColumns(const std::vector<RunRecord>& runs,
                                      AccuracyTable* table) {
  RunsByLabel by_label;
  for (const RunRecord& run : runs) by_label[run.task_label].push_back(&run);
  std::vector<std::string> labels;
  for (const auto& entry : by_label) labels.push_back(entry.first);
  std::sort(labels.begin(), labels.end(),
            [](const std::string& a, const std::string& b) {
              return ColumnOrder(a) < ColumnOrder(b);
            });
  std::map<std::string, int> column_index;
  const std::vector<std::string>& lra_names = LraTaskNames();
  for (const std::string& label : labels) {
    AccuracyColumn column;
    column.label = label;
    auto lra = std::find(lra_names.begin(), lra_names.end(), label);
    if (lra != lra_names.end()) {
      const std::string why = WhyNotComparable(label, by_label[label]);
      if (why.empty()) {
        column.lra_index = static_cast<int>(lra - lra_names.begin());
      } else {
        column.not_comparable = why;
        table->notes.push_back(
            absl::StrCat("Column ", label,
                         " is not compared with the LRA paper: ", why, "."));
      }
    }
    column_index[label] = static_cast<int>(table->columns.size());
    table->columns.push_back(column);
  }
  return column_index;
}

// (task label, model name, machine or "") -> grouping fingerprint -> runs.
using CellKey = std::tuple<std::string, std::string, std::string>;
using Cells = std::map<CellKey, std::map<std::string, Group>>;

void AddRun(const RunRecord* run, Group* group) {
  group->runs.push_back(run);
  group->suites.insert(run->suite);
}

// An interrupted run left no config: it joins the largest group of its model
// and task (on any machine; the primary group is chosen later), or starts a
// cell of its own.
void AddConfiglessRun(const RunRecord* run, Cells* cells) {
  auto it = std::find_if(cells->begin(), cells->end(), [&](const auto& entry) {
    return std::get<0>(entry.first) == run->task_label &&
           std::get<1>(entry.first) == run->ModelName();
  });
  if (it == cells->end()) {
    AddRun(run, &(*cells)[{run->task_label, run->ModelName(), ""}][""]);
    return;
  }
  Group* largest = nullptr;
  for (auto& [fingerprint, group] : it->second) {
    if (largest == nullptr || group.runs.size() > largest->runs.size())
      largest = &group;
  }
  AddRun(run, largest);
}

// Step 2, cells: runs grouped by task, model (and machine) and by their
// config up to the seed.
Cells GroupRunsIntoCells(const std::vector<RunRecord>& runs,
                         const AccuracyOptions& options) {
  Cells cells;
  std::vector<const RunRecord*> configless;
  for (const RunRecord& run : runs) {
    if (!HasConfig(run)) {
      configless.push_back(&run);
      continue;
    }
    std::string machine =
        options.group_by_machine ? run.result.machine() : std::string();
    Group& group = cells[{run.task_label, run.ModelName(), machine}]
                        [GroupingFingerprint(run.result.config())];
    AddRun(&run, &group);
    if (run.state == RunState::kDone) ++group.done;
    if (group.config == nullptr) group.config = &run.result.config();
  }
  for (const RunRecord* run : configless) AddConfiglessRun(run, &cells);
  return cells;
}

// The primary group of a cell has the most finished runs (then the most
// runs, then the first run folder by name).
const Group* PrimaryGroup(const std::map<std::string, Group>& groups) {
  const Group* primary = nullptr;
  auto rank = [](const Group& group) {
    return std::make_tuple(group.done, group.runs.size());
  };
  for (const auto& [fingerprint, group] : groups) {
    if (primary == nullptr || rank(group) > rank(*primary) ||
        (rank(group) == rank(*primary) &&
         group.runs[0]->Id() < primary->runs[0]->Id())) {
      primary = &group;
    }
  }
  return primary;
}

// What sets `group` apart from the cell's primary group: its suites when
// they share none, else the first fields of the config that differ.
std::string Qualifier(const Group& group, const Group& primary) {
  bool disjoint_suites = true;
  for (const std::string& suite : group.suites) {
    if (primary.suites.count(suite) > 0) disjoint_suites = false;
  }
  std::string qualifier;
  if (disjoint_suites) {
    qualifier = absl::StrJoin(group.suites, ", ");
  } else if (group.config != nullptr && primary.config != nullptr) {
    std::vector<std::string> differences = ConfigDifferences(
        WithoutSeed(*primary.config), WithoutSeed(*group.config));
    if (differences.size() > 2) {
      differences.resize(2);
      differences.push_back("…");
    }
    qualifier = absl::StrJoin(differences, ", ");
  }
  return qualifier.empty() ? "other config" : qualifier;
}

// Step 3, qualifiers: every group but the primary one of each cell is
// qualified by what sets it apart, with a note saying so.
void QualifyGroups(Cells* cells, std::set<std::string>* notes) {
  for (auto& [key, groups] : *cells) {
    const auto& [label, model, machine] = key;
    const Group* primary = PrimaryGroup(groups);
    for (auto& [fingerprint, group] : groups) {
      if (&group == primary) continue;
      group.qualifier = Qualifier(group, *primary);
      notes->insert(absl::StrCat(model, " on ", label,
                                 ": runs with another config than the main "
                                 "group are shown as row \"",
                                 model, " (", group.qualifier, ")\"."));
    }
  }
}

// (row name, machine) -> row.
using Rows = std::map<std::pair<std::string, std::string>, AccuracyRow>;

// Step 4, rows: each group fills its cell and curve in the row of its model
// (qualified where it is not the primary group) and machine.
Rows FillRows(const Cells& cells, const std::map<std::string, int>& columns) {
  const int num_columns = static_cast<int>(columns.size());
  Rows rows;
  for (const auto& [key, groups] : cells) {
    const auto& [label, model, machine] = key;
    for (const auto& [fingerprint, group] : groups) {
      std::string name = model;
      if (!group.qualifier.empty()) {
        absl::StrAppend(&name, " (", group.qualifier, ")");
      }
      AccuracyRow& row = rows[{name, machine}];
      if (row.cells.empty()) {
        row.name = name;
        row.model = model;
        row.machine = machine;
        row.cells.resize(num_columns);
        row.curves.resize(num_columns);
      }
      if (row.attention.empty() && group.config != nullptr) {
        const ModelConfig& m = group.config->model();
        // A model is named by what sets it apart: its sequence handler
        // (rmt, transformer_xl, ...) if it has one, else its token mixer if
        // that is not attention, else its attention.
        const PluginConfig& kind = !m.sequence().name().empty() ? m.sequence()
                                   : !m.mixer().name().empty()  ? m.mixer()
                                                                : m.attention();
        row.attention = kind.name().empty() ? "full" : kind.name();
        row.attention_config =
            AttentionConfigLabel(row.attention, kind.param());
      }
      const int column = columns.at(label);
      FillCell(group.runs, &row.cells[column]);
      row.curves[column] = MeanCurve(group.runs);
    }
  }
  return rows;
}

// Whether every one of LRA's five tasks has a comparable column.
bool HasEveryLraColumn(const std::vector<AccuracyColumn>& columns) {
  for (size_t t = 0; t < LraTaskNames().size(); ++t) {
    bool present = false;
    for (const AccuracyColumn& column : columns) {
      if (column.lra_index == static_cast<int>(t)) present = true;
    }
    if (!present) return false;
  }
  return true;
}

// Step 5, averages and order: each row's average over its tasks (and over
// LRA's five, where the table has them all), named by machine when grouping
// by it; rows sorted by LRA average, then average, best first.
void AddRowsWithAverages(Rows rows, const AccuracyOptions& options,
                         AccuracyTable* table) {
  table->has_lra_average = HasEveryLraColumn(table->columns);
  const int num_columns = static_cast<int>(table->columns.size());
  for (auto& [key, row] : rows) {
    std::vector<double> means, lra_means;
    for (int c = 0; c < num_columns; ++c) {
      if (!row.cells[c].has_value()) continue;
      means.push_back(row.cells[c].mean);
      if (table->columns[c].lra_index >= 0) {
        lra_means.push_back(row.cells[c].mean);
      }
    }
    row.average = Mean(means);
    row.average_tasks = static_cast<int>(means.size());
    if (table->has_lra_average && lra_means.size() == LraTaskNames().size()) {
      row.lra_average = Mean(lra_means);
    }
    if (options.group_by_machine) {
      row.name = absl::StrCat(row.name, " @ ", ShortMachine(row.machine));
    }
    table->rows.push_back(std::move(row));
  }
  std::sort(table->rows.begin(), table->rows.end(),
            [](const AccuracyRow& a, const AccuracyRow& b) {
              auto key = [](const AccuracyRow& row) {
                return std::make_tuple(
                    std::isnan(row.lra_average) ? -1.0 : row.lra_average,
                    std::isnan(row.average) ? -1.0 : row.average);
              };
              if (key(a) != key(b)) return key(a) > key(b);
              return a.name < b.name;
            });
}

// Step 6, best marks: our rows only, and only where there is a choice.
void MarkBestRows(AccuracyTable* table) {
  const int num_columns = static_cast<int>(table->columns.size());
  for (int c = 0; c < num_columns; ++c) {
    MarkBest(
        &table->rows, [c](const AccuracyRow& row) { return row.cells[c].mean; },
        [c](AccuracyRow& row) { row.cells[c].best = true; });
  }
  MarkBest(
      &table->rows,
      [num_columns](const AccuracyRow& row) {
        return row.average_tasks == num_columns ? row.average : kNoValue;
      },
      [](AccuracyRow& row) { row.best_average = true; });
  MarkBest(
      &table->rows, [](const AccuracyRow& row) { return row.lra_average; },
      [](AccuracyRow& row) { row.best_lra_average = true; });
}

// Step 7, the paper's rows, placed in the comparable columns (none when no
// column is comparable).
void AddReferenceRows(AccuracyTable* table) {
  bool any_comparable = false;
  bool all_comparable = !table->columns.empty();
  for (const AccuracyColumn& column : table->columns) {
    if (column.lra_index >= 0) {
      any_comparable = true;
    } else {
      all_comparable = false;
    }
  }
  if (!any_comparable) return;
  for (const LraAccuracyRow& paper : LraTable1()) {
    ReferenceAccuracyRow row;
    row.name = paper.model;
    for (const auto& [variant, model] : LraPaperVariants()) {
      if (model == paper.model) row.variant = variant;
    }
    std::vector<double> present;
    for (const AccuracyColumn& column : table->columns) {
      double value =
          column.lra_index >= 0 ? paper.accuracy[column.lra_index] : kNoValue;
      row.cells.push_back(value);
      if (!std::isnan(value)) present.push_back(value);
    }
    if (all_comparable) row.average = Mean(present);
    if (table->has_lra_average) row.lra_average = paper.average;
    table->reference_rows.push_back(std::move(row));
  }
}

}  // namespace

AccuracyTable BuildAccuracyTable(const std::vector<RunRecord>& runs,
                                 const AccuracyOptions& options) {
  AccuracyTable table;
  const std::map<std::string, int> columns = AddColumns(runs, &table);
  Cells cells = GroupRunsIntoCells(runs, options);
  std::set<std::string> qualifier_notes;
  QualifyGroups(&cells, &qualifier_notes);
  table.notes.insert(table.notes.end(), qualifier_notes.begin(),
                     qualifier_notes.end());
  AddRowsWithAverages(FillRows(cells, columns), options, &table);
  MarkBestRows(&table);
  AddReferenceRows(&table);
  return table;
}

std::string ShortBenchError(const std::string& error) {
  if (error.empty()) return "";
  if (absl::StartsWith(error, "skipped")) {
    return absl::StrContains(error, "budget") ? "> budget" : "skipped";
  }
  if (absl::StrContains(error, "out of memory") ||
      absl::StrContains(error, "signal 9") ||
      absl::StrContains(error, "bad_alloc")) {
    return "OOM";
  }
  if (absl::StrContains(error, "budget") || absl::StrContains(error, "time")) {
    return "> budget";
  }
  return "failed";
}

std::string AttentionConfigLabel(
    const std::string& name,
    const google::protobuf::RepeatedPtrField<PluginParam>& params) {
  std::vector<std::string> parts;
  for (const PluginParam& param : params) {
    std::string value;
    switch (param.value_case()) {
      case PluginParam::kNumber:
        value = absl::StrCat(param.number());
        break;
      case PluginParam::kText:
        value = param.text();
        break;
      case PluginParam::kFlag:
        value = param.flag() ? "true" : "false";
        break;
      case PluginParam::VALUE_NOT_SET:
        value = "?";
        break;
    }
    parts.push_back(absl::StrCat(param.name(), "=", value));
  }
  if (parts.empty()) return name;
  std::sort(parts.begin(), parts.end());
  return absl::StrCat(name, " (", absl::StrJoin(parts, ", "), ")");
}

std::string AttentionConfigLabel(const PluginConfig& config) {
  return AttentionConfigLabel(config.name().empty() ? "full" : config.name(),
                              config.param());
}

int LraTable2Column(int length) {
  for (int i = 1; i <= 4; ++i) {
    if (length == 1000 * i || length == 1024 * i) return i - 1;
  }
  return -1;
}

EfficiencyTable BuildEfficiencyTable(const SweepRecord& record) {
  const BenchSweep& sweep = record.sweep;
  EfficiencyTable table;
  table.path = record.path;
  table.machine = sweep.machine();
  table.git_revision = sweep.git_revision();
  table.threads = sweep.threads();
  table.model = sweep.model();
  std::set<int> lengths;
  // One row per configuration (name and parameters), in the sweep's order.
  std::vector<std::pair<std::string, std::string>> configs;  // label, name
  auto label_of = [](const BenchPoint& point) {
    // The bench's own name when it wrote one (a handler's row names what
    // runs inside it: "rmt (full)"); older sweeps have only the variant.
    if (!point.label().empty()) return point.label();
    return AttentionConfigLabel(point.variant(), point.attention_param());
  };
  for (const BenchPoint& point : sweep.point()) {
    lengths.insert(point.seq_len());
    const std::string label = label_of(point);
    if (std::find_if(configs.begin(), configs.end(), [&](const auto& c) {
          return c.first == label;
        }) == configs.end()) {
      configs.push_back({label, point.variant()});
    }
    if (table.batch == 0) table.batch = point.batch();
  }
  table.lengths.assign(lengths.begin(), lengths.end());
  // The baseline (full attention with its defaults) first, then the sweep's
  // (registry) order.
  auto baseline =
      std::find_if(configs.begin(), configs.end(),
                   [&](const auto& c) { return c.first == table.baseline; });
  table.has_baseline = baseline != configs.end();
  if (table.has_baseline) std::rotate(configs.begin(), baseline, baseline + 1);
  std::map<std::string, int> row_index;
  for (const auto& [label, variant] : configs) {
    row_index[label] = static_cast<int>(table.rows.size());
    EfficiencyRow row;
    row.variant = variant;
    row.label = label;
    row.cells.resize(table.lengths.size());
    table.rows.push_back(std::move(row));
  }
  for (const BenchPoint& point : sweep.point()) {
    int column = static_cast<int>(std::lower_bound(table.lengths.begin(),
                                                   table.lengths.end(),
                                                   point.seq_len()) -
                                  table.lengths.begin());
    EfficiencyCell& cell = table.rows[row_index[label_of(point)]].cells[column];
    cell = EfficiencyCell();
    if (point.error().empty() && point.step_ms() > 0) {
      cell.measured = true;
      cell.step_ms = point.step_ms();
      cell.steps_per_second = 1000.0 / point.step_ms();
      cell.memory_gb = point.peak_rss_mb() / 1024.0;
    } else {
      cell.error = point.error().empty() ? "no time recorded" : point.error();
      cell.short_error = ShortBenchError(cell.error);
    }
  }
  if (table.has_baseline) {
    const EfficiencyRow& base = table.rows[0];
    for (EfficiencyRow& row : table.rows) {
      for (size_t c = 0; c < table.lengths.size(); ++c) {
        EfficiencyCell& cell = row.cells[c];
        const EfficiencyCell& reference = base.cells[c];
        if (!cell.measured || !reference.measured) continue;
        cell.relative_speed =
            cell.steps_per_second / reference.steps_per_second;
        if (reference.memory_gb > 0) {
          cell.relative_memory = cell.memory_gb / reference.memory_gb;
        }
      }
    }
  }
  return table;
}

namespace {

// ours[i] and paper[j] are variant names ("" for none); see TableSlot.
std::vector<TableSlot> Interleave(const std::vector<std::string>& ours,
                                  const std::vector<std::string>& paper) {
  std::vector<TableSlot> order;
  std::vector<bool> placed(paper.size(), false);
  for (size_t i = 0; i < ours.size(); ++i) {
    order.push_back({false, static_cast<int>(i)});
    if (ours[i].empty()) continue;
    for (size_t j = 0; j < paper.size(); ++j) {
      if (!placed[j] && paper[j] == ours[i]) {
        order.push_back({true, static_cast<int>(j)});
        placed[j] = true;
      }
    }
  }
  for (size_t j = 0; j < paper.size(); ++j) {
    if (!placed[j]) order.push_back({true, static_cast<int>(j)});
  }
  return order;
}

}  // namespace

std::vector<TableSlot> AccuracyDisplayOrder(const AccuracyTable& table) {
  std::vector<std::string> ours, paper;
  for (const AccuracyRow& row : table.rows) ours.push_back(row.attention);
  for (const ReferenceAccuracyRow& row : table.reference_rows) {
    paper.push_back(row.variant);
  }
  return Interleave(ours, paper);
}

std::vector<TableSlot> EfficiencyDisplayOrder(const EfficiencyTable& table,
                                              bool with_paper) {
  std::vector<std::string> ours, paper;
  for (const EfficiencyRow& row : table.rows) ours.push_back(row.variant);
  if (with_paper) {
    for (const LraEfficiencyRow& row : LraTable2()) {
      std::string variant;
      for (const auto& [ours_name, model] : LraPaperVariants()) {
        if (model == row.model) variant = ours_name;
      }
      paper.push_back(variant);
    }
  }
  return Interleave(ours, paper);
}

void AddUnmeasuredRows(const AccuracyTable& accuracy,
                       EfficiencyTable* efficiency) {
  for (const AccuracyRow& run : accuracy.rows) {
    if (run.attention_config.empty()) continue;
    bool found = false;
    for (const EfficiencyRow& row : efficiency->rows) {
      if (row.label == run.attention_config) found = true;
    }
    if (found) continue;
    EfficiencyRow row;
    row.variant = run.attention;
    row.label = run.attention_config;
    row.not_measured = true;
    EfficiencyCell cell;
    cell.error =
        "not measured: this sweep did not measure this attention "
        "configuration";
    cell.short_error = "not measured";
    row.cells.assign(efficiency->lengths.size(), cell);
    efficiency->rows.push_back(std::move(row));
  }
}

BubbleChart BuildBubbleChart(const AccuracyTable& accuracy,
                             const EfficiencyTable& efficiency) {
  BubbleChart chart;
  if (efficiency.lengths.empty()) return chart;
  // The length: 4K as in LRA's Figure 3 when the baseline was measured
  // there, else the longest length the baseline (or anyone) was measured at.
  int column = -1;
  if (efficiency.has_baseline) {
    const EfficiencyRow& base = efficiency.rows[0];
    for (size_t c = 0; c < efficiency.lengths.size(); ++c) {
      if (!base.cells[c].measured) continue;
      if (column < 0 || efficiency.lengths[c] == 4096 ||
          efficiency.lengths[column] != 4096) {
        column = static_cast<int>(c);
      }
    }
  }
  chart.relative = column >= 0;
  if (column < 0) {
    int best_count = -1;
    for (size_t c = 0; c < efficiency.lengths.size(); ++c) {
      int count = 0;
      for (const EfficiencyRow& row : efficiency.rows) {
        if (row.cells[c].measured) ++count;
      }
      if (count > 0 && count >= best_count) {
        best_count = count;
        column = static_cast<int>(c);
      }
    }
  }
  if (column < 0) {
    chart.notes.push_back("The sweep has no measured point.");
    return chart;
  }
  chart.length = efficiency.lengths[column];

  // Rows that can be drawn: a measured point and at least one accuracy.
  std::vector<std::pair<const AccuracyRow*, const EfficiencyCell*>> drawn;
  for (const AccuracyRow& row : accuracy.rows) {
    if (row.average_tasks == 0) {
      chart.notes.push_back(
          absl::StrCat(row.name, ": no finished run to average."));
      continue;
    }
    const EfficiencyCell* cell = nullptr;
    for (const EfficiencyRow& config : efficiency.rows) {
      if (config.label == row.attention_config && !config.not_measured) {
        cell = &config.cells[column];
      }
    }
    if (cell == nullptr) {
      chart.notes.push_back(absl::StrCat(
          row.name,
          ": not measured (the sweep did not measure its attention "
          "configuration '",
          row.attention_config,
          "'; no other configuration's figures are "
          "borrowed)."));
      continue;
    }
    if (!cell->measured) {
      chart.notes.push_back(absl::StrCat(
          row.name, ": not measured at ", FormatLength(chart.length),
          cell->error.empty()
              ? ""
              : absl::StrCat(" (", ErrorTail(cell->error, 80), ")"),
          "."));
      continue;
    }
    drawn.push_back({&row, cell});
  }
  // Average over the columns every drawn row has, so the bubbles compare.
  std::vector<int> common;
  for (size_t c = 0; c < accuracy.columns.size(); ++c) {
    bool all = !drawn.empty();
    for (const auto& [row, cell] : drawn) {
      if (!row->cells[c].has_value()) all = false;
    }
    if (all) common.push_back(static_cast<int>(c));
  }
  chart.same_tasks = !common.empty();
  for (int c : common) chart.tasks.push_back(accuracy.columns[c].label);
  for (const auto& [row, cell] : drawn) {
    Bubble bubble;
    bubble.label = row->name;
    bubble.variant = row->attention;
    bubble.config = row->attention_config;
    bubble.speed =
        chart.relative ? cell->relative_speed : cell->steps_per_second;
    bubble.memory_gb = cell->memory_gb;
    if (chart.same_tasks) {
      std::vector<double> values;
      for (int c : common) values.push_back(row->cells[c].mean);
      bubble.accuracy = Mean(values);
    } else {
      bubble.accuracy = row->average;
    }
    chart.bubbles.push_back(bubble);
  }
  return chart;
}

Report BuildReport(const std::string& results_dir, const ResultSet& results,
                   const AccuracyOptions& options) {
  Report report;
  report.results_dir = results_dir;
  report.runs = results.runs;
  for (const RunRecord& run : results.runs) {
    switch (run.state) {
      case RunState::kDone:
        ++report.done;
        break;
      case RunState::kFailed:
        ++report.failed;
        break;
      case RunState::kUnfinished:
        ++report.unfinished;
        break;
    }
  }
  report.accuracy = BuildAccuracyTable(results.runs, options);
  for (const SweepRecord& sweep : results.sweeps) {
    report.efficiency.push_back(BuildEfficiencyTable(sweep));
    AddUnmeasuredRows(report.accuracy, &report.efficiency.back());
  }
  return report;
}

}  // namespace lra
