// Drawing parameters of Pathfinder images: the per-resolution settings LRA
// used with Linsley et al.'s generator (lra_benchmarks/data/pathfinder.py),
// and the resolved parameters of one config.
#ifndef LRA_DATASETS_PATHFINDER_PARAMS_H_
#define LRA_DATASETS_PATHFINDER_PARAMS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"

namespace lra {
namespace pathfinder {

// Pixels 0..255 become tokens 1..256, so that a black pixel is never taken
// for the padding id 0 (the encoder masks id 0 out of attention).
inline constexpr int kVocabSize = 257;
inline constexpr int kNumClasses = 2;

// LRA's split of 200k images per difficulty: 80/10/10.
inline constexpr int kDefaultTrainSize = 160000;
inline constexpr int kDefaultValSize = 20000;
inline constexpr int kDefaultTestSize = 20000;
inline constexpr int kDefaultResolution = 32;
inline constexpr int kPathXResolution = 128;
inline constexpr int kDefaultContourLength = 14;
// A negative example keeps at least one paddle of the phantom contour at each
// marker and drops at least two between them (see generator.h).
inline constexpr int kMinContourLength = 4;
// Longer contours do not fit reliably into a 32-pixel image.
inline constexpr int kMaxContourLength = 14;
inline constexpr int kMaxDistractors = 100;
inline constexpr int kDefaultMaxMemoryMb = 1024;

// The settings of one resolution, in pixels of the final image. A contour
// is a chain of paddles (segments of `paddle_length` and `thickness`); the
// gap between consecutive paddles is about 2 * margin, and different
// contours keep about `margin` pixels apart.
struct ResolutionStyle {
  int resolution = 0;
  double paddle_length = 0;
  // Each image picks its margin uniformly from margins[0..margin_count).
  int margins[2] = {0, 0};
  int margin_count = 0;
  double thickness = 0;
  double marker_radius = 0;
  // The first marker lies at least 2 * seed_distance from every border, as
  // in the reference generator.
  int seed_distance = 0;
  // Turning sharpness: the angle between consecutive paddles has density
  // proportional to cos^2(continuity * angle), up to 90 / continuity
  // degrees.
  double continuity = 0;
  // Ink stays this far from the borders.
  int padding = 0;
  // Paddle brightness relative to the markers (LRA's snake x paddle
  // contrast); values above 1 saturate thin paddles.
  double contrast = 0;
  // The reference distractor count is distractor_budget / distractor
  // length (integer division, as in the reference: 20 / 4 = 5 at 32).
  int distractor_budget = 0;
  // Whether paddles are centred on pixel centres (generator v2, 32 and 20
  // pixels; see generator.h).
  bool snap_to_pixel_centres = false;
  // The longest contour_length whose three long contours fit: beyond it
  // most scenes would run out of attempts.
  int max_contour_length = kMaxContourLength;
};

// The style of `resolution`, or nullptr when it is not 20, 32, 64, 128 or
// 256.
const ResolutionStyle* FindResolutionStyle(int resolution);

// Everything the generator needs, resolved from a PathfinderConfig.
struct PathfinderParams {
  ResolutionStyle style;
  int contour_length = 0;
  // A third of contour_length, at least 1.
  int distractor_length = 0;
  int distractors = 0;
};

// Default distractor count of a resolution and contour length.
int ReferenceDistractors(const ResolutionStyle& style, int contour_length);

// Fills zero fields of `config` (resolution from `default_resolution`,
// contour_length 14, distractors from the reference, max_memory_mb 1024)
// and validates it. Errors name the field as `field_prefix` + name, e.g.
// "task.pathfinder.resolution".
absl::Status ResolvePathfinderConfig(PathfinderConfig* config,
                                     int default_resolution,
                                     const std::string& field_prefix);

// Generator parameters of a resolved config.
absl::StatusOr<PathfinderParams> MakePathfinderParams(
    const PathfinderConfig& config);

// Folder name of a difficulty in LRA's release (curv_baseline,
// curv_contour_length_9, curv_contour_length_14), or "" for other lengths.
std::string DifficultyFolder(int contour_length);

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_PARAMS_H_
