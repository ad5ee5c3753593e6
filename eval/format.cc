#include "eval/format.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "eval/lra_reference.h"

namespace lra {
namespace {

// Text from results (names, errors, machines) as one Markdown table cell:
// HTML-significant characters as entities (Markdown renderers pass raw HTML
// through, so a model named `<img src=x onerror=...>` would otherwise run in
// a reader's browser), '|' escaped so it does not split the cell, and line
// breaks as spaces. StrReplaceAll replaces in one pass, so the '&' of an
// entity is never escaped twice.
std::string MdEscape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"|", "\\|"},
                                    {"\r\n", " "},
                                    {"\n", " "},
                                    {"\r", " "}});
}

std::string Ratio(double value) {
  if (std::isnan(value)) return "";
  return absl::StrFormat("%.2f×", value);
}

// The baseline's own cells show no ratio (it would always be 1).
std::string SpeedText(const EfficiencyCell& cell, bool baseline) {
  if (!cell.measured) return cell.error.empty() ? "—" : cell.short_error;
  std::string text = FormatSignificant(cell.steps_per_second);
  if (!baseline && !std::isnan(cell.relative_speed)) {
    absl::StrAppend(&text, " (", Ratio(cell.relative_speed), ")");
  }
  return text;
}

std::string MemoryText(const EfficiencyCell& cell, bool baseline) {
  if (!cell.measured) return cell.error.empty() ? "—" : cell.short_error;
  std::string text = FormatSignificant(cell.memory_gb);
  if (!baseline && !std::isnan(cell.relative_memory)) {
    absl::StrAppend(&text, " (", Ratio(cell.relative_memory), ")");
  }
  return text;
}

// Reference rows of Table 2 placed in our length columns; nothing when none
// of our lengths is one of Table 2's.
std::vector<std::vector<std::string>> ReferenceEfficiencyCells(
    const EfficiencyTable& table, bool memory) {
  std::vector<std::vector<std::string>> rows;
  bool any = false;
  for (int length : table.lengths) {
    if (LraTable2Column(length) >= 0) any = true;
  }
  if (!any) return rows;
  const LraEfficiencyRow& transformer = LraTable2()[0];
  for (const LraEfficiencyRow& paper : LraTable2()) {
    std::vector<std::string> cells;
    for (int length : table.lengths) {
      int c = LraTable2Column(length);
      if (c < 0) {
        cells.push_back("");
        continue;
      }
      double value = memory ? paper.memory_gb[c] : paper.steps_per_second[c];
      double base =
          memory ? transformer.memory_gb[c] : transformer.steps_per_second[c];
      // As published: "8.1", "0.85".
      std::string text = absl::StrFormat("%g", value);
      if (&paper != &transformer) {
        absl::StrAppend(&text, " (", Ratio(value / base), ")");
      }
      cells.push_back(text);
    }
    rows.push_back(cells);
  }
  return rows;
}

class CsvWriter {
 public:
  CsvWriter() {
    Row({"table", "source", "row", "machine", "column", "seq_len", "metric",
         "value", "std", "n", "failed", "unfinished", "best", "note"});
  }
  void Row(const std::vector<std::string>& fields) {
    std::vector<std::string> quoted;
    for (const std::string& field : fields) {
      if (field.find_first_of(",\"\n\r") == std::string::npos) {
        quoted.push_back(field);
      } else {
        quoted.push_back(absl::StrCat(
            "\"", absl::StrReplaceAll(field, {{"\"", "\"\""}}), "\""));
      }
    }
    absl::StrAppend(&text_, absl::StrJoin(quoted, ","), "\n");
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

std::string CsvNumber(double value) {
  if (std::isnan(value)) return "";
  return absl::StrFormat("%.6g", value);
}

}  // namespace

const char kAccuracyCaption[] =
    "Test accuracy (%) of each run's best-validation checkpoint; mean ± "
    "sample std over runs that differ only in their seed (n = runs). Best of "
    "our rows per column in bold. Avg is over the tasks the row has (k/n "
    "when it lacks some); LRA avg over LRA's five tasks.";
const char kReferenceAccuracyCaption[] =
    "Rows \"LRA paper: ...\" are the published accuracies (Tay et al. 2020, "
    "Table 1), trained on TPU v3 at LRA's full training scale: shown for "
    "orientation beside the columns that are LRA's exact tasks, never part "
    "of our averages or best marks. Each follows the first of our rows of "
    "its variant (matched by name: full = Transformer, linear_transformer = "
    "Linear Trans., sinkhorn = Sinkhorn Trans., ...); those no row of ours "
    "matches come last.";
const char kReferenceEfficiencyCaption[] =
    "Rows \"LRA paper: ...\" are the published Table 2 figures (Text task, "
    "batch 32, TPU v3; 1K-4K = 1000-4000 tokens), relative to their "
    "Transformer: different hardware and model, so only the ratios compare. "
    "Each follows the first of our rows of its variant (matched by name); "
    "those no row of ours matches come last. A paper row is its model at the "
    "paper's default configuration; our rows are named by attention and the "
    "parameters that differ from its defaults.";

std::string AccuracyCellText(const AccuracyCell& cell) {
  if (cell.empty()) return "—";
  if (!cell.has_value()) {
    if (cell.failed > 0) return absl::StrCat("failed: ", ErrorTail(cell.error));
    return "unfinished";
  }
  std::string text = FormatMeanStd(cell);
  if (cell.values.size() > 1) {
    absl::StrAppend(&text, " (n=", cell.values.size(), ")");
  }
  if (cell.failed > 0) absl::StrAppend(&text, " +", cell.failed, " failed");
  if (cell.unfinished > 0) {
    absl::StrAppend(&text, " +", cell.unfinished, " unfinished");
  }
  return text;
}

std::string AverageText(const AccuracyRow& row, int num_columns) {
  if (row.average_tasks == 0) return "—";
  std::string text = FormatPercent(row.average);
  if (row.average_tasks < num_columns) {
    absl::StrAppend(&text, " (", row.average_tasks, "/", num_columns, ")");
  }
  return text;
}

std::string ColumnTitle(const AccuracyColumn& column) {
  return column.lra_index >= 0 ? LraTaskTitle(column.label) : column.label;
}

std::string SweepCaption(const EfficiencyTable& table) {
  const ModelConfig& m = table.model;
  std::string model = absl::StrFormat(
      "model '%s': %d layers, d_model %d, %d heads, mlp %d", m.name(),
      m.num_layers(), m.d_model(), m.num_heads(), m.mlp_dim());
  return absl::StrCat(
      "Training steps (forward, backward, AdamW) per second and peak "
      "resident memory (GiB) by sequence length; ",
      model, "; batch ", table.batch, "; ", table.threads, " threads on ",
      table.machine.empty() ? "an unknown machine" : table.machine, "; git ",
      table.git_revision.empty() ? "unknown" : table.git_revision,
      ". Ratios (×) are relative to '", table.baseline,
      "' at the same length in this sweep.");
}

std::string RenderMarkdown(const Report& report) {
  std::string md = "# Leaderboard\n\n";
  absl::StrAppend(&md, "Results in `", report.results_dir,
                  "`: ", report.runs.size(), " runs (", report.done, " done, ",
                  report.failed, " failed, ", report.unfinished,
                  " unfinished).\n\n");

  const AccuracyTable& table = report.accuracy;
  const int n = static_cast<int>(table.columns.size());
  if (!table.rows.empty()) {
    md += "## Accuracy\n\n";
    std::vector<std::string> header = {"Model"};
    for (const AccuracyColumn& column : table.columns) {
      header.push_back(MdEscape(ColumnTitle(column)));
    }
    header.push_back("Avg");
    if (table.has_lra_average) header.push_back("LRA avg");
    absl::StrAppend(&md, "| ", absl::StrJoin(header, " | "), " |\n|---");
    for (size_t i = 1; i < header.size(); ++i) md += "|---:";
    md += "|\n";
    for (const TableSlot& slot : AccuracyDisplayOrder(table)) {
      if (slot.paper) {
        const ReferenceAccuracyRow& row = table.reference_rows[slot.index];
        std::vector<std::string> cells = {
            absl::StrCat("*LRA paper: ", row.name, "*")};
        for (double value : row.cells) {
          cells.push_back(std::isnan(value)
                              ? ""
                              : absl::StrCat("*", FormatPercent(value), "*"));
        }
        cells.push_back(
            std::isnan(row.average)
                ? ""
                : absl::StrCat("*", FormatPercent(row.average), "*"));
        if (table.has_lra_average) {
          cells.push_back(
              absl::StrCat("*", FormatPercent(row.lra_average), "*"));
        }
        absl::StrAppend(&md, "| ", absl::StrJoin(cells, " | "), " |\n");
        continue;
      }
      const AccuracyRow& row = table.rows[slot.index];
      std::vector<std::string> cells = {MdEscape(row.name)};
      for (const AccuracyCell& cell : row.cells) {
        std::string text = MdEscape(AccuracyCellText(cell));
        cells.push_back(cell.best ? absl::StrCat("**", text, "**") : text);
      }
      std::string average = AverageText(row, n);
      cells.push_back(row.best_average ? absl::StrCat("**", average, "**")
                                       : average);
      if (table.has_lra_average) {
        std::string lra =
            std::isnan(row.lra_average) ? "—" : FormatPercent(row.lra_average);
        cells.push_back(row.best_lra_average ? absl::StrCat("**", lra, "**")
                                             : lra);
      }
      absl::StrAppend(&md, "| ", absl::StrJoin(cells, " | "), " |\n");
    }
    absl::StrAppend(&md, "\n", kAccuracyCaption, "\n");
    if (!table.reference_rows.empty()) {
      absl::StrAppend(&md, "\n", kReferenceAccuracyCaption, "\n");
      // The state-space papers' rows in their own table: their averages
      // are over six tasks, LRA's (and ours) over five.
      absl::StrAppend(&md, "\n", SsmReferenceMarkdown());
    }
    for (const std::string& note : table.notes) {
      absl::StrAppend(&md, "\n- ", MdEscape(note));
    }
    if (!table.notes.empty()) md += "\n";
    std::vector<std::string> failures;
    for (const AccuracyRow& row : table.rows) {
      for (size_t c = 0; c < row.cells.size(); ++c) {
        if (row.cells[c].failed == 0) continue;
        failures.push_back(absl::StrCat(
            "- ", MdEscape(row.name), " on ", MdEscape(table.columns[c].label),
            ": ", MdEscape(ErrorTail(row.cells[c].error, 300))));
      }
    }
    if (!failures.empty()) {
      absl::StrAppend(&md, "\nFailed runs:\n\n", absl::StrJoin(failures, "\n"),
                      "\n");
    }
    md += "\n";
  }

  for (const EfficiencyTable& eff : report.efficiency) {
    absl::StrAppend(&md, "## Efficiency (`", eff.path, "`)\n\n");
    std::vector<std::string> header = {"Variant"};
    for (int length : eff.lengths) {
      header.push_back(absl::StrCat("steps/s ", FormatLength(length)));
    }
    for (int length : eff.lengths) {
      header.push_back(absl::StrCat("GiB ", FormatLength(length)));
    }
    absl::StrAppend(&md, "| ", absl::StrJoin(header, " | "), " |\n|---");
    for (size_t i = 1; i < header.size(); ++i) md += "|---:";
    md += "|\n";
    std::vector<std::string> errors;
    std::vector<std::vector<std::string>> speed =
        ReferenceEfficiencyCells(eff, false);
    std::vector<std::vector<std::string>> memory =
        ReferenceEfficiencyCells(eff, true);
    for (const TableSlot& slot : EfficiencyDisplayOrder(eff, !speed.empty())) {
      if (slot.paper) {
        const size_t r = slot.index;
        std::vector<std::string> cells = {
            absl::StrCat("*LRA paper: ", LraTable2()[r].model, "*")};
        for (const std::string& text : speed[r]) {
          cells.push_back(text.empty() ? "" : absl::StrCat("*", text, "*"));
        }
        for (const std::string& text : memory[r]) {
          cells.push_back(text.empty() ? "" : absl::StrCat("*", text, "*"));
        }
        absl::StrAppend(&md, "| ", absl::StrJoin(cells, " | "), " |\n");
        continue;
      }
      const EfficiencyRow& row = eff.rows[slot.index];
      const bool baseline = eff.has_baseline && &row == &eff.rows[0];
      std::vector<std::string> cells = {MdEscape(row.label)};
      for (const EfficiencyCell& cell : row.cells) {
        cells.push_back(MdEscape(SpeedText(cell, baseline)));
      }
      if (row.not_measured) {
        errors.push_back(absl::StrCat(
            "- ", MdEscape(row.label),
            ": not measured (trained here, but this sweep did not measure "
            "this attention configuration)"));
      }
      for (size_t c = 0; c < row.cells.size(); ++c) {
        cells.push_back(MdEscape(MemoryText(row.cells[c], baseline)));
        if (!row.not_measured && !row.cells[c].error.empty()) {
          errors.push_back(absl::StrCat("- ", MdEscape(row.label), " at ",
                                        FormatLength(eff.lengths[c]), ": ",
                                        MdEscape(row.cells[c].error)));
        }
      }
      absl::StrAppend(&md, "| ", absl::StrJoin(cells, " | "), " |\n");
    }
    absl::StrAppend(&md, "\n", MdEscape(SweepCaption(eff)), "\n");
    if (!speed.empty()) {
      absl::StrAppend(&md, "\n", kReferenceEfficiencyCaption, "\n");
    }
    if (!errors.empty()) {
      absl::StrAppend(&md, "\nNot measured:\n\n", absl::StrJoin(errors, "\n"),
                      "\n");
    }
    md += "\n";
  }
  return md;
}

std::string RenderCsv(const Report& report) {
  CsvWriter csv;
  const AccuracyTable& table = report.accuracy;
  for (const AccuracyRow& row : table.rows) {
    for (size_t c = 0; c < row.cells.size(); ++c) {
      const AccuracyCell& cell = row.cells[c];
      if (cell.empty()) continue;
      std::string note;
      if (cell.failed > 0) note = ErrorTail(cell.error, 300);
      csv.Row({"accuracy", "ours", row.name, row.machine,
               table.columns[c].label, "", "test_accuracy",
               CsvNumber(cell.mean), CsvNumber(cell.std),
               absl::StrCat(cell.values.size()), absl::StrCat(cell.failed),
               absl::StrCat(cell.unfinished), cell.best ? "1" : "0", note});
    }
    if (row.average_tasks > 0) {
      csv.Row({"accuracy", "ours", row.name, row.machine, "avg", "",
               "average_accuracy", CsvNumber(row.average), "",
               absl::StrCat(row.average_tasks), "", "",
               row.best_average ? "1" : "0", ""});
    }
    if (!std::isnan(row.lra_average)) {
      csv.Row({"accuracy", "ours", row.name, row.machine, "lra_avg", "",
               "lra_average_accuracy", CsvNumber(row.lra_average), "", "5", "",
               "", row.best_lra_average ? "1" : "0", ""});
    }
  }
  for (const ReferenceAccuracyRow& row : table.reference_rows) {
    for (size_t c = 0; c < row.cells.size(); ++c) {
      if (std::isnan(row.cells[c])) continue;
      csv.Row({"accuracy", "lra_paper", row.name, "TPU v3",
               table.columns[c].label, "", "test_accuracy",
               CsvNumber(row.cells[c]), "", "", "", "", "", ""});
    }
    if (!std::isnan(row.lra_average)) {
      csv.Row({"accuracy", "lra_paper", row.name, "TPU v3", "lra_avg", "",
               "lra_average_accuracy", CsvNumber(row.lra_average), "", "5", "",
               "", "", ""});
    }
  }
  for (const EfficiencyTable& eff : report.efficiency) {
    for (const EfficiencyRow& row : eff.rows) {
      for (size_t c = 0; c < row.cells.size(); ++c) {
        const EfficiencyCell& cell = row.cells[c];
        std::string length = absl::StrCat(eff.lengths[c]);
        std::string column = FormatLength(eff.lengths[c]);
        if (!cell.measured) {
          if (cell.error.empty()) continue;
          csv.Row({"efficiency", "ours", row.label, eff.machine, column, length,
                   "steps_per_second", "", "", "", "", "", "", cell.error});
          continue;
        }
        const std::pair<const char*, double> metrics[] = {
            {"steps_per_second", cell.steps_per_second},
            {"peak_memory_gb", cell.memory_gb},
            {"relative_speed", cell.relative_speed},
            {"relative_memory", cell.relative_memory}};
        for (const auto& [metric, value] : metrics) {
          if (std::isnan(value)) continue;
          csv.Row({"efficiency", "ours", row.label, eff.machine, column, length,
                   metric, CsvNumber(value), "", "", "", "", "", ""});
        }
      }
    }
  }
  if (!report.efficiency.empty()) {
    for (const LraEfficiencyRow& row : LraTable2()) {
      for (size_t c = 0; c < LraTable2Lengths().size(); ++c) {
        int length = LraTable2Lengths()[c];
        csv.Row({"efficiency", "lra_paper", row.model, "TPU v3",
                 FormatLength(length), absl::StrCat(length), "steps_per_second",
                 CsvNumber(row.steps_per_second[c]), "", "", "", "", "", ""});
        csv.Row({"efficiency", "lra_paper", row.model, "TPU v3",
                 FormatLength(length), absl::StrCat(length), "peak_memory_gb",
                 CsvNumber(row.memory_gb[c]), "", "", "", "", "", ""});
      }
    }
  }
  return csv.text();
}

}  // namespace lra
