// Leaderboards as Markdown (for reading and pasting into issues) and as CSV
// (one tidy line per figure, for spreadsheets and scripts).
#ifndef EVAL_FORMAT_H_
#define EVAL_FORMAT_H_

#include <string>

#include "eval/tables.h"

namespace lra {

// The accuracy table, then one efficiency table per sweep, each with its
// caption and notes. The paper's rows are labelled "LRA paper: ..." and
// printed in italics below ours.
std::string RenderMarkdown(const Report& report);

// Columns: table, source, row, machine, column, seq_len, metric, value, std,
// n, failed, unfinished, best, note. `source` is "ours" or "lra_paper";
// metrics are test_accuracy, average_accuracy, lra_average_accuracy,
// steps_per_second, peak_memory_gb, relative_speed and relative_memory.
std::string RenderCsv(const Report& report);

// The cell text shared by Markdown and HTML: "36.37 ± 0.52 (n=3)", with
// "+1 failed" / "+1 unfinished" when some runs of the cell did not finish;
// "failed: …error tail", "unfinished" or "—" (not run) when none finished.
std::string AccuracyCellText(const AccuracyCell& cell);

// "52.10", or "52.10 (3/5)" when the row lacks some of the table's tasks.
std::string AverageText(const AccuracyRow& row, int num_columns);

// The title of a task column: LRA's name ("ListOps") when comparable, else
// the label.
std::string ColumnTitle(const AccuracyColumn& column);

// The one-line descriptions of a sweep and its model, for captions.
std::string SweepCaption(const EfficiencyTable& table);

// Caption lines shared by all formats.
extern const char kAccuracyCaption[];
extern const char kReferenceAccuracyCaption[];
extern const char kReferenceEfficiencyCaption[];

}  // namespace lra

#endif  // EVAL_FORMAT_H_
