#include "datasets/brackets/task.h"

#include "datasets/common/generated_dataset.h"
#include "datasets/common/task_config.h"
#include "util/status_macros.h"

namespace lra {
namespace brackets {

absl::Status ResolveBracketsParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kBrackets, "brackets"));
  BracketsConfig* config = task->mutable_brackets();
  if (config->max_length() == 0) config->set_max_length(task->seq_len());
  if (config->min_length() == 0) {
    config->set_min_length(config->max_length() / 2);
  }
  if (config->max_depth() == 0) {
    config->set_max_depth(config->max_length() / 2);
  }
  if (config->min_span() == 0) config->set_min_span(config->min_length() / 4);
  return ValidateBracketsConfig(*config, task->seq_len(), "task.brackets.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeBracketsDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  GeneratedDatasetSpec spec;
  spec.size = SplitSize(task, split);
  spec.segment_len = task.seq_len();
  spec.vocab_size = kVocabSize;
  spec.num_classes = kNumClasses;
  spec.id_offset = 0;
  const BracketsConfig config = task.brackets();
  const int seq_len = task.seq_len();
  const uint64_t seed = task.data_seed();
  return MakeGeneratedDataset(spec, [config, seq_len, seed, split](
                                        int64_t index, int32_t* tokens) {
    return GenerateBracketsExample(config, seq_len, seed, split, index, tokens);
  });
}

}  // namespace brackets
}  // namespace lra
