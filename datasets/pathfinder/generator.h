// The Pathfinder image generator, in the spirit of Linsley et al. (2018)
// and the settings LRA used with it, rebuilt to be deterministic by
// (data_seed, split, index) and fast enough to draw images while training.
//
// An image holds two circle markers, long contours of contour_length paddles
// and `distractors` short contours of a third of that length. A contour is
// a dashed chain of paddles whose direction turns smoothly: each turn is
// drawn with density proportional to cos^2(continuity * turn), restricted
// (as in the reference) to directions that are in bounds, free and not a
// dead end one step ahead; a contour that still runs into a dead end takes
// back a few paddles and turns earlier. Ink of different contours keeps
// 1.5 * margin apart (about as in the reference; the gap inside a contour
// is 2 * margin), but contour ends keep 2.5 * margin from other contours,
// and contours keep that far from markers they do not end at, so no
// contour seems to go on into another or to end at a marker it misses.
//
// Both classes come from one construction, so that simple statistics (ink,
// marker positions and distance, the direction of the paddles at the
// markers) cannot tell them apart:
//  1. As in the reference, two long contours start seed_distance apart
//     around a point at least 2 * seed_distance from the borders and grow
//     together, a paddle each in turn; their four ends keep clear of
//     everything but the two paddles next to them.
//  2. One of the two (a fair coin) is drawn whole. The other is broken: A
//     keeps its first 1..(contour_length - 2) / 2 paddles and continues on
//     a fresh walk, B keeps its last few paddles (reversed) and continues
//     likewise (A and B grow together), so at least two paddles are missing
//     in between and A and B never touch. A and B have contour_length
//     paddles each.
//  3. The pair is kept only if either contour could be broken, so the whole
//     and the broken contour have the same distribution.
//  4. Label 1 puts the markers on the whole contour's ends, label 0 on the
//     broken contour's ends (the starts of A and B). The scene itself does
//     not depend on the label: both classes have three long contours (the
//     reference has two) and the same ink.
//  5. Distractors start at random free points (one that finds no room
//     after a few tries is skipped, as in the reference).
// The reference instead puts the second marker on the other contour's end
// in negatives, which shifts the marker distance by the seed distance and
// leaves the paddle at a negative's first marker pointing anywhere. What
// remains here is local and weak: A and B are regrown in a fuller image
// than the whole contour was, and the ink near the first marker separates
// the classes at about 0.53 (see shortcut_test.cc).
//
// Rendering: paddles are rectangles and markers discs. Markers are
// anti-aliased by 4 x 4 supersampling (their value is coverage). Paddles at
// 64 pixels and up likewise, with value contrast x coverage (clipped to 1).
// Generator v2 (32 and 20 pixels): every paddle is moved (before it is
// checked for room, so the keep-outs above hold for what is drawn) so that
// its midpoint is a pixel centre, as the reference's paddles are drawn
// between integer coordinates, and it is filtered with a Lanczos-2 kernel
// (about the reference's Lanczos resize) at 0.9 x contrast: a 2-pixel
// paddle lights three pixels, and the 2-pixel gap between paddles leaves
// one pixel dark (v1's box coverage at any position lit two and left two
// dark, so contours fell apart into dashes). Overlapping shapes take the
// maximum. Pixels are round(255 x value), black background.
#ifndef LRA_DATASETS_PATHFINDER_GENERATOR_H_
#define LRA_DATASETS_PATHFINDER_GENERATOR_H_

#include <cstdint>
#include <vector>

#include "datasets/common/random.h"
#include "datasets/dataset_base.h"
#include "datasets/pathfinder/params.h"

namespace lra {
namespace pathfinder {

// Changes whenever the same config and seed would give other images; part
// of the cache fingerprint, so stale cache shards are never read.
inline constexpr int kGeneratorVersion = 2;

// Whole-scene attempts before an image gives up (see Generate()).
inline constexpr int kMaxSceneAttempts = 2000;

// A paddle from (x0, y0) to (x1, y1) in pixels (x to the right, y down;
// pixel (row i, column j) covers [j, j + 1) x [i, i + 1)).
struct Paddle {
  double x0 = 0, y0 = 0;
  double x1 = 0, y1 = 0;
  double ux = 1, uy = 0;  // Unit direction from start to end.
};

// A contour is paddles[first, first + count) of its scene, in order.
struct ContourSpan {
  int first = 0;
  int count = 0;
};

// Cells of a grid over the image (2 per pixel and axis up to 64 pixels, 1
// above). A shape claims the cells within its keep-out radius; a new paddle
// is free when the cells under its centre line are free, so centre lines
// keep at least the keep-out radius from everything drawn so far. Each cell
// counts its claims and remembers the first claimant, whose claim can be
// ignored (a paddle's predecessor, a contour's own zone) only while it is
// the only one; erasing a shape undoes exactly its claims. Zones (owners
// from kFirstZoneOwner up) live in a layer of their own, so that a zone
// never hides a paddle's claim from a contour allowed into the zone.
class OccupancyGrid {
 public:
  // Owners below this are paddles (index + 1), from it up zones.
  static constexpr uint16_t kFirstZoneOwner = 0x8000;

  // Clears the grid for an image of `resolution` pixels per side. Allocates
  // only when the grid grows.
  void Reset(int resolution);

  // Claims the cells whose centres lie within `radius` of the segment for
  // `owner` (a disc when both ends coincide).
  void Stamp(double x0, double y0, double x1, double y1, double radius,
             uint16_t owner);
  // Undoes Stamp() with the same arguments.
  void Erase(double x0, double y0, double x1, double y1, double radius,
             uint16_t owner);
  // True when every cell under the segment (sampled a cell apart) is free
  // or claimed only by `ignore_a` or `ignore_b`, in both layers.
  bool IsFree(double x0, double y0, double x1, double y1, uint16_t ignore_a,
              uint16_t ignore_b) const;
  // True when every cell whose centre lies within `radius` of (x, y) is
  // free or claimed only by `ignore_a` or `ignore_b`, in both layers.
  bool IsDiscFree(double x, double y, double radius, uint16_t ignore_a,
                  uint16_t ignore_b) const;

 private:
  struct Claim {
    uint16_t owner = 0;  // The first claimant, 0 when free.
    uint16_t count = 0;  // Claims on the cell.
  };
  // The two layers of one cell side by side, so a test reads one word.
  struct Cell {
    Claim paddle;
    Claim zone;
  };
  static bool ClaimIsFree(const Claim& claim, uint16_t ignore_a,
                          uint16_t ignore_b) {
    return claim.count == 0 || (claim.count == 1 && (claim.owner == ignore_a ||
                                                     claim.owner == ignore_b));
  }
  bool CellIsFree(size_t cell, uint16_t ignore_a, uint16_t ignore_b) const {
    const Cell& c = cells_[cell];
    return ClaimIsFree(c.paddle, ignore_a, ignore_b) &&
           ClaimIsFree(c.zone, ignore_a, ignore_b);
  }
  // Calls visit(claim) for the claim of `zone_layer` of every cell whose
  // centre lies within `radius` of the segment.
  template <typename Visit>
  void ForEachCell(double x0, double y0, double x1, double y1, double radius,
                   bool zone_layer, Visit visit);

  double scale_ = 1;         // cells per pixel
  int side_ = 0;             // cells per side
  std::vector<Cell> cells_;  // [side, side]
};

// A scene under construction: its paddles, contours and grid.
struct SceneBuilder {
  OccupancyGrid grid;
  // The grid before a broken contour's pieces, restored for every new
  // draw of the pieces.
  OccupancyGrid base_grid;
  std::vector<Paddle> paddles;
  std::vector<ContourSpan> contours;
};

// One image before rasterisation.
struct Scene {
  int label = 0;
  int margin = 0;
  // Whole-scene attempts used (1 = the first pair of contours worked).
  int attempts = 0;
  // Marker centres in pixels.
  double marker_x[2] = {0, 0};
  double marker_y[2] = {0, 0};
  std::vector<Paddle> paddles;
  // contours[0] is the whole long contour; contours[1] (A) and [2] (B)
  // start at the broken one's two ends. Label 1: the markers sit on the
  // start and end of contours[0]; label 0: on the starts of contours[1] and
  // [2]. Then the distractors.
  std::vector<ContourSpan> contours;
};

// Per-thread working memory of the generator; reused across images so that
// drawing allocates nothing once warm.
struct GeneratorScratch {
  SceneBuilder pair;       // The two long contours.
  SceneBuilder scenes[2];  // With contour 0 or 1 whole.
  Scene scene;
  std::vector<float> canvas;  // [resolution, resolution] values in [0, 1]
};

class PathfinderGenerator {
 public:
  explicit PathfinderGenerator(const PathfinderParams& params);

  const PathfinderParams& params() const { return params_; }
  int resolution() const { return params_.style.resolution; }
  // Pixels (and tokens) per image.
  int64_t image_size() const { return int64_t{resolution()} * resolution(); }

  // Draws image `index` of `split` into `pixels` ([resolution, resolution]
  // bytes, row-major) and returns its label. Thread-safe when each thread
  // passes its own scratch. If no scene fits in kMaxSceneAttempts (never
  // seen: a median of 1 to 7 attempts and at most 68 in 3000 images at 32
  // pixels, the tightest setting) the image has the markers only;
  // scene().attempts then exceeds kMaxSceneAttempts.
  int32_t Generate(uint64_t data_seed, Split split, int64_t index,
                   GeneratorScratch* scratch, uint8_t* pixels) const;

  // The geometry of the same image, left in scratch->scene. Returns false
  // when no scene fit (see Generate()).
  bool DrawScene(uint64_t data_seed, Split split, int64_t index,
                 GeneratorScratch* scratch) const;

  // Rasterises a scene into `pixels` ([resolution, resolution]).
  void Render(const Scene& scene, std::vector<float>* canvas,
              uint8_t* pixels) const;

 private:
  // Placement helpers; `margin` is the scene's margin in pixels.
  //
  // Keep-out radii: a paddle claims thickness + 1.5 * margin around its
  // centre line, so the ink of two contours stays 1.5 * margin apart; a
  // marker zone claims radius + thickness / 2 + 2.5 * margin around an end,
  // so other ink stays 2.5 * margin from the marker's disc.
  double PaddleKeepOut(double margin) const;
  // The most paddles A (or B) keeps of a broken contour: at least two of
  // its paddles are dropped in between.
  int MaxKeep() const;
  // Free room around a contour's free end (see kEndSeparation).
  double FreeEndRoom(double margin) const;
  // Radius of the zone around a finished contour's free end, which keeps
  // later contours the end separation away from it, and its grid owner.
  double FreeEndZone(double margin) const;
  uint16_t FreeEndOwner(int contour) const;
  double MarkerKeepOut(double margin) const;
  bool InBounds(const Paddle& paddle) const;
  // `paddle` moved so that its midpoint lies on a pixel centre when the
  // style asks for it (generator v2 at 32 and 20 pixels), else unchanged.
  Paddle Snapped(const Paddle& paddle) const;
  // The paddle after `previous`, turned by the angle whose cosine and sine
  // are given.
  Paddle Continue(const Paddle& previous, double turn_cos, double turn_sin,
                  double margin) const;
  // How a contour grows: the grid owner of the zone at its start (0 for
  // none), the index within the contour of the first paddle grown, how many
  // of the contour's first paddles may enter its start zone, the room a zone
  // needs around the end of its last paddle (0 for none), and the zone
  // stamped there when the contour is done (owner 0 for none).
  struct Growth {
    uint16_t start_zone = 0;
    int first_index = 0;
    int zone_paddles = 0;
    double end_room = 0;
    uint16_t end_zone = 0;
    double end_zone_radius = 0;
  };
  // A contour growing into paddles[first_slot, first_slot + count), going
  // on from paddles[previous_slot].
  struct Strand {
    int previous_slot = 0;
    int first_slot = 0;
    int count = 0;
    Growth growth;
    int placed = 0;      // Paddles grown so far.
    int backtracks = 0;  // Budget left.
  };
  // True when `paddle` is in bounds, free (ignoring the claims of
  // `ignore_a` and `ignore_b`) and, if end_room > 0, has that much free room
  // around its end.
  bool Fits(const SceneBuilder& builder, const Paddle& paddle,
            uint16_t ignore_a, uint16_t ignore_b, double end_room) const;
  // Places `paddle` at paddles[slot] if it fits, and stamps it with slot +
  // 1.
  bool TryPlace(SceneBuilder* builder, const Paddle& paddle, int slot,
                uint16_t ignore_a, uint16_t ignore_b, double margin,
                double end_room) const;
  // Stamps `paddle` as paddles[index] without checks.
  void StampPaddle(SceneBuilder* builder, const Paddle& paddle, int index,
                   double margin) const;
  // Erases the claim of paddles[slot].
  void RemovePaddle(SceneBuilder* builder, int slot, double margin) const;
  // Places a paddle at `slot` after paddles[previous] (ignoring the
  // predecessor's claim and `also_ignore`'s), or returns false when no
  // direction fits.
  bool PlaceNext(SceneBuilder* builder, int previous, int slot,
                 uint16_t also_ignore, double end_room, bool last_paddle,
                 double margin, Rng& rng) const;
  // Grows the strands together, a paddle each in turn, backtracking out of
  // dead ends. On failure removes everything they added.
  bool GrowStrands(SceneBuilder* builder, Strand* strands, int count,
                   double margin, Rng& rng) const;
  // A new contour of `count` paddles from a random point; `tries` seeds
  // before giving up.
  bool AddFreeContour(SceneBuilder* builder, int count, int tries,
                      double margin, Rng& rng) const;
  // Grows the two long contours into pair (paddles [0, length) and
  // [length, 2 * length)).
  bool GrowPair(SceneBuilder* pair, double margin, Rng& rng) const;
  // True when the start (or end) of `contour` of the pair fits a marker:
  // inside the image, and clear of every paddle but the two next to it.
  bool EndIsClear(const SceneBuilder& pair, int contour, bool at_start,
                  double margin) const;
  // The scene with pair contour `whole` drawn whole (paddles [0, length))
  // and the other broken into A and B.
  bool BuildScene(const SceneBuilder& pair, int whole, SceneBuilder* builder,
                  double margin, Rng& rng) const;
  // Candidate turns of PlaceNext() for one margin: turns about a pixel
  // apart at the paddle's far end, with their kernel weights.
  struct TurnTable {
    int margin = 0;
    std::vector<double> cos, sin, weight;
  };
  const TurnTable& TurnTableFor(double margin) const;

  // Max-combines a paddle filtered with the v2 kernel into `out`
  // ([resolution, resolution]).
  void RenderFilteredPaddle(const Paddle& paddle, float* out) const;

  PathfinderParams params_;
  std::vector<TurnTable> turn_tables_;
  // Per-axis weights of the v2 paddle filter (see generator.cc).
  std::vector<float> filter_;
};

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_GENERATOR_H_
