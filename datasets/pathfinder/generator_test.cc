#include "datasets/pathfinder/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "datasets/common/random.h"
#include "datasets/pathfinder/params.h"
#include "gtest/gtest.h"

namespace lra {
namespace pathfinder {
namespace {

constexpr double kPi = 3.14159265358979323846;

PathfinderParams ParamsFor(int resolution, int contour_length,
                           int distractors = 0) {
  PathfinderConfig config;
  config.set_resolution(resolution);
  config.set_contour_length(contour_length);
  config.set_distractors(distractors);
  absl::StatusOr<PathfinderParams> params = MakePathfinderParams(config);
  EXPECT_TRUE(params.ok()) << params.status();
  return *params;
}

double SegmentDistance(double px, double py, const Paddle& p) {
  const double dx = p.x1 - p.x0, dy = p.y1 - p.y0;
  const double t = std::clamp(
      ((px - p.x0) * dx + (py - p.y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(px - (p.x0 + t * dx), py - (p.y0 + t * dy));
}

// Distance between two segments (they never cross when this is > 0).
double PaddleDistance(const Paddle& a, const Paddle& b) {
  return std::min(
      {SegmentDistance(a.x0, a.y0, b), SegmentDistance(a.x1, a.y1, b),
       SegmentDistance(b.x0, b.y0, a), SegmentDistance(b.x1, b.y1, a)});
}

TEST(OccupancyGridTest, StampClaimsExactlyTheCellsWithinTheRadius) {
  // Cells are half a pixel at 32 pixels; cell (r, c) is centred at
  // ((c + 0.5) / 2, (r + 0.5) / 2). A one-cell disc query reads one cell.
  Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    OccupancyGrid grid;
    grid.Reset(32);
    const double x0 = 4 + 24 * rng.UniformDouble();
    const double y0 = 4 + 24 * rng.UniformDouble();
    const double x1 = x0 + 6 * (rng.UniformDouble() - 0.5);
    const double y1 = y0 + 6 * (rng.UniformDouble() - 0.5);
    const double radius = 0.5 + 3 * rng.UniformDouble();
    grid.Stamp(x0, y0, x1, y1, radius, /*owner=*/3);
    const Paddle segment{x0, y0, x1, y1, 1, 0};
    for (int r = 0; r < 64; ++r) {
      for (int c = 0; c < 64; ++c) {
        const double cx = (c + 0.5) / 2, cy = (r + 0.5) / 2;
        const double distance = x0 == x1 && y0 == y1
                                    ? std::hypot(cx - x0, cy - y0)
                                    : SegmentDistance(cx, cy, segment);
        // Skip centres within rounding of the boundary.
        if (std::abs(distance - radius) < 1e-9) continue;
        const bool claimed = !grid.IsDiscFree(cx, cy, 0.01, 0, 0);
        EXPECT_EQ(claimed, distance < radius)
            << "trial " << trial << " cell " << r << "," << c;
        // The owner itself is ignored.
        EXPECT_TRUE(grid.IsDiscFree(cx, cy, 0.01, 3, 0));
      }
    }
    // Erasing undoes the stamp exactly.
    grid.Erase(x0, y0, x1, y1, radius, /*owner=*/3);
    EXPECT_TRUE(grid.IsDiscFree(16, 16, 40, 0, 0));
  }
}

TEST(OccupancyGridTest, IgnoresAClaimOnlyWhileItIsTheOnlyOne) {
  OccupancyGrid grid;
  grid.Reset(32);
  grid.Stamp(10, 10, 10, 10, 2, /*owner=*/1);
  // Owner 1's cells are free for owner 1, not for others.
  EXPECT_TRUE(grid.IsFree(9, 10, 9.5, 10, 1, 0));
  EXPECT_FALSE(grid.IsFree(9, 10, 9.5, 10, 2, 0));
  grid.Stamp(11, 10, 11, 10, 2, /*owner=*/2);
  // Where both claim, ignoring one (or both) does not free the cell.
  EXPECT_FALSE(grid.IsFree(10.5, 8.5, 10.5, 11.5, 2, 0));
  EXPECT_FALSE(grid.IsFree(10.5, 8.5, 10.5, 11.5, 1, 2));
  // Erasing owner 2 leaves owner 1's claims as they were...
  grid.Erase(11, 10, 11, 10, 2, /*owner=*/2);
  EXPECT_TRUE(grid.IsFree(9, 10, 9.5, 10, 1, 0));
  // ...and erasing owner 1 frees everything, even though owner 2 claimed
  // some of its cells after it and was erased before it.
  grid.Erase(10, 10, 10, 10, 2, /*owner=*/1);
  EXPECT_TRUE(grid.IsDiscFree(16, 16, 40, 0, 0));
  // A segment passing just outside a claim is free; out of the image never.
  grid.Stamp(10, 10, 10, 10, 2, /*owner=*/1);
  EXPECT_TRUE(grid.IsFree(14, 4, 14, 20, 0, 0));
  EXPECT_FALSE(grid.IsFree(30, 30, 33, 30, 0, 0));
  // A later claim erased first leaves the first one intact: the holes the
  // old first-owner-only grid left are gone.
  grid.Stamp(11, 10, 11, 10, 2, /*owner=*/2);
  grid.Erase(11, 10, 11, 10, 2, /*owner=*/2);
  EXPECT_FALSE(grid.IsFree(11, 10, 11.5, 10, 2, 0));
}

// Zones live in their own layer: ignoring a zone does not ignore a paddle
// inside it.
TEST(OccupancyGridTest, ZonesDoNotHidePaddles) {
  OccupancyGrid grid;
  grid.Reset(32);
  const uint16_t zone = OccupancyGrid::kFirstZoneOwner + 1;
  grid.Stamp(16, 16, 16, 16, 5, zone);
  grid.Stamp(16, 14, 18, 14, 1, /*owner=*/7);
  EXPECT_TRUE(grid.IsFree(12, 18, 13, 18, zone, 0));
  EXPECT_FALSE(grid.IsFree(16, 14.5, 17, 14.5, zone, 0));
  EXPECT_TRUE(grid.IsFree(16, 14.5, 17, 14.5, zone, 7));
}

TEST(GeneratorTest, SameSeedSplitAndIndexGiveTheSameImage) {
  const PathfinderGenerator generator(ParamsFor(32, 14));
  GeneratorScratch scratch;
  std::vector<std::vector<uint8_t>> first(12, std::vector<uint8_t>(32 * 32));
  std::vector<int32_t> labels(12);
  for (int i = 0; i < 12; ++i) {
    labels[i] =
        generator.Generate(5, Split::kTrain, i, &scratch, first[i].data());
  }
  // Again in reverse order with fresh scratch memory.
  GeneratorScratch other;
  std::vector<uint8_t> pixels(32 * 32);
  for (int i = 11; i >= 0; --i) {
    EXPECT_EQ(generator.Generate(5, Split::kTrain, i, &other, pixels.data()),
              labels[i]);
    EXPECT_EQ(pixels, first[i]) << "image " << i;
  }
  // Other indices, splits and seeds give other images.
  EXPECT_NE(first[0], first[1]);
  generator.Generate(5, Split::kVal, 0, &other, pixels.data());
  EXPECT_NE(pixels, first[0]);
  generator.Generate(6, Split::kTrain, 0, &other, pixels.data());
  EXPECT_NE(pixels, first[0]);
}

TEST(GeneratorTest, LabelsAreBalanced) {
  const PathfinderGenerator generator(ParamsFor(32, 6));
  GeneratorScratch scratch;
  std::vector<uint8_t> pixels(32 * 32);
  int positives = 0;
  constexpr int kImages = 1000;
  for (int i = 0; i < kImages; ++i) {
    positives +=
        generator.Generate(0, Split::kTrain, i, &scratch, pixels.data());
  }
  // A fair coin: 500 +- 47 is three standard deviations.
  EXPECT_NEAR(positives, kImages / 2, 47);
}

// Checks the geometry of `images` scenes of one setting.
void CheckScenes(int resolution, int contour_length, int images,
                 int distractors = 0) {
  SCOPED_TRACE("resolution " + std::to_string(resolution) + ", length " +
               std::to_string(contour_length));
  const PathfinderParams params =
      ParamsFor(resolution, contour_length, distractors);
  const ResolutionStyle& style = params.style;
  const PathfinderGenerator generator(params);
  GeneratorScratch scratch;
  std::vector<uint8_t> pixels(generator.image_size());
  // Grid quantisation: half a cell diagonal plus half the sampling step.
  const double tolerance = (resolution <= 64 ? 0.5 : 1.0) * 1.25;
  const double half = style.thickness / 2;
  for (int i = 0; i < images; ++i) {
    ASSERT_TRUE(generator.DrawScene(3, Split::kTest, i, &scratch)) << i;
    const Scene& scene = scratch.scene;
    const double g = scene.margin;
    ASSERT_GE(scene.attempts, 1);
    ASSERT_LE(scene.attempts, kMaxSceneAttempts);
    // Three long contours, then at most `distractors` short ones.
    ASSERT_GE(scene.contours.size(), 3u);
    ASSERT_LE(scene.contours.size(), 3u + params.distractors);
    std::vector<int> contour_of(scene.paddles.size(), -1);
    for (size_t c = 0; c < scene.contours.size(); ++c) {
      const ContourSpan& span = scene.contours[c];
      EXPECT_EQ(span.count, c < 3 ? contour_length : params.distractor_length);
      for (int k = span.first; k < span.first + span.count; ++k) {
        contour_of[k] = static_cast<int>(c);
        const Paddle& p = scene.paddles[k];
        EXPECT_NEAR(std::hypot(p.x1 - p.x0, p.y1 - p.y0), style.paddle_length,
                    1e-9);
        const double lo = style.padding + half, hi = resolution - lo;
        EXPECT_TRUE(p.x0 >= lo && p.x1 >= lo && p.y0 >= lo && p.y1 >= lo &&
                    p.x0 <= hi && p.x1 <= hi && p.y0 <= hi && p.y1 <= hi);
        if (k == span.first) continue;
        // Consecutive paddles: the gap of the reference (a pivot `margin`
        // beyond the end) and a turn within the continuity cone. Paddles
        // centred on pixel centres (v2, 32 pixels) move by up to half a
        // pixel along each axis.
        const Paddle& q = scene.paddles[k - 1];
        const double shift = style.snap_to_pixel_centres ? 0.5 + 1e-9 : 1e-9;
        EXPECT_NEAR(p.x0, q.x1 + g * (q.ux + p.ux), shift);
        EXPECT_NEAR(p.y0, q.y1 + g * (q.uy + p.uy), shift);
        const double turn =
            std::acos(std::clamp(q.ux * p.ux + q.uy * p.uy, -1.0, 1.0));
        EXPECT_LE(turn, kPi / (2 * style.continuity) + 1e-9);
      }
    }
    // Markers on the ends the label names.
    const int length = contour_length;
    const Paddle& first = scene.paddles[scene.label == 1 ? 0 : length];
    EXPECT_DOUBLE_EQ(scene.marker_x[0], first.x0);
    EXPECT_DOUBLE_EQ(scene.marker_y[0], first.y0);
    if (scene.label == 1) {
      EXPECT_DOUBLE_EQ(scene.marker_x[1], scene.paddles[length - 1].x1);
      EXPECT_DOUBLE_EQ(scene.marker_y[1], scene.paddles[length - 1].y1);
    } else {
      EXPECT_DOUBLE_EQ(scene.marker_x[1], scene.paddles[2 * length].x0);
      EXPECT_DOUBLE_EQ(scene.marker_y[1], scene.paddles[2 * length].y0);
    }
    const int marker_contour[2] = {scene.label == 1 ? 0 : 1,
                                   scene.label == 1 ? 0 : 2};
    // Ink of different contours keeps 1.5 * margin apart; nothing but the
    // marked contour comes within 2.5 * margin of a marker.
    for (size_t a = 0; a < scene.paddles.size(); ++a) {
      for (size_t b = a + 1; b < scene.paddles.size(); ++b) {
        if (contour_of[a] == contour_of[b]) continue;
        EXPECT_GE(PaddleDistance(scene.paddles[a], scene.paddles[b]),
                  style.thickness + 1.5 * g - tolerance)
            << "image " << i << " paddles " << a << ", " << b;
      }
      for (int m = 0; m < 2; ++m) {
        if (contour_of[a] == marker_contour[m]) continue;
        EXPECT_GE(SegmentDistance(scene.marker_x[m], scene.marker_y[m],
                                  scene.paddles[a]),
                  style.marker_radius + half + 2.5 * g - tolerance)
            << "image " << i << " paddle " << a << " marker " << m;
      }
    }
    // Free ends (the far ends of A and B, both ends of distractors) keep
    // 2.5 * margin from other contours, more than the gap inside one.
    for (size_t c = 1; c < scene.contours.size(); ++c) {
      const ContourSpan& span = scene.contours[c];
      const Paddle& head = scene.paddles[span.first];
      const Paddle& tail = scene.paddles[span.first + span.count - 1];
      for (size_t a = 0; a < scene.paddles.size(); ++a) {
        if (contour_of[a] == static_cast<int>(c)) continue;
        EXPECT_GE(SegmentDistance(tail.x1, tail.y1, scene.paddles[a]),
                  style.thickness + 2.5 * g - tolerance)
            << "image " << i << " contour " << c << " paddle " << a;
        if (c >= 3) {
          EXPECT_GE(SegmentDistance(head.x0, head.y0, scene.paddles[a]),
                    style.thickness + 2.5 * g - tolerance)
              << "image " << i << " contour " << c << " paddle " << a;
        }
      }
    }
    const double marker_distance =
        std::hypot(scene.marker_x[0] - scene.marker_x[1],
                   scene.marker_y[0] - scene.marker_y[1]);
    EXPECT_GE(marker_distance, 2 * style.marker_radius + 2.5 * g - 1e-9);
    // Both markers are drawn at full brightness.
    generator.Render(scene, &scratch.canvas, pixels.data());
    for (int m = 0; m < 2; ++m) {
      const int row = static_cast<int>(scene.marker_y[m]);
      const int column = static_cast<int>(scene.marker_x[m]);
      EXPECT_EQ(pixels[row * resolution + column], 255);
    }
  }
}

TEST(GeneratorTest, ScenesHaveTheirGeometryAt32) { CheckScenes(32, 14, 120); }
TEST(GeneratorTest, ScenesHaveTheirGeometryAt64) { CheckScenes(64, 9, 40); }
TEST(GeneratorTest, ScenesHaveTheirGeometryAt128) { CheckScenes(128, 14, 60); }
TEST(GeneratorTest, ScenesHaveTheirGeometryAt256) { CheckScenes(256, 6, 20); }
// Without distractors: at contour lengths 4 and 5 distractors are a single
// paddle, and the far end of a one-paddle distractor is not kept clear of
// other contours (AddFreeContour checks the room at its start only; the
// same holds at 32 pixels), so they would fail the free-end check below.
TEST(GeneratorTest, ScenesHaveTheirGeometryAt20) {
  CheckScenes(20, 4, 120, /*distractors=*/-1);
  CheckScenes(20, 5, 40, /*distractors=*/-1);
}

TEST(GeneratorTest, MinusOneDistractorsLeavesTheThreeLongContours) {
  const PathfinderGenerator generator(ParamsFor(32, 9, -1));
  GeneratorScratch scratch;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(generator.DrawScene(0, Split::kTrain, i, &scratch));
    EXPECT_EQ(scratch.scene.contours.size(), 3u);
  }
}

TEST(GeneratorTest, PaddlesAreCentredOnPixelCentresAt32And20) {
  // Generator v2: at 32 (and 20) pixels every paddle's midpoint is a pixel
  // centre, so that a paddle lights the pixels along it fully (see
  // generator.h).
  for (const auto& [resolution, length] :
       std::vector<std::pair<int, int>>{{32, 14}, {20, 4}}) {
    SCOPED_TRACE("resolution " + std::to_string(resolution));
    const PathfinderGenerator generator(ParamsFor(resolution, length));
    GeneratorScratch scratch;
    int paddles = 0;
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(generator.DrawScene(0, Split::kTrain, i, &scratch));
      for (const Paddle& p : scratch.scene.paddles) {
        const double mx = 0.5 * (p.x0 + p.x1), my = 0.5 * (p.y0 + p.y1);
        EXPECT_NEAR(mx - std::floor(mx), 0.5, 1e-9) << "image " << i;
        EXPECT_NEAR(my - std::floor(my), 0.5, 1e-9) << "image " << i;
        EXPECT_NEAR(std::hypot(p.x1 - p.x0, p.y1 - p.y0), 2.0, 1e-9);
        ++paddles;
      }
    }
    EXPECT_GT(paddles, 20 * 2 * length);
  }
}

// FNV-1a over 64 bits of the labels and pixels of images [0, count).
uint64_t HashImages(const PathfinderGenerator& generator, uint64_t data_seed,
                    int count) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  const auto add = [&hash](uint8_t byte) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  };
  GeneratorScratch scratch;
  std::vector<uint8_t> pixels(generator.image_size());
  for (int i = 0; i < count; ++i) {
    add(static_cast<uint8_t>(generator.Generate(data_seed, Split::kTrain, i,
                                                &scratch, pixels.data())));
    for (uint8_t v : pixels) add(v);
  }
  return hash;
}

// The 20-pixel images are pinned like every checked-in task's data
// (datasets/data_fingerprint_test.cc pins 32 pixels and Path-X): a change
// that alters one pixel of the quick suite's Pathfinder must record new
// hashes (and bump kGeneratorVersion, so that cached shards are redrawn).
TEST(GeneratorTest, TwentyPixelImagesAreTheRecordedOnes) {
  const struct {
    int contour_length, distractors;
    uint64_t hash;
  } expected[] = {
      {4, -1, 0x527c58bb2713a59cULL},  // The quick suite's pathfinder-20.
      {5, 0, 0xf5301c03bfc79370ULL},   // The reference distractors (8).
  };
  for (const auto& e : expected) {
    const PathfinderGenerator generator(
        ParamsFor(20, e.contour_length, e.distractors));
    EXPECT_EQ(HashImages(generator, 1, 64), e.hash)
        << "contour_length " << e.contour_length << " distractors "
        << e.distractors << ": 0x" << std::hex << HashImages(generator, 1, 64);
  }
}

TEST(GeneratorTest, RendersAntiAliasedPaddlesAndMarkers) {
  const PathfinderGenerator generator(ParamsFor(32, 14));
  Scene scene;
  // A horizontal paddle along y = 10.5 from x = 10.5 to 12.5, 0.5 wide,
  // centred on pixel (row 10, column 11). Generator v2 filters it with a
  // Lanczos-2 kernel at 0.9 x contrast 1.5: the centre pixel gets
  // 1.35 x 0.5 (width) x 1.06 (the kernel over +-1 pixel) x 0.995 (over
  // +-0.25 across) = 0.71, i.e. 182; its neighbours along the paddle about
  // half of that (83), so a paddle is a dash of three lit pixels. The rows
  // beside it stay below the lit level (32) and the kernel's negative lobe
  // leaves the pixels beyond the ends black.
  scene.paddles.push_back(Paddle{10.5, 10.5, 12.5, 10.5, 1, 0});
  // Markers of radius 1.5 at pixel centres.
  scene.marker_x[0] = 20.5;
  scene.marker_y[0] = 20.5;
  scene.marker_x[1] = 5.5;
  scene.marker_y[1] = 25.5;
  std::vector<float> canvas;
  std::vector<uint8_t> pixels(32 * 32);
  generator.Render(scene, &canvas, pixels.data());
  EXPECT_NEAR(pixels[10 * 32 + 11], 182, 2);
  EXPECT_NEAR(pixels[10 * 32 + 10], 83, 2);
  EXPECT_EQ(pixels[10 * 32 + 10], pixels[10 * 32 + 12]);
  EXPECT_EQ(pixels[10 * 32 + 9], 0);
  EXPECT_EQ(pixels[10 * 32 + 13], 0);
  for (int column = 10; column <= 12; ++column) {
    EXPECT_LT(pixels[9 * 32 + column], 32);
    EXPECT_LT(pixels[11 * 32 + column], 32);
    EXPECT_EQ(pixels[9 * 32 + column], pixels[11 * 32 + column]);
  }
  EXPECT_EQ(pixels[20 * 32 + 20], 255);
  // The 4-neighbours are inside the disc (distance 1 < 1.5 covers most of
  // the pixel), the corners partly, two pixels away nothing.
  EXPECT_GT(pixels[20 * 32 + 21], 200);
  EXPECT_GT(pixels[21 * 32 + 21], 0);
  EXPECT_LT(pixels[21 * 32 + 21], pixels[20 * 32 + 21]);
  EXPECT_EQ(pixels[20 * 32 + 22], 0);
  EXPECT_EQ(pixels[25 * 32 + 5], 255);
  // Lit pixels: the paddle's three and the markers' nine each.
  int lit = 0;
  for (uint8_t v : pixels) lit += v >= 32;
  EXPECT_EQ(lit, 3 + 9 + 9);
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra
