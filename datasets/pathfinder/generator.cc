#include "datasets/pathfinder/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "datasets/common/split_draw.h"

namespace lra {
namespace pathfinder {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Separates Pathfinder's random streams from other tasks' with equal seeds.
constexpr uint64_t kStreamTag = 0x70617468'66696e64ULL;  // "pathfind"
// Subsamples per pixel along each axis when rasterising.
constexpr int kSupersample = 4;
// Generator v2 (32 pixels): paddles are filtered with a Lanczos-2 kernel
// (in pixels of the image) instead of box coverage, from kFilterSubsamples^2
// subsamples per pixel; kFilterReach pixels either side of a subsample's
// pixel, so kFilterTaps per axis. The gain scales the style's contrast so
// that the mean ink stays that of the reference (see README.md).
constexpr int kFilterSubsamples = 8;
constexpr int kFilterReach = 2;
constexpr int kFilterTaps = 2 * kFilterReach + 1;
constexpr double kFilteredPaddleGain = 0.9;
// Turns proposed from the kernel before all directions are scored.
// Upper bound on the directions scored for one paddle (per side).
constexpr int kMaxTurnSteps = 32;
// Backtracking budget of a contour (per paddle) and the most paddles taken
// back at once.
constexpr int kBacktracksPerPaddle = 2;
constexpr int kMaxBacktrack = 4;
// Draws of the kept pieces of a broken contour, each grown once; a pair of
// long contours is grown once per scene attempt (retrying a hard pair costs
// more than drawing a new one).
constexpr int kBreakRounds = 8;
// Random first paddles drawn while looking for a free spot to start a
// contour.
constexpr int kSeedDraws = 16;
// Seeds tried for each distractor (the reference retries 4 times).
constexpr int kDistractorTries = 5;
// Ink of different contours keeps kSideSeparation * margin apart (about
// what the reference's masks allow; three long contours fill a 32-pixel
// image, so more would rarely fit). Contour ends keep kEndSeparation *
// margin from other contours, and other contours keep that far from
// markers: more than the gap of 2 * margin inside a contour, so that no
// contour seems to continue into another or to end at a marker it misses.
// (The reference draws markers over anything and lets ends approach other
// contours like any paddle.)
constexpr double kSideSeparation = 1.5;
constexpr double kEndSeparation = 2.5;
// Grid owners of the keep-out zones at the four ends of the two long
// contours (see GrowPair() and BuildScene()); paddles own their index + 1.
constexpr uint16_t kEndOwner[4] = {
    OccupancyGrid::kFirstZoneOwner + 1, OccupancyGrid::kFirstZoneOwner + 2,
    OccupancyGrid::kFirstZoneOwner + 3, OccupancyGrid::kFirstZoneOwner + 4};
// Grid owners of the zones around free ends: one per contour (contour
// index added), so that undoing a contour frees its zones only.
constexpr uint16_t kFreeEndOwnerBase = OccupancyGrid::kFirstZoneOwner + 0x100;
constexpr uint16_t kNoOwner = 0;
// The owner of a cell still claimed after its first claimant was erased:
// never ignored.
constexpr uint16_t kSharedOwner = 0xffff;

Paddle Reversed(const Paddle& p) {
  return Paddle{p.x1, p.y1, p.x0, p.y0, -p.ux, -p.uy};
}

Paddle PaddleFrom(double x, double y, double ux, double uy, double length) {
  return Paddle{x, y, x + length * ux, y + length * uy, ux, uy};
}

// A paddle from (x, y) in a uniformly random direction.
Paddle RandomPaddleFrom(double x, double y, double length, Rng& rng) {
  const double angle = 2 * kPi * rng.UniformDouble();
  return PaddleFrom(x, y, std::cos(angle), std::sin(angle), length);
}

uint16_t OwnerOf(int paddle_index) {
  return static_cast<uint16_t>(paddle_index + 1);
}

void ResetBuilder(int resolution, SceneBuilder* builder) {
  builder->grid.Reset(resolution);
  builder->paddles.clear();
  builder->contours.clear();
}

// Distance from (px, py) to the segment of `p`.
double DistanceToPaddle(double px, double py, const Paddle& p) {
  const double dx = p.x1 - p.x0, dy = p.y1 - p.y0;
  const double length2 = dx * dx + dy * dy;
  double t = 0;
  if (length2 > 0) {
    t = std::clamp(((px - p.x0) * dx + (py - p.y0) * dy) / length2, 0.0, 1.0);
  }
  const double ex = px - (p.x0 + t * dx), ey = py - (p.y0 + t * dy);
  return std::sqrt(ex * ex + ey * ey);
}

}  // namespace

void OccupancyGrid::Reset(int resolution) {
  // Two cells per pixel keep the quantisation small next to the 1-pixel
  // margins of small images; large images have margins of 2-3 pixels.
  const int cells_per_pixel = resolution <= 64 ? 2 : 1;
  scale_ = cells_per_pixel;
  side_ = resolution * cells_per_pixel;
  cells_.assign(static_cast<size_t>(side_) * side_, Cell{});
}

template <typename Visit>
void OccupancyGrid::ForEachCell(double x0, double y0, double x1, double y1,
                                double radius, bool zone_layer, Visit visit) {
  // Cell (r, c) has its centre at ((c + 0.5) / scale, (r + 0.5) / scale).
  // The capsule (points within `radius` of the segment) is convex, so each
  // row of cell centres meets it in one interval: the hull of the row's
  // intervals through the two end discs and the swept rectangle.
  const double dx = x1 - x0, dy = y1 - y0;
  const double length2 = dx * dx + dy * dy;
  const double length = std::sqrt(length2);
  const double radius2 = radius * radius;
  // Reciprocals of the slab coefficients below (0 when one vanishes).
  const double inv_dx = std::abs(dx) < 1e-12 ? 0 : 1 / dx;
  const double inv_dy = std::abs(dy) < 1e-12 ? 0 : -1 / dy;
  const int r_lo = std::max(
      0,
      static_cast<int>(std::ceil((std::min(y0, y1) - radius) * scale_ - 0.5)));
  const int r_hi = std::min(
      side_ - 1,
      static_cast<int>(std::floor((std::max(y0, y1) + radius) * scale_ - 0.5)));
  for (int r = r_lo; r <= r_hi; ++r) {
    const double y = (r + 0.5) / scale_;
    double lo = 1e30, hi = -1e30;
    for (int end = 0; end < 2; ++end) {
      const double cx = end == 0 ? x0 : x1, cy = end == 0 ? y0 : y1;
      const double h2 = radius2 - (y - cy) * (y - cy);
      if (h2 >= 0) {
        const double h = std::sqrt(h2);
        lo = std::min(lo, cx - h);
        hi = std::max(hi, cx + h);
      }
    }
    if (length2 > 0) {
      // Slabs 0 <= (p - a).d <= |d|^2 and |(p - a) x d| <= radius |d|,
      // each linear in x along the row: min <= x / inv_coef + offset <= max.
      double a = -1e30, b = 1e30;
      const auto slab = [&](double inv_coef, double offset, double min_value,
                            double max_value) {
        if (inv_coef == 0) {
          if (offset < min_value || offset > max_value) b = -1e30;
          return;
        }
        double u = (min_value - offset) * inv_coef;
        double v = (max_value - offset) * inv_coef;
        if (u > v) std::swap(u, v);
        a = std::max(a, u);
        b = std::min(b, v);
      };
      slab(inv_dx, -x0 * dx + (y - y0) * dy, 0, length2);
      slab(inv_dy, x0 * dy + (y - y0) * dx, -radius * length, radius * length);
      if (a <= b) {
        lo = std::min(lo, a);
        hi = std::max(hi, b);
      }
    }
    if (lo > hi) continue;
    const int c_lo =
        std::max(0, static_cast<int>(std::ceil(lo * scale_ - 0.5)));
    const int c_hi =
        std::min(side_ - 1, static_cast<int>(std::floor(hi * scale_ - 0.5)));
    Cell* row = cells_.data() + static_cast<size_t>(r) * side_;
    for (int c = c_lo; c <= c_hi; ++c) {
      visit(zone_layer ? row[c].zone : row[c].paddle);
    }
  }
}

void OccupancyGrid::Stamp(double x0, double y0, double x1, double y1,
                          double radius, uint16_t owner) {
  ForEachCell(x0, y0, x1, y1, radius, owner >= kFirstZoneOwner,
              [owner](Claim& claim) {
                if (claim.count == 0) claim.owner = owner;
                ++claim.count;
              });
}

void OccupancyGrid::Erase(double x0, double y0, double x1, double y1,
                          double radius, uint16_t owner) {
  ForEachCell(x0, y0, x1, y1, radius, owner >= kFirstZoneOwner,
              [owner](Claim& claim) {
                if (claim.count == 0) return;
                if (--claim.count == 0) {
                  claim.owner = kNoOwner;
                } else if (claim.owner == owner) {
                  // Still claimed by shapes whose owners are not known.
                  claim.owner = kSharedOwner;
                }
              });
}

bool OccupancyGrid::IsFree(double x0, double y0, double x1, double y1,
                           uint16_t ignore_a, uint16_t ignore_b) const {
  const double cx = x0 * scale_, cy = y0 * scale_;
  const double ex = x1 * scale_, ey = y1 * scale_;
  const double length =
      std::sqrt((ex - cx) * (ex - cx) + (ey - cy) * (ey - cy));
  const int samples = 1 + static_cast<int>(std::ceil(length));
  const double step_x = (ex - cx) / samples, step_y = (ey - cy) / samples;
  for (int i = 0; i <= samples; ++i) {
    const double sx = cx + i * step_x, sy = cy + i * step_y;
    if (sx < 0 || sy < 0 || sx >= side_ || sy >= side_) return false;
    const size_t cell =
        static_cast<size_t>(sy) * side_ + static_cast<size_t>(sx);
    if (!CellIsFree(cell, ignore_a, ignore_b)) return false;
  }
  return true;
}

bool OccupancyGrid::IsDiscFree(double x, double y, double radius,
                               uint16_t ignore_a, uint16_t ignore_b) const {
  const int r_lo =
      std::max(0, static_cast<int>(std::ceil((y - radius) * scale_ - 0.5)));
  const int r_hi = std::min(
      side_ - 1, static_cast<int>(std::floor((y + radius) * scale_ - 0.5)));
  const int c_lo =
      std::max(0, static_cast<int>(std::ceil((x - radius) * scale_ - 0.5)));
  const int c_hi = std::min(
      side_ - 1, static_cast<int>(std::floor((x + radius) * scale_ - 0.5)));
  for (int r = r_lo; r <= r_hi; ++r) {
    const double dy = (r + 0.5) / scale_ - y;
    for (int c = c_lo; c <= c_hi; ++c) {
      const double dx = (c + 0.5) / scale_ - x;
      if (dx * dx + dy * dy > radius * radius) continue;
      if (!CellIsFree(static_cast<size_t>(r) * side_ + c, ignore_a, ignore_b)) {
        return false;
      }
    }
  }
  return true;
}

namespace {

// The Lanczos kernel with a = 2.
double Lanczos2(double x) {
  x = std::abs(x);
  if (x >= 2) return 0;
  if (x < 1e-9) return 1;
  const double a = kPi * x, b = kPi * x / 2;
  return std::sin(a) / a * std::sin(b) / b;
}

}  // namespace

PathfinderGenerator::PathfinderGenerator(const PathfinderParams& params)
    : params_(params) {
  // filter_[s * kFilterTaps + i]: the weight of subsample s of a pixel
  // (along one axis) for the pixel i - kFilterReach away.
  filter_.resize(kFilterSubsamples * kFilterTaps);
  for (int s = 0; s < kFilterSubsamples; ++s) {
    const double offset = (s + 0.5) / kFilterSubsamples - 0.5;
    for (int i = 0; i < kFilterTaps; ++i) {
      filter_[s * kFilterTaps + i] =
          static_cast<float>(Lanczos2(offset - (i - kFilterReach)));
    }
  }
  const double continuity = params_.style.continuity;
  const double limit = kPi / (2 * continuity);
  for (int m = 0; m < params_.style.margin_count; ++m) {
    TurnTable table;
    table.margin = params_.style.margins[m];
    // Directions about a pixel apart at the paddle's far end, like the
    // reference's candidates on a circle around the pivot.
    const double reach = params_.style.paddle_length + table.margin;
    const int steps = std::clamp(static_cast<int>(std::ceil(limit * reach)), 2,
                                 kMaxTurnSteps);
    for (int i = -steps; i <= steps; ++i) {
      const double turn = limit * i / (steps + 1);
      const double c = std::cos(continuity * turn);
      table.cos.push_back(std::cos(turn));
      table.sin.push_back(std::sin(turn));
      table.weight.push_back(c * c);
    }
    turn_tables_.push_back(std::move(table));
  }
}

const PathfinderGenerator::TurnTable& PathfinderGenerator::TurnTableFor(
    double margin) const {
  for (const TurnTable& table : turn_tables_) {
    if (table.margin == margin) return table;
  }
  return turn_tables_.front();
}

double PathfinderGenerator::PaddleKeepOut(double margin) const {
  return params_.style.thickness + kSideSeparation * margin;
}

double PathfinderGenerator::MarkerKeepOut(double margin) const {
  return params_.style.marker_radius + params_.style.thickness / 2 +
         kEndSeparation * margin;
}

double PathfinderGenerator::FreeEndZone(double margin) const {
  // Centre lines of later contours keep thickness + end separation from a
  // free end point.
  return params_.style.thickness + kEndSeparation * margin;
}

uint16_t PathfinderGenerator::FreeEndOwner(int contour) const {
  return static_cast<uint16_t>(kFreeEndOwnerBase + contour);
}

int PathfinderGenerator::MaxKeep() const {
  return std::max(1, (params_.contour_length - 2) / 2);
}

double PathfinderGenerator::FreeEndRoom(double margin) const {
  // Around the end point, beyond the paddle claims (thickness + side
  // separation around centre lines), so ends keep the end separation.
  return (kEndSeparation - kSideSeparation) * margin;
}

bool PathfinderGenerator::InBounds(const Paddle& p) const {
  const double lo = params_.style.padding + params_.style.thickness / 2;
  const double hi = params_.style.resolution - lo;
  return p.x0 >= lo && p.x0 <= hi && p.y0 >= lo && p.y0 <= hi && p.x1 >= lo &&
         p.x1 <= hi && p.y1 >= lo && p.y1 <= hi;
}

Paddle PathfinderGenerator::Snapped(const Paddle& p) const {
  if (!params_.style.snap_to_pixel_centres) return p;
  // Moves the paddle (same direction and length) so that its midpoint is
  // the nearest pixel centre.
  const double mx = 0.5 * (p.x0 + p.x1), my = 0.5 * (p.y0 + p.y1);
  const double dx = std::floor(mx) + 0.5 - mx, dy = std::floor(my) + 0.5 - my;
  return Paddle{p.x0 + dx, p.y0 + dy, p.x1 + dx, p.y1 + dy, p.ux, p.uy};
}

Paddle PathfinderGenerator::Continue(const Paddle& previous, double turn_cos,
                                     double turn_sin, double margin) const {
  // As in the reference: a pivot `margin` beyond the previous paddle's end
  // along its direction, then the new paddle starts `margin` beyond the
  // pivot along the new direction, so straight contours have gaps of
  // 2 * margin.
  const double ux = previous.ux * turn_cos - previous.uy * turn_sin;
  const double uy = previous.ux * turn_sin + previous.uy * turn_cos;
  return Snapped(PaddleFrom(previous.x1 + margin * (previous.ux + ux),
                            previous.y1 + margin * (previous.uy + uy), ux, uy,
                            params_.style.paddle_length));
}

void PathfinderGenerator::StampPaddle(SceneBuilder* builder, const Paddle& p,
                                      int index, double margin) const {
  builder->grid.Stamp(p.x0, p.y0, p.x1, p.y1, PaddleKeepOut(margin),
                      OwnerOf(index));
}

bool PathfinderGenerator::Fits(const SceneBuilder& builder, const Paddle& p,
                               uint16_t ignore_a, uint16_t ignore_b,
                               double end_room) const {
  return InBounds(p) &&
         builder.grid.IsFree(p.x0, p.y0, p.x1, p.y1, ignore_a, ignore_b) &&
         (end_room <= 0 ||
          builder.grid.IsDiscFree(p.x1, p.y1, end_room, ignore_a, ignore_b));
}

bool PathfinderGenerator::TryPlace(SceneBuilder* builder, const Paddle& p,
                                   int slot, uint16_t ignore_a,
                                   uint16_t ignore_b, double margin,
                                   double end_room) const {
  if (!Fits(*builder, p, ignore_a, ignore_b, end_room)) return false;
  StampPaddle(builder, p, slot, margin);
  builder->paddles[slot] = p;
  return true;
}

void PathfinderGenerator::RemovePaddle(SceneBuilder* builder, int slot,
                                       double margin) const {
  const Paddle& p = builder->paddles[slot];
  builder->grid.Erase(p.x0, p.y0, p.x1, p.y1, PaddleKeepOut(margin),
                      OwnerOf(slot));
}

bool PathfinderGenerator::PlaceNext(SceneBuilder* builder, int previous,
                                    int slot, uint16_t also_ignore,
                                    double end_room, bool last_paddle,
                                    double margin, Rng& rng) const {
  const Paddle last = builder->paddles[previous];
  // The predecessor's claim covers the gap, so it is ignored.
  const uint16_t ignore = OwnerOf(previous);
  const TurnTable& table = TurnTableFor(margin);
  const int candidates = static_cast<int>(table.weight.size());
  // As in the reference, the turn is drawn from the continuity kernel over
  // the directions that fit (in bounds and free), about a pixel apart at
  // the paddle's far end; unless it is the last, the paddle must also leave
  // a way to go on. This one-step look-ahead keeps walks out of most dead
  // ends, which otherwise cost several times more in backtracking.
  double weights[2 * kMaxTurnSteps + 1];  // [candidates]
  double total = 0;
  for (int i = 0; i < candidates; ++i) {
    weights[i] = 0;
    const Paddle next = Continue(last, table.cos[i], table.sin[i], margin);
    if (!Fits(*builder, next, ignore, also_ignore, end_room)) continue;
    bool open = last_paddle;
    for (int j = 0; j < candidates && !open; ++j) {
      // The successor ignores `next` (not stamped yet) but not `last`.
      open = Fits(*builder, Continue(next, table.cos[j], table.sin[j], margin),
                  also_ignore, kNoOwner, 0);
    }
    if (open) weights[i] = table.weight[i];
    total += weights[i];
  }
  if (total <= 0) return false;
  double pick = total * rng.UniformDouble();
  int chosen = -1;
  for (int i = 0; i < candidates; ++i) {
    if (weights[i] <= 0) continue;
    chosen = i;
    pick -= weights[i];
    if (pick < 0) break;
  }
  return TryPlace(builder,
                  Continue(last, table.cos[chosen], table.sin[chosen], margin),
                  slot, ignore, also_ignore, margin, end_room);
}

bool PathfinderGenerator::GrowStrands(SceneBuilder* builder, Strand* strands,
                                      int count, double margin,
                                      Rng& rng) const {
  for (int s = 0; s < count; ++s) {
    strands[s].placed = 0;
    strands[s].backtracks = kBacktracksPerPaddle * strands[s].count;
  }
  const auto undo = [&]() {
    for (int s = 0; s < count; ++s) {
      Strand& strand = strands[s];
      if (strand.placed == strand.count && strand.count > 0) {
        const Paddle& p =
            builder->paddles[strand.first_slot + strand.count - 1];
        builder->grid.Erase(p.x1, p.y1, p.x1, p.y1,
                            strand.growth.end_zone_radius,
                            strand.growth.end_zone);
      }
      for (int k = strand.placed - 1; k >= 0; --k) {
        RemovePaddle(builder, strand.first_slot + k, margin);
      }
      strand.placed = 0;
    }
  };
  // The strands take turns, a paddle each, so that contours grown together
  // share the room instead of the first one taking it. When a strand finds
  // no direction, its last few paddles are taken back and grown again: a
  // walk heading into a wall or a dead end turns earlier instead of the
  // contour being thrown away.
  for (;;) {
    bool done = true;
    // Which strand goes first changes from turn to turn, so that neither
    // contour is favoured.
    const int offset =
        count > 1 ? static_cast<int>(rng.UniformInt(0, count - 1)) : 0;
    for (int turn = 0; turn < count; ++turn) {
      Strand& strand = strands[(turn + offset) % count];
      if (strand.placed == strand.count) continue;
      done = false;
      const int slot = strand.first_slot + strand.placed;
      const int previous = strand.placed == 0 ? strand.previous_slot : slot - 1;
      // The contour's first paddles may enter the zone at its start; its
      // last paddle must leave room for the zone at its end.
      const Growth& growth = strand.growth;
      const uint16_t also_ignore =
          growth.first_index + strand.placed < growth.zone_paddles
              ? growth.start_zone
              : kNoOwner;
      const bool last = strand.placed == strand.count - 1;
      if (PlaceNext(builder, previous, slot, also_ignore,
                    last ? growth.end_room : 0, last, margin, rng)) {
        ++strand.placed;
        if (last && growth.end_zone != kNoOwner) {
          const Paddle& p = builder->paddles[slot];
          builder->grid.Stamp(p.x1, p.y1, p.x1, p.y1, growth.end_zone_radius,
                              growth.end_zone);
        }
        continue;
      }
      if (strand.placed == 0 || --strand.backtracks < 0) {
        undo();
        return false;
      }
      const int back = static_cast<int>(
          std::min<int64_t>(strand.placed, rng.UniformInt(1, kMaxBacktrack)));
      for (int k = 0; k < back; ++k) {
        --strand.placed;
        RemovePaddle(builder, strand.first_slot + strand.placed, margin);
      }
    }
    if (done) return true;
  }
}

bool PathfinderGenerator::AddFreeContour(SceneBuilder* builder, int count,
                                         int tries, double margin,
                                         Rng& rng) const {
  const double lo = params_.style.padding + params_.style.thickness / 2;
  const double span = params_.style.resolution - 2 * lo;
  const int first = static_cast<int>(builder->paddles.size());
  const int contour = static_cast<int>(builder->contours.size());
  const uint16_t free_ends = FreeEndOwner(contour);
  builder->paddles.resize(first + count);
  for (int attempt = 0; attempt < tries; ++attempt) {
    // Like the reference, a contour starts from a free spot: the first
    // paddle is redrawn until it fits (cheap, nothing is stamped yet).
    bool seeded = false;
    for (int seed = 0; seed < kSeedDraws && !seeded; ++seed) {
      const double x = lo + span * rng.UniformDouble();
      const double y = lo + span * rng.UniformDouble();
      // The start is a free end too.
      if (!builder->grid.IsDiscFree(x, y, FreeEndRoom(margin), kNoOwner,
                                    kNoOwner)) {
        continue;
      }
      seeded = TryPlace(
          builder,
          Snapped(RandomPaddleFrom(x, y, params_.style.paddle_length, rng)),
          first, kNoOwner, kNoOwner, margin, /*end_room=*/0);
    }
    if (!seeded) break;
    Strand strand;
    strand.previous_slot = first;
    strand.first_slot = first + 1;
    strand.count = count - 1;
    strand.growth.first_index = 1;
    strand.growth.end_room = FreeEndRoom(margin);
    strand.growth.end_zone = free_ends;
    strand.growth.end_zone_radius = FreeEndZone(margin);
    if (GrowStrands(builder, &strand, 1, margin, rng)) {
      const Paddle& head = builder->paddles[first];
      builder->grid.Stamp(head.x0, head.y0, head.x0, head.y0,
                          FreeEndZone(margin), free_ends);
      builder->contours.push_back({first, count});
      return true;
    }
    RemovePaddle(builder, first, margin);
  }
  builder->paddles.resize(first);
  return false;
}

bool PathfinderGenerator::EndIsClear(const SceneBuilder& pair, int contour,
                                     bool at_start, double margin) const {
  const int length = params_.contour_length;
  const Paddle& own_end = at_start
                              ? pair.paddles[contour * length]
                              : pair.paddles[contour * length + length - 1];
  const double x = at_start ? own_end.x0 : own_end.x1;
  const double y = at_start ? own_end.y0 : own_end.y1;
  const double radius = params_.style.marker_radius;
  const int n = params_.style.resolution;
  if (x < radius || x > n - radius || y < radius || y > n - radius) {
    return false;
  }
  // Of its own contour, only the two paddles next to an end may come close
  // to it: the others may end up in the contour of the other end when the
  // contour is broken, and the same rule for every end keeps the
  // surroundings of marked and unmarked ends alike.
  for (int i = 0; i < 2 * length; ++i) {
    const int own_index = i - contour * length;
    const bool own = own_index >= 0 && own_index < length;
    if (own && (at_start ? own_index < 2 : own_index >= length - 2)) {
      continue;
    }
    if (DistanceToPaddle(x, y, pair.paddles[i]) < MarkerKeepOut(margin)) {
      return false;
    }
  }
  return true;
}

bool PathfinderGenerator::GrowPair(SceneBuilder* pair, double margin,
                                   Rng& rng) const {
  const ResolutionStyle& style = params_.style;
  const int length = params_.contour_length;
  const double radius = style.marker_radius;
  // As in the reference, the two contours start seed_distance apart around
  // a point at least 2 * seed_distance from the borders.
  double lo = std::min(2.0 * style.seed_distance, style.resolution / 2.0);
  double hi = style.resolution - lo;
  const double cx = lo + (hi - lo) * rng.UniformDouble();
  const double cy = lo + (hi - lo) * rng.UniformDouble();
  const double angle = 2 * kPi * rng.UniformDouble();
  const double half = style.seed_distance / 2.0;
  const double start_x[2] = {cx + half * std::cos(angle),
                             cx - half * std::cos(angle)};
  const double start_y[2] = {cy + half * std::sin(angle),
                             cy - half * std::sin(angle)};
  for (int c = 0; c < 2; ++c) {
    pair->grid.Stamp(start_x[c], start_y[c], start_x[c], start_y[c],
                     MarkerKeepOut(margin), kEndOwner[2 * c]);
  }
  // Like the reference, the two contours grow together, a paddle each in
  // turn. Each may come near its own ends (with the two paddles next to
  // them), never near the other's.
  pair->paddles.resize(2 * length);
  for (int c = 0; c < 2; ++c) {
    if (!TryPlace(pair,
                  Snapped(RandomPaddleFrom(start_x[c], start_y[c],
                                           style.paddle_length, rng)),
                  c * length, kEndOwner[2 * c], kNoOwner, margin,
                  /*end_room=*/0)) {
      return false;
    }
  }
  Strand strands[2];
  for (int c = 0; c < 2; ++c) {
    strands[c].previous_slot = c * length;
    strands[c].first_slot = c * length + 1;
    strands[c].count = length - 1;
    Growth& growth = strands[c].growth;
    growth.start_zone = kEndOwner[2 * c];
    growth.first_index = 1;
    growth.zone_paddles = 2;
    growth.end_room = MarkerKeepOut(margin) - PaddleKeepOut(margin);
    growth.end_zone = kEndOwner[2 * c + 1];
    growth.end_zone_radius = MarkerKeepOut(margin);
  }
  if (!GrowStrands(pair, strands, 2, margin, rng)) return false;
  double end_x[4], end_y[4];
  for (int c = 0; c < 2; ++c) {
    for (int e = 0; e < 2; ++e) {
      if (!EndIsClear(*pair, c, e == 0, margin)) return false;
      const Paddle& p = pair->paddles[c * length + (e == 0 ? 0 : length - 1)];
      end_x[2 * c + e] = e == 0 ? p.x0 : p.x1;
      end_y[2 * c + e] = e == 0 ? p.y0 : p.y1;
    }
  }
  // Any two ends may carry the markers, so no two may touch.
  const double apart = 2 * radius + kEndSeparation * margin;
  for (int a = 0; a < 4; ++a) {
    for (int b = a + 1; b < 4; ++b) {
      const double dx = end_x[a] - end_x[b], dy = end_y[a] - end_y[b];
      if (dx * dx + dy * dy < apart * apart) return false;
    }
  }
  pair->contours.push_back({0, length});
  pair->contours.push_back({length, length});
  return true;
}

bool PathfinderGenerator::BuildScene(const SceneBuilder& pair, int whole,
                                     SceneBuilder* builder, double margin,
                                     Rng& rng) const {
  const int length = params_.contour_length;
  const int max_keep = MaxKeep();
  const Paddle* kept = pair.paddles.data() + whole * length;  // [length]
  const Paddle* broken =
      pair.paddles.data() + (1 - whole) * length;  // [length]
  // Grid owners here: the whole contour's ends are kEndOwner[0] and [1],
  // the broken one's start and end kEndOwner[2] and [3].
  const auto stamp_end = [&](const Paddle& p, bool at_start, uint16_t owner) {
    const double x = at_start ? p.x0 : p.x1, y = at_start ? p.y0 : p.y1;
    builder->grid.Stamp(x, y, x, y, MarkerKeepOut(margin), owner);
  };
  // Contour A (indices length .. 2 * length - 1): the broken contour's first
  // keep_a paddles, then its own continuation. Contour B (2 * length ..
  // 3 * length - 1): its last keep_b paddles reversed, so that B starts at
  // the broken contour's end, then its continuation. Both kept pieces are
  // stamped before either grows, so neither continuation runs into the
  // other's start. A may come near its own start (and B near its own),
  // never near the other ends.
  ResetBuilder(params_.style.resolution, builder);
  builder->paddles.resize(3 * length);
  for (int i = 0; i < length; ++i) {
    StampPaddle(builder, kept[i], i, margin);
    builder->paddles[i] = kept[i];
  }
  stamp_end(kept[0], true, kEndOwner[0]);
  stamp_end(kept[length - 1], false, kEndOwner[1]);
  stamp_end(broken[0], true, kEndOwner[2]);
  stamp_end(broken[length - 1], false, kEndOwner[3]);
  builder->base_grid = builder->grid;
  for (int round = 0; round < kBreakRounds; ++round) {
    if (round > 0) builder->grid = builder->base_grid;
    const int keep_a = static_cast<int>(rng.UniformInt(1, max_keep));
    const int keep_b = static_cast<int>(rng.UniformInt(1, max_keep));
    for (int i = 0; i < keep_a; ++i) {
      StampPaddle(builder, broken[i], length + i, margin);
      builder->paddles[length + i] = broken[i];
    }
    for (int j = 0; j < keep_b; ++j) {
      StampPaddle(builder, Reversed(broken[length - 1 - j]), 2 * length + j,
                  margin);
      builder->paddles[2 * length + j] = Reversed(broken[length - 1 - j]);
    }
    // The continuations grow together; their free ends get zones that
    // later contours keep out of.
    Strand strands[2];
    strands[0].previous_slot = length + keep_a - 1;
    strands[0].first_slot = length + keep_a;
    strands[0].count = length - keep_a;
    strands[0].growth.start_zone = kEndOwner[2];
    strands[0].growth.first_index = keep_a;
    strands[1].previous_slot = 2 * length + keep_b - 1;
    strands[1].first_slot = 2 * length + keep_b;
    strands[1].count = length - keep_b;
    strands[1].growth.start_zone = kEndOwner[3];
    strands[1].growth.first_index = keep_b;
    for (int k = 0; k < 2; ++k) {
      strands[k].growth.zone_paddles = 2;
      strands[k].growth.end_room = FreeEndRoom(margin);
      strands[k].growth.end_zone = FreeEndOwner(1 + k);
      strands[k].growth.end_zone_radius = FreeEndZone(margin);
    }
    if (!GrowStrands(builder, strands, 2, margin, rng)) continue;
    builder->contours.push_back({0, length});
    builder->contours.push_back({length, length});
    builder->contours.push_back({2 * length, length});
    return true;
  }
  return false;
}

bool PathfinderGenerator::DrawScene(uint64_t data_seed, Split split,
                                    int64_t index,
                                    GeneratorScratch* scratch) const {
  const ResolutionStyle& style = params_.style;
  Rng rng(ExampleSeed(kStreamTag, data_seed, split, index));
  Scene& scene = scratch->scene;
  scene.label = static_cast<int>(rng.Next() >> 63);
  scene.margin = style.margins[style.margin_count > 1
                                   ? rng.UniformInt(0, style.margin_count - 1)
                                   : 0];
  const double margin = scene.margin;
  SceneBuilder* chosen = nullptr;
  int attempt = 1;
  for (; attempt <= kMaxSceneAttempts; ++attempt) {
    // Sub-streams are drawn in a fixed order whatever the label.
    Rng pair_rng(rng.Next());
    Rng scene_rng[2] = {Rng(rng.Next()), Rng(rng.Next())};
    const int whole = static_cast<int>(rng.Next() >> 63);
    ResetBuilder(style.resolution, &scratch->pair);
    if (!GrowPair(&scratch->pair, margin, pair_rng)) continue;
    // The pair is kept only when both contours can be the broken one, so
    // the whole and the broken contour have the same distribution, and so
    // do the markers of both labels.
    if (!BuildScene(scratch->pair, whole, &scratch->scenes[whole], margin,
                    scene_rng[whole]) ||
        !BuildScene(scratch->pair, 1 - whole, &scratch->scenes[1 - whole],
                    margin, scene_rng[1 - whole])) {
      continue;
    }
    chosen = &scratch->scenes[whole];
    break;
  }
  scene.attempts = attempt;
  if (chosen == nullptr) {
    // Markers only, two paddle steps apart around the centre, so the image
    // keeps the task's shape.
    const double centre = style.resolution / 2.0;
    const double step = style.paddle_length + 2 * margin;
    scene.marker_x[0] = centre - step;
    scene.marker_y[0] = centre;
    scene.marker_x[1] = centre + step;
    scene.marker_y[1] = centre;
    scene.paddles.clear();
    scene.contours.clear();
    return false;
  }
  // Label 1: the whole contour's ends. Label 0: the starts of A and B,
  // that is the two ends of the broken contour.
  const int length = params_.contour_length;
  const Paddle& first = chosen->paddles[scene.label == 1 ? 0 : length];
  const Paddle& second = scene.label == 1
                             ? chosen->paddles[length - 1]
                             : Reversed(chosen->paddles[2 * length]);
  scene.marker_x[0] = first.x0;
  scene.marker_y[0] = first.y0;
  scene.marker_x[1] = second.x1;
  scene.marker_y[1] = second.y1;
  Rng distractor_rng(rng.Next());
  for (int d = 0; d < params_.distractors; ++d) {
    AddFreeContour(chosen, params_.distractor_length, kDistractorTries, margin,
                   distractor_rng);
  }
  scene.paddles = chosen->paddles;
  scene.contours = chosen->contours;
  return true;
}

void PathfinderGenerator::RenderFilteredPaddle(const Paddle& p,
                                               float* out) const {
  const ResolutionStyle& style = params_.style;
  const int n = style.resolution;
  const double half = style.thickness / 2;
  const double length = style.paddle_length;
  // Sums the filter's weights of the paddle's subsamples into the pixels
  // around them, in a window of the paddle's box widened by the filter's
  // reach.
  constexpr int kWindow = 16;
  float acc[kWindow * kWindow] = {};
  const double x_lo = std::min(p.x0, p.x1) - half;
  const double x_hi = std::max(p.x0, p.x1) + half;
  const double y_lo = std::min(p.y0, p.y1) - half;
  const double y_hi = std::max(p.y0, p.y1) + half;
  const int c0 = static_cast<int>(std::floor(x_lo)) - kFilterReach;
  const int r0 = static_cast<int>(std::floor(y_lo)) - kFilterReach;
  const int fx_lo = static_cast<int>(std::floor(x_lo * kFilterSubsamples));
  const int fx_hi = static_cast<int>(std::ceil(x_hi * kFilterSubsamples));
  const int fy_lo = static_cast<int>(std::floor(y_lo * kFilterSubsamples));
  const int fy_hi = static_cast<int>(std::ceil(y_hi * kFilterSubsamples));
  for (int fy = fy_lo; fy < fy_hi; ++fy) {
    const double y = (fy + 0.5) / kFilterSubsamples;
    const int pr = static_cast<int>(std::floor(y));
    const float* ky = &filter_[(fy - pr * kFilterSubsamples) * kFilterTaps];
    for (int fx = fx_lo; fx < fx_hi; ++fx) {
      const double x = (fx + 0.5) / kFilterSubsamples;
      const double dx = x - p.x0, dy = y - p.y0;
      const double along = dx * p.ux + dy * p.uy;
      const double across = dy * p.ux - dx * p.uy;
      if (along < 0 || along > length || std::abs(across) > half) continue;
      const int pc = static_cast<int>(std::floor(x));
      const float* kx = &filter_[(fx - pc * kFilterSubsamples) * kFilterTaps];
      for (int i = 0; i < kFilterTaps; ++i) {
        const int wr = pr - kFilterReach + i - r0;
        if (wr < 0 || wr >= kWindow) continue;
        for (int j = 0; j < kFilterTaps; ++j) {
          const int wc = pc - kFilterReach + j - c0;
          if (wc < 0 || wc >= kWindow) continue;
          acc[wr * kWindow + wc] += ky[i] * kx[j];
        }
      }
    }
  }
  const float gain =
      static_cast<float>(style.contrast * kFilteredPaddleGain /
                         (kFilterSubsamples * kFilterSubsamples));
  for (int wr = 0; wr < kWindow; ++wr) {
    const int r = r0 + wr;
    if (r < 0 || r >= n) continue;
    for (int wc = 0; wc < kWindow; ++wc) {
      const int c = c0 + wc;
      if (c < 0 || c >= n) continue;
      // The filter's negative lobes may leave a pixel below 0.
      const float value = std::clamp(gain * acc[wr * kWindow + wc], 0.0f, 1.0f);
      float& pixel = out[static_cast<size_t>(r) * n + c];
      pixel = std::max(pixel, value);
    }
  }
}

void PathfinderGenerator::Render(const Scene& scene, std::vector<float>* canvas,
                                 uint8_t* pixels) const {
  const ResolutionStyle& style = params_.style;
  const int n = style.resolution;
  canvas->assign(static_cast<size_t>(n) * n, 0.0f);
  float* out = canvas->data();  // [n, n]
  constexpr int kS = kSupersample;
  constexpr float kInvSamples = 1.0f / (kS * kS);
  // Max-combines gain x coverage into the pixels of the box [x_lo, x_hi] x
  // [y_lo, y_hi], where `inside(x, y)` tells whether a subsample is covered.
  auto raster = [&](double x_lo, double x_hi, double y_lo, double y_hi,
                    float gain, auto inside) {
    const int c_lo = std::max(0, static_cast<int>(std::floor(x_lo)));
    const int c_hi = std::min(n - 1, static_cast<int>(std::floor(x_hi)));
    const int r_lo = std::max(0, static_cast<int>(std::floor(y_lo)));
    const int r_hi = std::min(n - 1, static_cast<int>(std::floor(y_hi)));
    for (int r = r_lo; r <= r_hi; ++r) {
      for (int c = c_lo; c <= c_hi; ++c) {
        int hits = 0;
        for (int sy = 0; sy < kS; ++sy) {
          const double y = r + (sy + 0.5) / kS;
          for (int sx = 0; sx < kS; ++sx) {
            hits += inside(c + (sx + 0.5) / kS, y);
          }
        }
        if (hits == 0) continue;
        const float value = std::min(1.0f, gain * hits * kInvSamples);
        float& pixel = out[static_cast<size_t>(r) * n + c];
        pixel = std::max(pixel, value);
      }
    }
  };
  const double half = style.thickness / 2;
  const double length = style.paddle_length;
  for (const Paddle& p : scene.paddles) {
    if (style.snap_to_pixel_centres) {
      RenderFilteredPaddle(p, out);
      continue;
    }
    const double ux = p.ux, uy = p.uy;
    raster(std::min(p.x0, p.x1) - half, std::max(p.x0, p.x1) + half,
           std::min(p.y0, p.y1) - half, std::max(p.y0, p.y1) + half,
           static_cast<float>(style.contrast), [&](double x, double y) {
             const double dx = x - p.x0, dy = y - p.y0;
             const double along = dx * ux + dy * uy;
             const double across = dy * ux - dx * uy;
             return along >= 0 && along <= length && std::abs(across) <= half;
           });
  }
  const double radius = style.marker_radius;
  for (int m = 0; m < 2; ++m) {
    const double cx = scene.marker_x[m], cy = scene.marker_y[m];
    raster(cx - radius, cx + radius, cy - radius, cy + radius, 1.0f,
           [&](double x, double y) {
             const double dx = x - cx, dy = y - cy;
             return dx * dx + dy * dy <= radius * radius;
           });
  }
  for (size_t i = 0; i < canvas->size(); ++i) {
    pixels[i] = static_cast<uint8_t>(std::lround(out[i] * 255.0f));
  }
}

int32_t PathfinderGenerator::Generate(uint64_t data_seed, Split split,
                                      int64_t index, GeneratorScratch* scratch,
                                      uint8_t* pixels) const {
  DrawScene(data_seed, split, index, scratch);
  Render(scratch->scene, &scratch->canvas, pixels);
  return scratch->scene.label;
}

}  // namespace pathfinder
}  // namespace lra
