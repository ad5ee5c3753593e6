// A hand-written classifier for the image stand-in, used by tests to show
// that the label is determined by the picture: smooth, threshold (Otsu),
// then count objects and holes and measure how long and how solid each
// object is. Test-only.
#ifndef LRA_DATASETS_IMAGE_ORACLE_H_
#define LRA_DATASETS_IMAGE_ORACLE_H_

#include <cstdint>

#include "absl/types/span.h"

namespace lra {
namespace image {

struct ShapeFeatures {
  int objects = 0;  // Connected ink regions (8-connected).
  int holes = 0;    // Enclosed background regions (4-connected).
  // Largest ratio of an object's long to short axis (second moments).
  double max_elongation = 0;
  // Of a single object: its area over that of the smallest centered disk
  // that holds it.
  double solidity = 0;
};

// Features of a size x size image given as tokens (pixel + 1).
ShapeFeatures DescribeImage(absl::Span<const int32_t> tokens, int size);

// The class the features point to (generator.h's numbering), or -1.
int ClassifyShapes(const ShapeFeatures& features);

}  // namespace image
}  // namespace lra

#endif  // LRA_DATASETS_IMAGE_ORACLE_H_
