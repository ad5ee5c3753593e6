#include "datasets/image/task.h"

#include "absl/strings/str_cat.h"
#include "datasets/common/generated_dataset.h"
#include "datasets/common/packed_dataset.h"
#include "datasets/common/task_config.h"
#include "datasets/image/cifar.h"
#include "datasets/image/generator.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace image {

absl::Status ResolveImageParams(TaskConfig* task) {
  RETURN_IF_ERROR(CheckParamsCase(*task, TaskConfig::kImage, "image"));
  ImageConfig* config = task->mutable_image();
  if (config->image_size() == 0) config->set_image_size(kCifarSide);
  if (config->noise() == 0) config->set_noise(0.25f);
  if (config->data_dir().empty()) {
    return ValidateImageStandIn(*config, task->seq_len(), "task.image.");
  }
  if (config->image_size() != kCifarSide) {
    return FieldError("task.image.image_size",
                      absl::StrCat(config->image_size()),
                      "32 or unset when data_dir names CIFAR-10 files");
  }
  if (task->seq_len() != kCifarPixels) {
    return FieldError("task.seq_len", absl::StrCat(task->seq_len()),
                      "1024 = 32 x 32 for CIFAR-10");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Dataset>> MakeImageDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  const int64_t size = SplitSize(task, split);
  if (!task.image().data_dir().empty()) {
    const std::string dir = ResolvePath(workspace_dir, task.image().data_dir());
    ASSIGN_OR_RETURN(GrayImages images,
                     ReadCifarSplit(dir, static_cast<int>(split)));
    if (images.size() < size) {
      return absl::InvalidArgumentError(
          absl::StrCat("task.image.data_dir = '", dir, "' has ", images.size(),
                       " images in its ", SplitName(split), " split but task.",
                       SplitName(split), "_size = ", size,
                       " (allowed: a size <= ", images.size(), ")"));
    }
    auto dataset = std::make_unique<PackedDataset>(
        kCifarPixels, 1, kVocabSize, kNumClasses, /*id_offset=*/1);
    dataset->Reserve(size, size * kCifarPixels);
    for (int64_t i = 0; i < size; ++i) {
      dataset->Add(absl::MakeConstSpan(images.pixels.data() + i * kCifarPixels,
                                       kCifarPixels),
                   images.labels[i]);
    }
    return dataset;
  }
  GeneratedDatasetSpec spec;
  spec.size = size;
  spec.segment_len = task.seq_len();
  spec.vocab_size = kVocabSize;
  spec.num_classes = kNumClasses;
  spec.id_offset = 1;
  const ImageConfig config = task.image();
  const uint64_t seed = task.data_seed();
  return MakeGeneratedDataset(
      spec, [config, seed, split](int64_t index, int32_t* tokens) {
        return GenerateImageExample(config, seed, split, index, tokens);
      });
}

}  // namespace image
}  // namespace lra
