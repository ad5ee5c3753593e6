#include "datasets/listops/task.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "datasets/common/packed_dataset.h"
#include "datasets/common/task_config.h"
#include "datasets/listops/generator.h"
#include "datasets/listops/tokens.h"
#include "datasets/listops/tsv.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace listops {
namespace {

static_assert(kVocabSize - 1 <= PackedDataset::kMaxSymbol,
              "ListOps ids are stored in one byte each");

// The config field that names a split's TSV file, and its value.
std::pair<absl::string_view, std::string> SplitTsv(const ListOpsConfig& config,
                                                   Split split) {
  switch (split) {
    case Split::kTrain:
      return {"train_tsv", config.train_tsv()};
    case Split::kVal:
      return {"val_tsv", config.val_tsv()};
    case Split::kTest:
      return {"test_tsv", config.test_tsv()};
  }
  return {"", ""};
}

absl::Status ResolveListOpsParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kListops, "listops"));
  ListOpsConfig* config = task->mutable_listops();
  if (config->max_depth() == 0) config->set_max_depth(10);
  if (config->min_args() == 0) config->set_min_args(2);
  if (config->max_args() == 0) config->set_max_args(10);
  if (config->operator_prob() == 0) config->set_operator_prob(0.25f);
  if (config->min_length() == 0) config->set_min_length(500);
  if (config->max_length() == 0) config->set_max_length(2000);
  return ValidateGeneratorConfig(*config, "task.listops.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeListOpsDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  const int64_t size = SplitSize(task, split);
  const auto [tsv_field, tsv_path] = SplitTsv(task.listops(), split);
  ListOpsExamples examples;
  if (!tsv_path.empty()) {
    const std::string path = ResolvePath(workspace_dir, tsv_path);
    ASSIGN_OR_RETURN(ListOpsExamples read, ReadListOpsTsv(path, size));
    if (static_cast<int64_t>(read.labels.size()) < size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task.listops.", tsv_field, " = '", path, "' has ",
          read.labels.size(), " rows but task.", SplitName(split),
          "_size = ", size, " (allowed: a size <= the file's rows)"));
    }
    examples = std::move(read);
  } else {
    ASSIGN_OR_RETURN(examples, GenerateExamples(task.listops(),
                                                task.data_seed(), split, size));
  }
  int64_t total_tokens = 0;
  for (const auto& ids : examples.ids) total_tokens += ids.size();
  auto dataset = std::make_unique<PackedDataset>(
      task.seq_len(), /*num_segments=*/1, kVocabSize, kNumClasses,
      /*id_offset=*/0);
  dataset->Reserve(size, total_tokens);
  for (int64_t i = 0; i < size; ++i) {
    dataset->Add(absl::MakeConstSpan(examples.ids[i]), examples.labels[i]);
    // Frees each example once packed, so the peak stays near one copy.
    std::vector<uint8_t>().swap(examples.ids[i]);
  }
  return dataset;
}

}  // namespace

const TaskEntry kTaskEntry = {"listops",
                              /*seq_len=*/2000,
                              /*train_size=*/96000,
                              /*val_size=*/2000,
                              /*test_size=*/2000,
                              kVocabSize,
                              kNumClasses,
                              /*num_segments=*/1,
                              &ResolveListOpsParams,
                              &MakeListOpsDataset};

}  // namespace listops
}  // namespace lra
