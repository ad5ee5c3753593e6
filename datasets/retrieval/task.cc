#include "datasets/retrieval/task.h"

#include "absl/strings/str_cat.h"
#include "datasets/common/generated_dataset.h"
#include "datasets/common/packed_dataset.h"
#include "datasets/common/task_config.h"
#include "datasets/retrieval/aan.h"
#include "datasets/retrieval/generator.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace retrieval {
namespace {

constexpr int kVocabSize = 257;
constexpr int kNumClasses = 2;
// An example is a pair of documents, each seq_len tokens padded on its own.
constexpr int kNumSegments = 2;

absl::Status ResolveRetrievalParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kRetrieval, "retrieval"));
  RetrievalConfig* config = task->mutable_retrieval();
  if (config->min_length() == 0) config->set_min_length(2000);
  if (config->max_length() == 0) config->set_max_length(4000);
  if (config->num_refs() == 0) config->set_num_refs(8);
  if (config->changed_refs() == 0) config->set_changed_refs(4);
  if (config->num_codes() == 0) config->set_num_codes(kMaxCodes);
  if (!config->data_dir().empty()) return absl::OkStatus();
  return ValidateRetrievalStandIn(*config, task->seq_len(), "task.retrieval.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeRetrievalDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  const int64_t size = SplitSize(task, split);
  const int seq_len = task.seq_len();
  if (!task.retrieval().data_dir().empty()) {
    const std::string path = absl::StrCat(
        ResolvePath(workspace_dir, task.retrieval().data_dir()), "/",
        AanFileName(split == Split::kTrain, split == Split::kVal));
    ASSIGN_OR_RETURN(PairExamples pairs, ReadAanTsv(path, size, seq_len));
    if (static_cast<int64_t>(pairs.labels.size()) < size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task.retrieval.data_dir: '", path, "' has ", pairs.labels.size(),
          " rows but task.", SplitName(split), "_size = ", size,
          " (allowed: a size <= the file's rows)"));
    }
    auto dataset = std::make_unique<PackedDataset>(seq_len, kNumSegments,
                                                   kVocabSize, kNumClasses,
                                                   /*id_offset=*/1);
    int64_t total = 0;
    for (int64_t i = 0; i < size; ++i) {
      total += pairs.first[i].size() + pairs.second[i].size();
    }
    dataset->Reserve(size, total);
    for (int64_t i = 0; i < size; ++i) {
      const absl::Span<const uint8_t> segments[] = {pairs.first[i],
                                                    pairs.second[i]};
      dataset->Add(absl::MakeConstSpan(segments), pairs.labels[i]);
      std::vector<uint8_t>().swap(pairs.first[i]);
      std::vector<uint8_t>().swap(pairs.second[i]);
    }
    return dataset;
  }
  return MakeGeneratedTaskDataset(task, split, kTaskEntry, /*id_offset=*/1,
                                  task.retrieval(), &GenerateRetrievalExample);
}

}  // namespace

// seq_len is per document (LRA: 4000); the sizes are the rows of LRA's
// new_aan_pairs.{train,eval,test}.tsv.
const TaskEntry kTaskEntry = {"retrieval",
                              /*seq_len=*/4000,
                              /*train_size=*/147086,
                              /*val_size=*/18090,
                              /*test_size=*/17437,
                              kVocabSize,
                              kNumClasses,
                              kNumSegments,
                              &ResolveRetrievalParams,
                              &MakeRetrievalDataset};

}  // namespace retrieval
}  // namespace lra
