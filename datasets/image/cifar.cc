#include "datasets/image/cifar.h"

#include <fstream>
#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {
namespace image {

uint8_t LraGray(uint8_t red, uint8_t green, uint8_t blue) {
  // convert_image_dtype(uint8 -> float32) multiplies by 1/255 as a float32.
  const float to_unit = static_cast<float>(1.0 / 255.0);
  const float r = static_cast<float>(red) * to_unit;
  const float g = static_cast<float>(green) * to_unit;
  const float b = static_cast<float>(blue) * to_unit;
  // Separate statements keep the compiler from fusing multiply and add.
  float gray = r * 0.2989f;
  gray += g * 0.5870f;
  gray += b * 0.1140f;
  // convert_image_dtype(float32 -> uint8) scales by 255 + 0.5 and casts,
  // which truncates; the weights sum to 0.9999, so white stays 255.
  const float scaled = gray * 255.5f;
  if (scaled <= 0) return 0;
  if (scaled >= 255) return 255;
  return static_cast<uint8_t>(scaled);
}

absl::StatusOr<GrayImages> ReadCifarBatch(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open CIFAR-10 batch '", path, "'"));
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::DataLossError(
        absl::StrCat("error reading CIFAR-10 batch '", path, "'"));
  }
  const int64_t records = bytes.size() / kCifarRecordBytes;
  if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": record ", records, " is cut short: the file has ",
                     bytes.size(), " bytes (allowed: a positive multiple of ",
                     kCifarRecordBytes,
                     ", 1 label byte + 3 x 32 x 32 pixel bytes per "
                     "record)"));
  }
  GrayImages images;
  images.pixels.resize(records * kCifarPixels);
  images.labels.resize(records);
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t* record = bytes.data() + r * kCifarRecordBytes;
    if (record[0] >= kCifarClasses) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": record ", r, " (byte offset ", r * kCifarRecordBytes,
          ") has label ", record[0], " (allowed: 0..9)"));
    }
    images.labels[r] = record[0];
    const uint8_t* red = record + 1;
    const uint8_t* green = red + kCifarPixels;
    const uint8_t* blue = green + kCifarPixels;
    uint8_t* out = images.pixels.data() + r * kCifarPixels;
    for (int p = 0; p < kCifarPixels; ++p) {
      out[p] = LraGray(red[p], green[p], blue[p]);
    }
  }
  return images;
}

std::string CifarBatchPath(const std::string& dir, int batch) {
  if (batch == 0) return absl::StrCat(dir, "/test_batch.bin");
  return absl::StrCat(dir, "/data_batch_", batch, ".bin");
}

absl::StatusOr<GrayImages> ReadCifarSplit(const std::string& dir, int split) {
  if (split == 2) return ReadCifarBatch(CifarBatchPath(dir, 0));
  GrayImages pool;
  for (int batch = 1; batch <= kCifarTrainBatches; ++batch) {
    ASSIGN_OR_RETURN(GrayImages part,
                     ReadCifarBatch(CifarBatchPath(dir, batch)));
    pool.pixels.insert(pool.pixels.end(), part.pixels.begin(),
                       part.pixels.end());
    pool.labels.insert(pool.labels.end(), part.labels.begin(),
                       part.labels.end());
  }
  const int64_t train = CifarTrainImages(pool.size());
  const int64_t begin = split == 0 ? 0 : train;
  const int64_t end = split == 0 ? train : pool.size();
  GrayImages out;
  out.pixels.assign(pool.pixels.begin() + begin * kCifarPixels,
                    pool.pixels.begin() + end * kCifarPixels);
  out.labels.assign(pool.labels.begin() + begin, pool.labels.begin() + end);
  return out;
}

}  // namespace image
}  // namespace lra
