// Reader for CIFAR-10's binary batches (cifar-10-batches-bin:
// data_batch_{1..5}.bin and test_batch.bin). Each record is 3073 bytes: a
// label byte 0..9, then the 32x32 red, green and blue planes, row-major.
//
// Images are converted to grayscale as LRA does (tf.image.rgb_to_grayscale
// on uint8 images): each channel is scaled to [0, 1] by 1/255 in float32,
// weighted 0.2989 R + 0.5870 G + 0.1140 B, scaled back by 255.5 and
// truncated to uint8. Sums are taken left to right in float32 without
// fused multiply-add; TensorFlow's contraction may round differently in
// the last bit, which changes a pixel by 1 only when the scaled value is
// within float rounding of an integer.
#ifndef LRA_DATASETS_IMAGE_CIFAR_H_
#define LRA_DATASETS_IMAGE_CIFAR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lra {
namespace image {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarPixels = kCifarSide * kCifarSide;
inline constexpr int kCifarRecordBytes = 1 + 3 * kCifarPixels;
inline constexpr int kCifarClasses = 10;
// data_batch_1.bin .. data_batch_5.bin form the training pool.
inline constexpr int kCifarTrainBatches = 5;

// DIR/data_batch_<batch>.bin for batch 1..5, DIR/test_batch.bin for 0.
std::string CifarBatchPath(const std::string& dir, int batch);

// Images of a training pool of `pool` images that go to train (the first
// 90%); the rest are val.
inline int64_t CifarTrainImages(int64_t pool) { return pool - pool / 10; }

// LRA's grayscale value of one RGB pixel.
uint8_t LraGray(uint8_t red, uint8_t green, uint8_t blue);

struct GrayImages {
  std::vector<uint8_t> pixels;  // [images, 32 * 32] row-major
  std::vector<int32_t> labels;  // [images]
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Reads every record of one batch file and converts it to grayscale. A
// missing file is NotFound naming it; a size that is not a whole number of
// records, or a label above 9, is InvalidArgument naming the file and the
// record.
absl::StatusOr<GrayImages> ReadCifarBatch(const std::string& path);

// LRA's splits of CIFAR-10 in directory `dir`: the five training batches
// in order form the training pool, whose first 90% are train and last 10%
// val (45000 / 5000 for the real files); test is test_batch.bin. (tfds,
// which LRA reads, shuffles the pool when preparing it, so LRA's 5000
// validation images are a different 10%; the sizes are the same.)
// `split` is 0 = train, 1 = val, 2 = test.
absl::StatusOr<GrayImages> ReadCifarSplit(const std::string& dir, int split);

}  // namespace image
}  // namespace lra

#endif  // LRA_DATASETS_IMAGE_CIFAR_H_
