// In-memory storage of a split's images (raw bytes, or one zlib stream per
// image), and the on-disk cache of generated splits as zlib-compressed
// shards.
#ifndef LRA_DATASETS_PATHFINDER_IMAGE_STORE_H_
#define LRA_DATASETS_PATHFINDER_IMAGE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"

namespace lra {
namespace pathfinder {

// Images per cache shard; shard s holds images [s * kImagesPerShard,
// (s + 1) * kImagesPerShard) of a split, so splits of any size share them.
inline constexpr int64_t kImagesPerShard = 4096;

// The images and labels of one split. Writing distinct indices from several
// threads is safe; reading is thread-safe.
class ImageStore {
 public:
  // `image_bytes` per image; `compressed` keeps each image as a zlib
  // stream (about a tenth of the bytes) and inflates it on every read.
  ImageStore(int64_t size, int64_t image_bytes, bool compressed);

  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  int64_t image_bytes() const { return image_bytes_; }
  bool compressed() const { return compressed_; }
  int32_t label(int64_t index) const { return labels_[index]; }
  // Bytes held for the images.
  int64_t stored_bytes() const;

  // Stores an image (compressing it if the store is compressed).
  void Put(int64_t index, const uint8_t* pixels, int32_t label);
  // Stores an already compressed image; call only on a compressed store.
  void PutCompressed(int64_t index, std::string blob, int32_t label);
  // The zlib stream of an image of a compressed store.
  const std::string& blob(int64_t index) const { return blobs_[index]; }

  // Copies image `index` into `pixels` ([image_bytes]). Allocates nothing
  // after a thread's first read of a compressed store. A stream that does
  // not inflate to image_bytes (impossible for streams that passed
  // CheckBlob()) reads as black.
  void Read(int64_t index, uint8_t* pixels) const;

 private:
  int64_t image_bytes_;
  bool compressed_;
  std::vector<int32_t> labels_;     // [size]
  std::vector<uint8_t> raw_;        // [size, image_bytes] when not compressed
  std::vector<std::string> blobs_;  // [size] zlib streams when compressed
};

// Compresses one image as a zlib stream.
std::string CompressImage(const uint8_t* pixels, int64_t image_bytes);
// True when `blob` inflates to exactly `image_bytes` bytes with a valid
// checksum.
bool CheckBlob(const std::string& blob, int64_t image_bytes);

// One shard of the cache: images [first_index, first_index + labels.size())
// of a split.
struct CacheShard {
  int64_t first_index = 0;
  std::vector<int32_t> labels;
  std::vector<std::string> blobs;
};

// `{cache_dir}/pathfinder-{fingerprint as 16 hex digits}-{split}-{shard as 5
// digits}.zshard`.
std::string CacheShardPath(const std::string& cache_dir, uint64_t fingerprint,
                           Split split, int64_t shard);

// Writes a shard atomically (a temporary file flushed to disk and renamed
// into place), creating `cache_dir` if needed. The header records the
// fingerprint, resolution, split and first index, so a file cannot be mistaken
// for another.
absl::Status WriteCacheShard(const std::string& path, uint64_t fingerprint,
                             int resolution, Split split,
                             const CacheShard& shard);

// Removes the temporary shard files that runs killed while writing a shard
// left in `cache_dir` (see RemoveStaleTemporaries in util/files.h: those
// of processes still running are kept). Returns how many were removed.
int RemoveStaleCacheTemporaries(const std::string& cache_dir);

// Reads a shard and checks its header against the expectations and every
// stream against image_bytes. NotFound when the file does not exist;
// DataLoss (naming the file and what is wrong) when it is damaged or
// belongs to another config.
absl::StatusOr<CacheShard> ReadCacheShard(const std::string& path,
                                          uint64_t fingerprint, int resolution,
                                          Split split, int64_t first_index,
                                          int64_t image_bytes);

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_IMAGE_STORE_H_
