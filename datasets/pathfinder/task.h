// The Pathfinder and Path-X tasks as the registry in //datasets:dataset
// sees them: defaults, config validation and the Dataset factory.
//
// Tokens are pixel + 1 (vocabulary 257, see params.h): the encoder treats
// id 0 as padding, and LRA's pixel-as-token scheme would mask every black
// pixel. There is no padding in this task; seq_len is always the number of
// pixels, resolution^2.
//
// Where the images come from, in order:
//  - official_dir set: LRA's files (see official.h), in memory.
//  - cache_dir set: generated once into zlib-compressed shards keyed by a
//    fingerprint of the config; later runs load them. Kept compressed in
//    memory (about a tenth of the raw bytes) and inflated in Get().
//  - otherwise, when size x resolution^2 bytes fit in max_memory_mb:
//    generated at construction (in parallel) and kept raw in memory.
//  - otherwise (Path-X's 160k x 16384 bytes by default): drawn on the fly
//    in Get(), with per-thread scratch memory.
// All four give the same images for the same config and data_seed.
#ifndef LRA_DATASETS_PATHFINDER_TASK_H_
#define LRA_DATASETS_PATHFINDER_TASK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "datasets/pathfinder/generator.h"
#include "datasets/pathfinder/image_store.h"
#include "datasets/pathfinder/params.h"
#include "proto/config.pb.h"

namespace lra {
namespace pathfinder {

// Registry defaults of the task-wide seq_len: the pixels of the default
// resolution ("pathfinder": 32 x 32, "pathx": 128 x 128).
inline constexpr int kDefaultSeqLen = 1024;
inline constexpr int kPathXSeqLen = 16384;

// Fill zero fields of task.pathfinder (creating it if needed) with the
// defaults, resolution 32 for "pathfinder" and 128 for "pathx", then
// validate. seq_len becomes resolution^2 when it is unset or the registry's
// default; any other value must equal resolution^2. Errors name the field
// ("task.pathfinder.resolution", "task.seq_len").
absl::Status ResolvePathfinderParams(TaskConfig* task);
absl::Status ResolvePathXParams(TaskConfig* task);

// A split of Pathfinder images. Get() writes pixel + 1 for each pixel,
// row-major.
class PathfinderDataset final : public Dataset {
 public:
  enum class Storage { kOnTheFly, kRaw, kCompressed };

  // Draws image i of `split` in Get().
  PathfinderDataset(const PathfinderParams& params, uint64_t data_seed,
                    Split split, int64_t size);
  // Serves stored images.
  PathfinderDataset(int resolution, ImageStore store);

  int64_t size() const override { return size_; }
  int seq_len() const override { return resolution_ * resolution_; }
  int vocab_size() const override { return kVocabSize; }
  int num_classes() const override { return kNumClasses; }
  int32_t Get(int64_t index, int32_t* tokens) const override;

  int resolution() const { return resolution_; }
  Storage storage() const;
  // Bytes held in memory for the images (0 when drawn on the fly).
  int64_t stored_bytes() const;
  // The image's pixels ([resolution, resolution]) and its label.
  int32_t GetPixels(int64_t index, uint8_t* pixels) const;

 private:
  int resolution_;
  int64_t size_;
  uint64_t data_seed_ = 0;
  Split split_ = Split::kTrain;
  std::optional<PathfinderGenerator> generator_;
  std::optional<ImageStore> store_;
};

// Builds one split of a config whose defaults are resolved (relative paths
// are resolved against `workspace_dir`).
absl::StatusOr<std::unique_ptr<PathfinderDataset>> BuildPathfinderDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The registry's factory: BuildPathfinderDataset as a Dataset.
absl::StatusOr<std::unique_ptr<Dataset>> MakePathfinderDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The cache key of generated images: resolution, contour length,
// distractors, data_seed and the generator's version.
uint64_t CacheFingerprint(const PathfinderParams& params, uint64_t data_seed);

// Generation speed, for `lra data bench`.
struct GenerationSpeed {
  int64_t images = 0;
  int threads = 0;
  double seconds = 0;
  double images_per_second = 0;
  // Mean whole-scene attempts per image (1 = every first try fitted).
  double mean_attempts = 0;
};
// Draws `images` train images of `task` (defaults resolved here) with
// `threads` threads (0 = all) and times it.
absl::StatusOr<GenerationSpeed> MeasureGenerationSpeed(const TaskConfig& task,
                                                       int64_t images,
                                                       int threads);
std::string FormatGenerationSpeed(const GenerationSpeed& speed);

// Per-class ink statistics of a split (pixel + 1 tokens), for `lra data
// stats`: both classes should show the same figures.
struct InkStats {
  int64_t images[2] = {0, 0};
  // Mean of the pixel values summed over an image, divided by 255.
  double mean_ink[2] = {0, 0};
  // Mean fraction of pixels that are not black.
  double mean_lit_fraction[2] = {0, 0};
};
InkStats DescribeInk(const Dataset& dataset, int64_t max_images);
std::string FormatInkStats(const InkStats& stats);

// The registry's entries: "pathfinder", and "pathx", Pathfinder at 128
// pixels by default. seq_len follows the resolution (resolution^2).
inline constexpr TaskEntry kPathfinderTaskEntry = {
    "pathfinder",          kDefaultSeqLen,     kDefaultTrainSize,
    kDefaultValSize,       kDefaultTestSize,   kVocabSize,
    kNumClasses,           /*num_segments=*/1, &ResolvePathfinderParams,
    &MakePathfinderDataset};
inline constexpr TaskEntry kPathXTaskEntry = {"pathx",
                                              kPathXSeqLen,
                                              kDefaultTrainSize,
                                              kDefaultValSize,
                                              kDefaultTestSize,
                                              kVocabSize,
                                              kNumClasses,
                                              /*num_segments=*/1,
                                              &ResolvePathXParams,
                                              &MakePathfinderDataset};

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_TASK_H_
