// The Long Range Arena paper's published figures (Tay et al. 2020, arXiv
// 2011.04006: Table 1 accuracies, Table 2 efficiency) and the rule that
// decides which of our task columns they may stand beside.
#ifndef EVAL_LRA_REFERENCE_H_
#define EVAL_LRA_REFERENCE_H_

#include <string>
#include <utility>
#include <vector>

#include "proto/config.pb.h"

namespace lra {

// LRA's five tasks in the paper's column order (Path-X is left out: every
// model of the paper is at chance there, so it has no column in Table 1).
const std::vector<std::string>& LraTaskNames();

// Display name of an LRA task column, e.g. "listops" -> "ListOps".
std::string LraTaskTitle(const std::string& task);

// One row of Table 1: test accuracy in percent per LRA task (same order as
// LraTaskNames()) and the paper's average.
struct LraAccuracyRow {
  std::string model;
  std::vector<double> accuracy;
  double average;
};
const std::vector<LraAccuracyRow>& LraTable1();

// Published LRA results of later, non-attention models (state-space models
// and Mega), each labelled with the paper it comes from. These papers average
// SIX tasks, Path-X included, with a failed Path-X counted as 50 (chance);
// LRA's Table 1 averages FIVE. The two averages are never mixed, and none of
// these rows is ever averaged with our results. Only figures verified
// against the paper's own table (or the averages it states) are here;
// an unverified figure is NaN (shown as blank).
struct SsmReferenceRow {
  std::string model;
  std::string source;  // "Smith et al. 2023 (S5), arXiv 2208.04933"
  // ListOps, Text, Retrieval, Image, Pathfinder, Path-X (LraTaskNames()
  // order, then Path-X); NaN where not verified.
  std::vector<double> accuracy;
  double six_task_average;  // as published
};
const std::vector<SsmReferenceRow>& SsmReferenceResults();
// The LRA Transformer under the six-task convention (Path-X failed = 50),
// the figure the SSM papers print: 53.66 (LRA's five-task average: 54.39).
double TransformerSixTaskAverage();
// A markdown table of SsmReferenceResults() with its averaging caption.
std::string SsmReferenceMarkdown();

// One row of Table 2 (Text task, batch 32, TPU v3): steps per second and peak
// memory in GB at 1K, 2K, 3K and 4K tokens.
struct LraEfficiencyRow {
  std::string model;
  std::vector<double> steps_per_second;
  std::vector<double> memory_gb;
};
const std::vector<LraEfficiencyRow>& LraTable2();
// The lengths of Table 2's columns.
const std::vector<int>& LraTable2Lengths();

// The paper's row name for one of our attention variants (registry name):
// "full" -> "Transformer", "linformer" -> "Linformer", "linear_transformer"
// -> "Linear Transformer" (the paper's "Linear Trans."), "sinkhorn" ->
// "Sinkhorn" (the paper's "Sinkhorn Trans."), ...; "" when the paper has no
// row for the variant (nystromformer, the state-space mixers).
std::string LraPaperModel(const std::string& variant);
// The variants the paper has a row for, with that row's name, in Table 1's
// order.
const std::vector<std::pair<std::string, std::string>>& LraPaperVariants();
// Index of the variant's row in LraTable1() / LraTable2(), or -1 (Table 2
// has no Sparse Transformer or Longformer row).
int LraTable1Row(const std::string& variant);
int LraTable2Row(const std::string& variant);

// The lengths LRA trains each task at; retrieval's is per document (either
// the per-document or the pair length is accepted), text has the released
// config's 1000 and the paper's 4000.
std::vector<int> LraSequenceLengths(const std::string& task);

// Decides whether a task of ours is LRA's task `label`, so that the paper's
// figures may be shown beside it. The rule: the label must be exactly an LRA
// task name ("listops", not "listops-short"), the task must be that task
// (TaskConfig.name), and its seq_len one LRA uses. Returns "" when the task
// is comparable, else why not (for a note under the table).
std::string WhyNotLraComparable(const std::string& label,
                                const TaskConfig& task);

}  // namespace lra

#endif  // EVAL_LRA_REFERENCE_H_
