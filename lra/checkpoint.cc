#include "lra/checkpoint.h"

#include <zlib.h>

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "config/text_proto.h"

namespace lra {
namespace {

constexpr char kMagic[8] = {'L', 'R', 'A', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeaderSize = 8 + 8 + 4 + 4;

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// A bounds-checked reader over the decompressed payload.
class Reader {
 public:
  explicit Reader(const std::string& data) : data_(data) {}
  template <typename T>
  bool Get(T* value) {
    if (pos_ + sizeof(T) > data_.size()) return false;
    std::memcpy(value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetBytes(size_t n, const char** bytes) {
    if (pos_ + n > data_.size() || pos_ + n < pos_) return false;
    *bytes = data_.data() + pos_;
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, int64_t step,
                            const std::string& metadata,
                            const NamedTensors& tensors) {
  std::string payload;
  Put<int64_t>(&payload, step);
  Put<uint64_t>(&payload, metadata.size());
  payload.append(metadata);
  Put<uint64_t>(&payload, tensors.size());
  for (const auto& [name, tensor] : tensors) {
    Put<uint32_t>(&payload, name.size());
    payload.append(name);
    Put<uint64_t>(&payload, tensor->size());
    payload.append(reinterpret_cast<const char*>(tensor->data()),
                   tensor->size() * sizeof(float));
  }
  uLongf compressed_size = compressBound(payload.size());
  std::string file(kHeaderSize + compressed_size, '\0');
  int rc =
      compress2(reinterpret_cast<Bytef*>(&file[kHeaderSize]), &compressed_size,
                reinterpret_cast<const Bytef*>(payload.data()), payload.size(),
                Z_BEST_SPEED);
  if (rc != Z_OK) {
    return absl::InternalError(
        absl::StrCat(path, ": zlib compression failed (", rc, ")"));
  }
  file.resize(kHeaderSize + compressed_size);
  uint64_t raw_size = payload.size();
  uint32_t crc =
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  uint32_t reserved = 0;
  std::memcpy(&file[0], kMagic, 8);
  std::memcpy(&file[8], &raw_size, 8);
  std::memcpy(&file[16], &crc, 4);
  std::memcpy(&file[20], &reserved, 4);
  return WriteFileAtomic(path, file);
}

namespace {

// The decompressed, CRC-checked payload of the checkpoint at `path`.
absl::Status ReadPayload(const std::string& path, std::string* payload_out) {
  std::string file;
  absl::Status status = ReadFile(path, &file);
  if (!status.ok()) return status;
  auto corrupt = [&path](const std::string& what) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt checkpoint (", what,
                     "); delete it to start the run afresh"));
  };
  if (file.size() < kHeaderSize || std::memcmp(file.data(), kMagic, 8) != 0) {
    return corrupt("not an LRA checkpoint: bad magic or too short");
  }
  uint64_t raw_size;
  uint32_t crc;
  std::memcpy(&raw_size, &file[8], 8);
  std::memcpy(&crc, &file[16], 4);
  // zlib inflates at most about 1032:1; a declared size the compressed bytes
  // cannot hold is refused before allocating it.
  if (raw_size > (uint64_t{1} << 40) ||
      raw_size > (file.size() - kHeaderSize) * 1032 + 64) {
    return corrupt(absl::StrCat("declared size ", raw_size,
                                " is larger than the file can hold"));
  }
  std::string payload(raw_size, '\0');
  uLongf out_size = raw_size;
  int rc = uncompress(reinterpret_cast<Bytef*>(&payload[0]), &out_size,
                      reinterpret_cast<const Bytef*>(&file[kHeaderSize]),
                      file.size() - kHeaderSize);
  if (rc != Z_OK || out_size != raw_size) {
    return corrupt(absl::StrCat("zlib error ", rc, ", truncated or damaged"));
  }
  if (crc32(0L, reinterpret_cast<const Bytef*>(payload.data()),
            payload.size()) != crc) {
    return corrupt("CRC mismatch");
  }
  *payload_out = std::move(payload);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadCheckpointMetadata(const std::string& path, int64_t* step,
                                    std::string* metadata) {
  std::string payload;
  absl::Status status = ReadPayload(path, &payload);
  if (!status.ok()) return status;
  Reader reader(payload);
  int64_t saved_step;
  uint64_t meta_size;
  const char* bytes;
  if (!reader.Get(&saved_step) || !reader.Get(&meta_size) ||
      !reader.GetBytes(meta_size, &bytes)) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt checkpoint (header fields)"));
  }
  *step = saved_step;
  *metadata = std::string(bytes, meta_size);
  return absl::OkStatus();
}

absl::Status LoadCheckpoint(const std::string& path, int64_t* step,
                            std::string* metadata,
                            const NamedTensors& tensors) {
  std::string payload;
  absl::Status status = ReadPayload(path, &payload);
  if (!status.ok()) return status;
  auto corrupt = [&path](const std::string& what) {
    return absl::DataLossError(
        absl::StrCat(path, ": corrupt checkpoint (", what,
                     "); delete it to start the run afresh"));
  };
  Reader reader(payload);
  int64_t saved_step;
  uint64_t meta_size, count;
  const char* bytes;
  if (!reader.Get(&saved_step) || !reader.Get(&meta_size) ||
      !reader.GetBytes(meta_size, &bytes)) {
    return corrupt("header fields");
  }
  std::string saved_meta(bytes, meta_size);
  if (!reader.Get(&count)) return corrupt("tensor count");
  std::map<std::string, std::pair<const char*, uint64_t>> stored;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t name_size;
    uint64_t values;
    const char* name;
    if (!reader.Get(&name_size) || !reader.GetBytes(name_size, &name) ||
        !reader.Get(&values) ||
        !reader.GetBytes(values * sizeof(float), &bytes)) {
      return corrupt(absl::StrCat("tensor record ", i));
    }
    stored[std::string(name, name_size)] = {bytes, values};
  }
  if (!reader.done()) return corrupt("trailing bytes");
  // Check everything before touching any tensor.
  for (const auto& [name, tensor] : tensors) {
    auto it = stored.find(name);
    if (it == stored.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": checkpoint has no tensor '", name,
                       "'; it was written by a different model configuration"));
    }
    if (it->second.second != static_cast<uint64_t>(tensor->size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": tensor '", name, "' has ", it->second.second,
          " values in the checkpoint but the model expects ", tensor->size(),
          "; it was written by a different model configuration"));
    }
  }
  if (stored.size() != tensors.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": checkpoint holds ", stored.size(), " tensors, the model ",
        tensors.size(), "; it was written by a different model configuration"));
  }
  for (const auto& [name, tensor] : tensors) {
    const auto& entry = stored[name];
    std::memcpy(tensor->data(), entry.first, entry.second * sizeof(float));
  }
  *step = saved_step;
  *metadata = std::move(saved_meta);
  return absl::OkStatus();
}

}  // namespace lra
