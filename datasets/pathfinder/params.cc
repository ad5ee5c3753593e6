#include "datasets/pathfinder/params.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace lra {
namespace pathfinder {
namespace {

// From the docstrings of lra_benchmarks/data/pathfinder.py. Fields the
// docstrings leave out take the reference generator's defaults (padding 22,
// seed distance 27, paddle length 5, paddle contrast 1). The thickness is the
// full paddle width in pixels of the final image.
constexpr ResolutionStyle kStyles[] = {
    // 20: not one of LRA's sizes; the short Pathfinder of the quick suite
    // (issue 12), 400 tokens. The strokes of 32 pixels (paddle 2, margin 1,
    // thickness 0.5, marker radius 1.5, seed distance 7, continuity 1.0,
    // contrast 1.5, on pixel centres) in 39% of the area; 2 x 7 exceeds half
    // the image, so the pair starts around the image's centre. Distractor
    // budget 8: 32's 20 over the area. Three long contours of 4 paddles take
    // about 18 scene attempts, of 5 about 75, of 6 about 1000 (the limit is
    // 2000), so contours stop at 5. At 16 pixels no scene of 4 paddles fit
    // in 2000 attempts, even with markers of radius 1.
    {20, 2.0, {1, 1}, 1, 0.5, 1.5, 7, 1.0, 1, 1.5, 8, true, 5},
    // 32: paddle_length 2, margin 1, seed_distance 7, continuity 1.0,
    // snake contrast 2 x paddle contrast 0.75. Paddles are centred on pixel
    // centres, like the reference's, whose paddle ends and pivots are
    // integer coordinates (generator v2).
    {32, 2.0, {1, 1}, 1, 0.5, 1.5, 7, 1.0, 1, 1.5, 20, true},
    // Continuity 1.4 (the reference generator's default) instead of LRA's
    // 1.8: with 1.8, 14-paddle contours (98 pixels) are nearly straight
    // and three of them rarely fit in 62 pixels (see generator.h).
    {64, 5.0, {1, 1}, 1, 1.0, 2.5, 12, 1.4, 1, 0.8, 22},
    // Path-X: margins 2 or 3, chosen per image.
    {128, 5.0, {2, 3}, 2, 1.5, 3.0, 20, 1.8, 1, 0.9, 35},
    {256, 5.0, {3, 3}, 1, 2.0, 5.0, 27, 1.8, 22, 1.0, 30},
};

absl::Status Invalid(const std::string& prefix, absl::string_view field,
                     int64_t value, absl::string_view allowed) {
  return absl::InvalidArgumentError(absl::StrCat(
      prefix, field, " = ", value, " is invalid (allowed: ", allowed, ")"));
}

}  // namespace

const ResolutionStyle* FindResolutionStyle(int resolution) {
  for (const ResolutionStyle& style : kStyles) {
    if (style.resolution == resolution) return &style;
  }
  return nullptr;
}

int ReferenceDistractors(const ResolutionStyle& style, int contour_length) {
  const int length = std::max(1, contour_length / 3);
  return style.distractor_budget / length;
}

absl::Status ResolvePathfinderConfig(PathfinderConfig* config,
                                     int default_resolution,
                                     const std::string& field_prefix) {
  if (config->resolution() == 0) config->set_resolution(default_resolution);
  const ResolutionStyle* style = FindResolutionStyle(config->resolution());
  if (style == nullptr) {
    return Invalid(field_prefix, "resolution", config->resolution(),
                   "20, 32, 64, 128 or 256, or 0 for the task's default");
  }
  if (config->contour_length() == 0) {
    config->set_contour_length(kDefaultContourLength);
  }
  if (config->contour_length() < kMinContourLength ||
      config->contour_length() > style->max_contour_length) {
    return Invalid(
        field_prefix, "contour_length", config->contour_length(),
        style->max_contour_length == kMaxContourLength
            ? absl::StrCat(kMinContourLength, " to ", kMaxContourLength,
                           " paddles (LRA: 6, 9, 14), or 0 for 14")
            : absl::StrCat(kMinContourLength, " to ", style->max_contour_length,
                           " paddles at ", style->resolution, " pixels"));
  }
  if (config->distractors() == 0) {
    config->set_distractors(
        ReferenceDistractors(*style, config->contour_length()));
  }
  if (config->distractors() < -1 || config->distractors() > kMaxDistractors) {
    return Invalid(field_prefix, "distractors", config->distractors(),
                   absl::StrCat("1 to ", kMaxDistractors,
                                ", 0 for the reference count, -1 for none"));
  }
  if (config->max_memory_mb() == 0) {
    config->set_max_memory_mb(kDefaultMaxMemoryMb);
  }
  if (config->max_memory_mb() < 0) {
    return Invalid(field_prefix, "max_memory_mb", config->max_memory_mb(),
                   "> 0, or 0 for 1024");
  }
  return absl::OkStatus();
}

absl::StatusOr<PathfinderParams> MakePathfinderParams(
    const PathfinderConfig& config) {
  PathfinderConfig resolved = config;
  RETURN_IF_ERROR(
      ResolvePathfinderConfig(&resolved, kDefaultResolution, "pathfinder."));
  PathfinderParams params;
  params.style = *FindResolutionStyle(resolved.resolution());
  params.contour_length = resolved.contour_length();
  params.distractor_length = std::max(1, params.contour_length / 3);
  params.distractors = std::max(0, resolved.distractors());
  return params;
}

std::string DifficultyFolder(int contour_length) {
  switch (contour_length) {
    case 6:
      return "curv_baseline";
    case 9:
      return "curv_contour_length_9";
    case 14:
      return "curv_contour_length_14";
  }
  return "";
}

}  // namespace pathfinder
}  // namespace lra
