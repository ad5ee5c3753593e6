#include "datasets/pathfinder/task.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "datasets/common/random.h"
#include "datasets/common/task_config.h"
#include "datasets/pathfinder/official.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace pathfinder {
namespace {

absl::Status ResolveWithDefaults(TaskConfig* task, int default_resolution,
                                 int registry_seq_len) {
  RETURN_IF_ERROR(
      CheckParamsCase(*task, TaskConfig::kPathfinder, "pathfinder"));
  RETURN_IF_ERROR(ResolvePathfinderConfig(
      task->mutable_pathfinder(), default_resolution, "task.pathfinder."));
  const int resolution = task->pathfinder().resolution();
  const int pixels = resolution * resolution;
  if (task->seq_len() == 0 || task->seq_len() == registry_seq_len) {
    task->set_seq_len(pixels);
  } else if (task->seq_len() != pixels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task.seq_len = ", task->seq_len(),
        " does not match task.pathfinder.resolution = ", resolution,
        " (allowed: ", pixels, ", the number of pixels, or 0)"));
  }
  return absl::OkStatus();
}

// Draws images [first, first + count) of a split into `store` slots
// [slot, slot + count), in parallel.
void GenerateInto(const PathfinderGenerator& generator, uint64_t data_seed,
                  Split split, int64_t first, int64_t count, int64_t slot,
                  ImageStore* store) {
#pragma omp parallel
  {
    GeneratorScratch scratch;
    std::vector<uint8_t> pixels(generator.image_size());
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < count; ++i) {
      const int32_t label = generator.Generate(data_seed, split, first + i,
                                               &scratch, pixels.data());
      store->Put(slot + i, pixels.data(), label);
    }
  }
}

// Fills a compressed store from the cache, generating (and writing) the
// shards that are missing, short or damaged.
absl::Status FillFromCache(const PathfinderGenerator& generator,
                           uint64_t data_seed, Split split,
                           const std::string& cache_dir, ImageStore* store) {
  const int64_t size = store->size();
  const int64_t shards = (size + kImagesPerShard - 1) / kImagesPerShard;
  const uint64_t fingerprint = CacheFingerprint(generator.params(), data_seed);
  std::vector<char> missing(shards, 1);
  // Opening the cache clears what killed runs left half-written.
  RemoveStaleCacheTemporaries(cache_dir);
  // Reading (and checking every stream) runs over shards in parallel.
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t s = 0; s < shards; ++s) {
    const int64_t first = s * kImagesPerShard;
    const int64_t count = std::min(kImagesPerShard, size - first);
    absl::StatusOr<CacheShard> shard = ReadCacheShard(
        CacheShardPath(cache_dir, fingerprint, split, s), fingerprint,
        generator.resolution(), split, first, store->image_bytes());
    if (!shard.ok() || static_cast<int64_t>(shard->labels.size()) < count) {
      continue;
    }
    for (int64_t i = 0; i < count; ++i) {
      store->PutCompressed(first + i, std::move(shard->blobs[i]),
                           shard->labels[i]);
    }
    missing[s] = 0;
  }
  for (int64_t s = 0; s < shards; ++s) {
    if (!missing[s]) continue;
    const int64_t first = s * kImagesPerShard;
    const int64_t count = std::min(kImagesPerShard, size - first);
    GenerateInto(generator, data_seed, split, first, count, first, store);
    CacheShard shard;
    shard.first_index = first;
    for (int64_t i = 0; i < count; ++i) {
      shard.labels.push_back(store->label(first + i));
      shard.blobs.push_back(store->blob(first + i));
    }
    absl::Status status =
        WriteCacheShard(CacheShardPath(cache_dir, fingerprint, split, s),
                        fingerprint, generator.resolution(), split, shard);
    if (!status.ok()) {
      return absl::Status(
          status.code(),
          absl::StrCat("task.pathfinder.cache_dir: ", status.message()));
    }
  }
  return absl::OkStatus();
}

// Scratch memory of Get() for datasets drawn on the fly, one per thread.
struct ThreadScratch {
  GeneratorScratch generator;
  std::vector<uint8_t> pixels;  // [resolution, resolution]
};

ThreadScratch& GetThreadScratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

}  // namespace

absl::Status ResolvePathfinderParams(TaskConfig* task) {
  return ResolveWithDefaults(task, kDefaultResolution, kDefaultSeqLen);
}

absl::Status ResolvePathXParams(TaskConfig* task) {
  return ResolveWithDefaults(task, kPathXResolution, kPathXSeqLen);
}

PathfinderDataset::PathfinderDataset(const PathfinderParams& params,
                                     uint64_t data_seed, Split split,
                                     int64_t size)
    : resolution_(params.style.resolution),
      size_(size),
      data_seed_(data_seed),
      split_(split),
      generator_(params) {}

PathfinderDataset::PathfinderDataset(int resolution, ImageStore store)
    : resolution_(resolution), size_(store.size()), store_(std::move(store)) {}

PathfinderDataset::Storage PathfinderDataset::storage() const {
  if (!store_.has_value()) return Storage::kOnTheFly;
  return store_->compressed() ? Storage::kCompressed : Storage::kRaw;
}

int64_t PathfinderDataset::stored_bytes() const {
  return store_.has_value() ? store_->stored_bytes() : 0;
}

int32_t PathfinderDataset::GetPixels(int64_t index, uint8_t* pixels) const {
  if (store_.has_value()) {
    store_->Read(index, pixels);
    return store_->label(index);
  }
  return generator_->Generate(data_seed_, split_, index,
                              &GetThreadScratch().generator, pixels);
}

int32_t PathfinderDataset::Get(int64_t index, int32_t* tokens) const {
  std::vector<uint8_t>& pixels = GetThreadScratch().pixels;
  // Grows once per thread (and resolution); reads then allocate nothing.
  if (pixels.size() < static_cast<size_t>(seq_len())) pixels.resize(seq_len());
  const int32_t label = GetPixels(index, pixels.data());
  for (int i = 0; i < seq_len(); ++i) tokens[i] = int32_t{pixels[i]} + 1;
  return label;
}

uint64_t CacheFingerprint(const PathfinderParams& params, uint64_t data_seed) {
  const std::string key = absl::StrCat(
      "pathfinder generator v", kGeneratorVersion, " resolution ",
      params.style.resolution, " contour_length ", params.contour_length,
      " distractors ", params.distractors, " data_seed ", data_seed);
  return Fingerprint64(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(key.data()),
                          key.size()),
      /*seed=*/0);
}

absl::StatusOr<std::unique_ptr<PathfinderDataset>> BuildPathfinderDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  const PathfinderConfig& config = task.pathfinder();
  ASSIGN_OR_RETURN(PathfinderParams params, MakePathfinderParams(config));
  const int resolution = params.style.resolution;
  const int64_t image_bytes = int64_t{resolution} * resolution;
  const int64_t size = SplitSize(task, split);
  const bool fits_in_memory =
      size * image_bytes <= int64_t{config.max_memory_mb()} << 20;

  if (!config.official_dir().empty()) {
    const std::string dir = ResolvePath(workspace_dir, config.official_dir());
    ASSIGN_OR_RETURN(std::string folder,
                     FindOfficialFolder(dir, params.contour_length));
    ASSIGN_OR_RETURN(std::vector<OfficialEntry> entries,
                     ReadOfficialMetadata(folder));
    const auto [begin, end] = OfficialSplitRange(entries.size(), split);
    if (end - begin < size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "task.pathfinder.official_dir = '", folder, "' has ", end - begin,
          " ", SplitName(split), " images (80/10/10 of ", entries.size(),
          ") but task.", SplitName(split), "_size = ", size,
          " (allowed: <= ", end - begin, ")"));
    }
    ImageStore store(size, image_bytes, /*compressed=*/!fits_in_memory);
    RETURN_IF_ERROR(
        LoadOfficialImages(entries, begin, size, resolution, &store));
    return std::make_unique<PathfinderDataset>(resolution, std::move(store));
  }

  const PathfinderGenerator generator(params);
  if (!config.cache_dir().empty()) {
    ImageStore store(size, image_bytes, /*compressed=*/true);
    RETURN_IF_ERROR(
        FillFromCache(generator, task.data_seed(), split,
                      ResolvePath(workspace_dir, config.cache_dir()), &store));
    return std::make_unique<PathfinderDataset>(resolution, std::move(store));
  }
  if (fits_in_memory) {
    ImageStore store(size, image_bytes, /*compressed=*/false);
    GenerateInto(generator, task.data_seed(), split, 0, size, 0, &store);
    return std::make_unique<PathfinderDataset>(resolution, std::move(store));
  }
  return std::make_unique<PathfinderDataset>(params, task.data_seed(), split,
                                             size);
}

absl::StatusOr<std::unique_ptr<Dataset>> MakePathfinderDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<PathfinderDataset> dataset,
                   BuildPathfinderDataset(task, split, workspace_dir));
  return std::unique_ptr<Dataset>(std::move(dataset));
}

absl::StatusOr<GenerationSpeed> MeasureGenerationSpeed(const TaskConfig& task,
                                                       int64_t images,
                                                       int threads) {
  TaskConfig resolved = task;
  RETURN_IF_ERROR(resolved.name() == "pathx"
                      ? ResolvePathXParams(&resolved)
                      : ResolvePathfinderParams(&resolved));
  ASSIGN_OR_RETURN(PathfinderParams params,
                   MakePathfinderParams(resolved.pathfinder()));
  if (images <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("images = ", images, " (allowed: > 0)"));
  }
  const PathfinderGenerator generator(params);
  GenerationSpeed speed;
  speed.images = images;
  speed.threads = threads > 0 ? threads : omp_get_max_threads();
  std::atomic<int64_t> attempts{0};
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(speed.threads)
  {
    GeneratorScratch scratch;
    std::vector<uint8_t> pixels(generator.image_size());
    int64_t local_attempts = 0;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < images; ++i) {
      generator.Generate(resolved.data_seed(), Split::kTrain, i, &scratch,
                         pixels.data());
      local_attempts += scratch.scene.attempts;
    }
    attempts += local_attempts;
  }
  speed.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  speed.images_per_second = images / std::max(speed.seconds, 1e-9);
  speed.mean_attempts = static_cast<double>(attempts.load()) / images;
  return speed;
}

std::string FormatGenerationSpeed(const GenerationSpeed& speed) {
  return absl::StrFormat(
      "generated %d images in %.2f s with %d threads: %.0f images/s (%.0f "
      "per thread), %.2f scene attempts per image\n",
      speed.images, speed.seconds, speed.threads, speed.images_per_second,
      speed.images_per_second / std::max(speed.threads, 1),
      speed.mean_attempts);
}

InkStats DescribeInk(const Dataset& dataset, int64_t max_images) {
  InkStats stats;
  const int64_t count = std::min(dataset.size(), max_images);
  std::vector<int32_t> tokens(dataset.seq_len());  // [seq_len]
  for (int64_t i = 0; i < count; ++i) {
    const int32_t label = dataset.Get(i, tokens.data());
    if (label < 0 || label > 1) continue;
    int64_t ink = 0, lit = 0;
    for (int32_t token : tokens) {
      ink += token - 1;
      lit += token > 1;
    }
    ++stats.images[label];
    stats.mean_ink[label] += ink / 255.0;
    stats.mean_lit_fraction[label] +=
        static_cast<double>(lit) / dataset.seq_len();
  }
  for (int label = 0; label < 2; ++label) {
    if (stats.images[label] == 0) continue;
    stats.mean_ink[label] /= stats.images[label];
    stats.mean_lit_fraction[label] /= stats.images[label];
  }
  return stats;
}

std::string FormatInkStats(const InkStats& stats) {
  std::string out;
  for (int label = 0; label < 2; ++label) {
    absl::StrAppendFormat(
        &out, "label %d: %d images, ink %.1f (pixel sum / 255), %.1f%% lit\n",
        label, stats.images[label], stats.mean_ink[label],
        100 * stats.mean_lit_fraction[label]);
  }
  return out;
}

}  // namespace pathfinder
}  // namespace lra
