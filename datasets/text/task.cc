#include "datasets/text/task.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "datasets/common/generated_dataset.h"
#include "datasets/common/packed_dataset.h"
#include "datasets/common/random.h"
#include "datasets/common/task_config.h"
#include "datasets/text/generator.h"
#include "datasets/text/imdb.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace text {
namespace {

constexpr int kVocabSize = 257;
constexpr int kNumClasses = 2;

// Seeds the order in which a loaded IMDb directory is taken.
constexpr uint64_t kOrderTag = 0x496d64624f726472ULL;  // "ImdbOrdr"

absl::StatusOr<std::unique_ptr<Dataset>> LoadImdb(const TaskConfig& task,
                                                  Split split,
                                                  const std::string& dir) {
  const int64_t size = SplitSize(task, split);
  const bool test_dir = split != Split::kTrain;
  const absl::string_view subset = test_dir ? "test" : "train";
  ASSIGN_OR_RETURN(std::vector<ImdbReview> reviews,
                   ListImdbReviews(dir, subset));
  if (static_cast<int64_t>(reviews.size()) < size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task.text.data_dir = '", dir, "' has ", reviews.size(), " reviews in ",
        subset, "/ but task.", SplitName(split), "_size = ", size,
        " (allowed: a size <= ", reviews.size(), ")"));
  }
  // A seeded Fisher-Yates shuffle, so that a subset mixes both labels.
  Rng rng(DeriveSeed({kOrderTag, task.data_seed(), test_dir ? 1u : 0u}));
  for (int64_t i = static_cast<int64_t>(reviews.size()) - 1; i > 0; --i) {
    std::swap((reviews)[i], (reviews)[rng.UniformInt(0, i)]);
  }
  reviews.resize(size);
  ASSIGN_OR_RETURN(std::vector<std::vector<uint8_t>> texts,
                   ReadImdbTexts(reviews, task.seq_len()));
  int64_t total = 0;
  for (const auto& text : texts) total += text.size();
  auto dataset = std::make_unique<PackedDataset>(task.seq_len(), 1, kVocabSize,
                                                 kNumClasses, /*id_offset=*/1);
  dataset->Reserve(size, total);
  for (int64_t i = 0; i < size; ++i) {
    dataset->Add(absl::MakeConstSpan((texts)[i]), (reviews)[i].label);
  }
  return dataset;
}

absl::Status ResolveTextParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kText, "text"));
  TextConfig* config = task->mutable_text();
  if (config->min_length() == 0) config->set_min_length(1000);
  if (config->max_length() == 0) config->set_max_length(4000);
  if (config->num_cues() == 0) config->set_num_cues(15);
  if (config->max_margin() == 0) config->set_max_margin(5);
  // The stand-in's fields do not matter when the reviews are loaded.
  if (!config->data_dir().empty()) return absl::OkStatus();
  return ValidateTextStandIn(*config, task->seq_len(), "task.text.");
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeTextDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  if (!task.text().data_dir().empty()) {
    return LoadImdb(task, split,
                    ResolvePath(workspace_dir, task.text().data_dir()));
  }
  return MakeGeneratedTaskDataset(task, split, kTaskEntry, /*id_offset=*/1,
                                  task.text(), &GenerateTextExample);
}

}  // namespace

// LRA's released configuration cuts reviews to 1000 bytes (the paper: 4000).
// IMDb has 25000 reviews in each of train and test; LRA validates on test.
const TaskEntry kTaskEntry = {"text",
                              /*seq_len=*/1000,
                              /*train_size=*/25000,
                              /*val_size=*/25000,
                              /*test_size=*/25000,
                              kVocabSize,
                              kNumClasses,
                              /*num_segments=*/1,
                              &ResolveTextParams,
                              &MakeTextDataset};

}  // namespace text
}  // namespace lra
