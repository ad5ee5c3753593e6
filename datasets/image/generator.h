// The built-in stand-in for LRA's Image task (used when task.image.data_dir
// is empty): procedurally drawn grayscale images in 10 classes that differ
// only in global structure, i.e. how many objects there are, how many
// holes, and whether a part is long and thin:
//
//   0 disk          1 ring            2 bar             3 cross
//   4 two disks     5 three disks     6 four disks      7 eye (ring + dot)
//   8 figure eight (two joined rings)                   9 disk and bar
//
// Construction of example (data_seed, split, index), from its own stream:
// - label uniform over the 10 classes; ink area A uniform in
//   [0.12, 0.18] * size^2 pixels, independent of the label; each class
//   draws its proportions (ring thickness, bar aspect 3..4, ...) and is
//   scaled so its area is about A;
// - random position (objects at least 3 pixels apart, inside the image),
//   rotation, background level, contrast and polarity (dark or light
//   shapes), a faint grating texture, and Gaussian noise of `noise` times
//   the contrast; the shape is rendered with 4 x 4 supersampling;
// - the pixel values are then replaced, rank for rank, by a sorted sample
//   of "background + A pixels of ink + texture + noise" drawn from the
//   same label-independent parameters. The picture keeps its structure,
//   but its pixel histogram is exactly independent of the label.
//
// Tokens are pixel + 1 (vocabulary 257), row-major.
#ifndef LRA_DATASETS_IMAGE_GENERATOR_H_
#define LRA_DATASETS_IMAGE_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace image {

inline constexpr int kNumShapeClasses = 10;
// Below 24 pixels the smallest holes close; above 64 the generator's stack
// scratch would grow past 64 KB.
inline constexpr int kMinImageSize = 24;
inline constexpr int kMaxImageSize = 64;

// "disk", "ring", ... for labels 0..9.
absl::string_view ShapeClassName(int label);

// Checks the stand-in fields of a resolved config against task.seq_len;
// `field_prefix` is prepended to field names in errors.
absl::Status ValidateImageStandIn(const ImageConfig& config, int seq_len,
                                  const std::string& field_prefix);

// Writes stand-in example `index` of `split` as image_size^2 tokens
// (pixel + 1) and returns its label. `config` must have passed
// ValidateImageStandIn. Thread-safe and allocation-free.
int32_t GenerateImageExample(const ImageConfig& config, uint64_t data_seed,
                             Split split, int64_t index, int32_t* tokens);

}  // namespace image
}  // namespace lra

#endif  // LRA_DATASETS_IMAGE_GENERATOR_H_
