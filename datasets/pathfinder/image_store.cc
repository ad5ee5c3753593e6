#include "datasets/pathfinder/image_store.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/files.h"

namespace lra {
namespace pathfinder {
namespace {

constexpr char kShardMagic[8] = {'L', 'R', 'A', 'P', 'F', 'S', 'H', '1'};
// magic, fingerprint, resolution, split, first index, count.
constexpr size_t kHeaderBytes = 8 + 8 + 4 + 4 + 8 + 4;
// Per image: label (1 byte) and stream size (4 bytes).
constexpr size_t kEntryBytes = 1 + 4;

// A zlib inflate state per thread, created on the thread's first read and
// reset for every image, so reads do not allocate.
class Inflater {
 public:
  ~Inflater() {
    if (ready_) inflateEnd(&stream_);
  }
  // Inflates `blob` into exactly `size` bytes of `out`.
  bool Inflate(const std::string& blob, uint8_t* out, int64_t size) {
    if (!ready_) {
      std::memset(&stream_, 0, sizeof(stream_));
      if (inflateInit(&stream_) != Z_OK) return false;
      ready_ = true;
    } else if (inflateReset(&stream_) != Z_OK) {
      return false;
    }
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(blob.data()));
    stream_.avail_in = static_cast<uInt>(blob.size());
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(size);
    const int result = inflate(&stream_, Z_FINISH);
    return result == Z_STREAM_END && stream_.avail_out == 0 &&
           stream_.avail_in == 0;
  }

 private:
  z_stream stream_;
  bool ready_ = false;
};

Inflater& ThreadInflater() {
  thread_local Inflater inflater;
  return inflater;
}

void AppendLe(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t ReadLe(const std::string& data, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(data[offset + i]))
             << (8 * i);
  }
  return value;
}

absl::Status Damaged(const std::string& path, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": not a valid Pathfinder cache shard (", what, ")"));
}

}  // namespace

ImageStore::ImageStore(int64_t size, int64_t image_bytes, bool compressed)
    : image_bytes_(image_bytes), compressed_(compressed), labels_(size, 0) {
  if (compressed_) {
    blobs_.resize(size);
  } else {
    raw_.resize(static_cast<size_t>(size) * image_bytes);
  }
}

int64_t ImageStore::stored_bytes() const {
  if (!compressed_) return static_cast<int64_t>(raw_.size());
  int64_t total = 0;
  for (const std::string& blob : blobs_) total += blob.size();
  return total;
}

void ImageStore::Put(int64_t index, const uint8_t* pixels, int32_t label) {
  labels_[index] = label;
  if (compressed_) {
    blobs_[index] = CompressImage(pixels, image_bytes_);
  } else {
    std::memcpy(raw_.data() + index * image_bytes_, pixels, image_bytes_);
  }
}

void ImageStore::PutCompressed(int64_t index, std::string blob, int32_t label) {
  labels_[index] = label;
  blobs_[index] = std::move(blob);
}

void ImageStore::Read(int64_t index, uint8_t* pixels) const {
  if (!compressed_) {
    std::memcpy(pixels, raw_.data() + index * image_bytes_, image_bytes_);
    return;
  }
  if (!ThreadInflater().Inflate(blobs_[index], pixels, image_bytes_)) {
    std::memset(pixels, 0, image_bytes_);
  }
}

std::string CompressImage(const uint8_t* pixels, int64_t image_bytes) {
  uLongf size = compressBound(static_cast<uLong>(image_bytes));
  std::string blob(size, '\0');
  // Level 1: Pathfinder images are mostly black, so the fastest level
  // already shrinks them about tenfold.
  compress2(reinterpret_cast<Bytef*>(blob.data()), &size, pixels,
            static_cast<uLong>(image_bytes), 1);
  blob.resize(size);
  return blob;
}

bool CheckBlob(const std::string& blob, int64_t image_bytes) {
  std::vector<uint8_t> out(image_bytes);
  return ThreadInflater().Inflate(blob, out.data(), image_bytes);
}

std::string CacheShardPath(const std::string& cache_dir, uint64_t fingerprint,
                           Split split, int64_t shard) {
  return absl::StrFormat("%s/pathfinder-%016x-%s-%05d.zshard", cache_dir,
                         fingerprint, SplitName(split), shard);
}

absl::Status WriteCacheShard(const std::string& path, uint64_t fingerprint,
                             int resolution, Split split,
                             const CacheShard& shard) {
  std::error_code error;
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::InternalError(absl::StrCat(parent.string(),
                                            ": cannot create cache folder (",
                                            error.message(), ")"));
  }
  std::string data(kShardMagic, sizeof(kShardMagic));
  AppendLe(&data, fingerprint, 8);
  AppendLe(&data, resolution, 4);
  AppendLe(&data, static_cast<uint64_t>(split), 4);
  AppendLe(&data, shard.first_index, 8);
  AppendLe(&data, shard.labels.size(), 4);
  for (size_t i = 0; i < shard.labels.size(); ++i) {
    AppendLe(&data, shard.labels[i], 1);
    AppendLe(&data, shard.blobs[i].size(), 4);
  }
  for (const std::string& blob : shard.blobs) data += blob;
  // WriteFileAtomic writes a temporary file beside the shard, flushes it to
  // disk (fsync) and renames it into place: a reader, or a run after a
  // crash, sees either no shard or a whole one. Another process may write
  // the same shard at once; each writes its own temporary file (named by
  // its pid) and the rename makes either complete copy the result. The
  // temporary files of killed runs are removed by
  // RemoveStaleCacheTemporaries.
  absl::Status status = WriteFileAtomic(path, data);
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("cannot write cache shard: ", status.message()));
  }
  return absl::OkStatus();
}

int RemoveStaleCacheTemporaries(const std::string& cache_dir) {
  return RemoveStaleTemporaries(cache_dir, "pathfinder-");
}

absl::StatusOr<CacheShard> ReadCacheShard(const std::string& path,
                                          uint64_t fingerprint, int resolution,
                                          Split split, int64_t first_index,
                                          int64_t image_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": no such shard"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  if (data.size() < kHeaderBytes ||
      std::memcmp(data.data(), kShardMagic, sizeof(kShardMagic)) != 0) {
    return Damaged(path, "bad header");
  }
  if (ReadLe(data, 8, 8) != fingerprint) {
    return Damaged(path, "fingerprint of another config");
  }
  if (ReadLe(data, 16, 4) != static_cast<uint64_t>(resolution) ||
      ReadLe(data, 20, 4) != static_cast<uint64_t>(split) ||
      ReadLe(data, 24, 8) != static_cast<uint64_t>(first_index)) {
    return Damaged(path, "resolution, split or first index differ");
  }
  const uint64_t count = ReadLe(data, 32, 4);
  if (count > static_cast<uint64_t>(kImagesPerShard) ||
      data.size() < kHeaderBytes + count * kEntryBytes) {
    return Damaged(path, "truncated index");
  }
  CacheShard shard;
  shard.first_index = first_index;
  shard.labels.resize(count);
  shard.blobs.resize(count);
  size_t offset = kHeaderBytes + count * kEntryBytes;
  for (uint64_t i = 0; i < count; ++i) {
    const size_t entry = kHeaderBytes + i * kEntryBytes;
    shard.labels[i] = static_cast<int32_t>(ReadLe(data, entry, 1));
    const uint64_t size = ReadLe(data, entry + 1, 4);
    if (shard.labels[i] > 1 || offset + size > data.size()) {
      return Damaged(path, absl::StrCat("entry ", i, " is out of range"));
    }
    shard.blobs[i] = data.substr(offset, size);
    offset += size;
    if (!CheckBlob(shard.blobs[i], image_bytes)) {
      return Damaged(path, absl::StrCat("image ", first_index + i,
                                        " does not decompress"));
    }
  }
  if (offset != data.size()) return Damaged(path, "trailing bytes");
  return shard;
}

}  // namespace pathfinder
}  // namespace lra
