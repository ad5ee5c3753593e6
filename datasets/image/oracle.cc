#include "datasets/image/oracle.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lra {
namespace image {
namespace {

// The threshold that maximises the between-class variance of a 256-bin
// histogram (Otsu's method); values > threshold are one class.
int OtsuThreshold(const std::vector<int>& histogram) {
  double total = 0, weighted = 0;
  for (int v = 0; v < 256; ++v) {
    total += histogram[v];
    weighted += v * static_cast<double>(histogram[v]);
  }
  double below = 0, below_weighted = 0, best = -1;
  int threshold = 0;
  for (int t = 0; t < 255; ++t) {
    below += histogram[t];
    below_weighted += t * static_cast<double>(histogram[t]);
    const double above = total - below;
    if (below == 0 || above == 0) continue;
    const double mean_below = below_weighted / below;
    const double mean_above = (weighted - below_weighted) / above;
    const double between =
        below * above * (mean_below - mean_above) * (mean_below - mean_above);
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

// Labels the connected regions of pixels where mask == value; returns the
// pixel lists of each region.
std::vector<std::vector<int>> Regions(const std::vector<bool>& mask, bool value,
                                      int size, bool eight) {
  std::vector<int> seen(mask.size(), 0);
  std::vector<std::vector<int>> regions;
  std::vector<int> stack;
  for (int start = 0; start < size * size; ++start) {
    if (mask[start] != value || seen[start]) continue;
    regions.emplace_back();
    stack.push_back(start);
    seen[start] = 1;
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      regions.back().push_back(p);
      const int x = p % size, y = p / size;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          if ((dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0)) continue;
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const int q = ny * size + nx;
          if (mask[q] == value && !seen[q]) {
            seen[q] = 1;
            stack.push_back(q);
          }
        }
      }
    }
  }
  return regions;
}

}  // namespace

ShapeFeatures DescribeImage(absl::Span<const int32_t> tokens, int size) {
  const int n = size * size;
  // A 3 x 3 binomial blur (1 2 1 by 1 2 1, renormalised at the border)
  // averages most of the noise away without closing gaps of 2 pixels.
  std::vector<int> smooth(n);
  std::vector<int> histogram(256, 0);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      int sum = 0, count = 0;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const int weight = (dx == 0 ? 2 : 1) * (dy == 0 ? 2 : 1);
          sum += weight * (tokens[ny * size + nx] - 1);
          count += weight;
        }
      }
      smooth[y * size + x] = (sum + count / 2) / count;
      ++histogram[smooth[y * size + x]];
    }
  }
  const int threshold = OtsuThreshold(histogram);
  std::vector<bool> ink(n);
  int ink_count = 0;
  for (int p = 0; p < n; ++p) {
    ink[p] = smooth[p] > threshold;
    ink_count += ink[p];
  }
  // Shapes cover a small part of the image, light or dark.
  if (ink_count > n / 2) ink.flip();

  // Speckles of noise are dropped before counting.
  const int min_object = std::max(4, n / 256);
  ShapeFeatures features;
  std::vector<std::vector<int>> objects;
  for (auto& region : Regions(ink, true, size, /*eight=*/true)) {
    if (static_cast<int>(region.size()) < min_object) {
      for (int p : region) ink[p] = false;
    } else {
      objects.push_back(std::move(region));
    }
  }
  features.objects = static_cast<int>(objects.size());
  for (const auto& region : Regions(ink, false, size, /*eight=*/false)) {
    bool border = false;
    for (int p : region) {
      const int x = p % size, y = p / size;
      border |= x == 0 || y == 0 || x == size - 1 || y == size - 1;
    }
    if (!border && region.size() >= 2) ++features.holes;
  }
  for (const auto& region : objects) {
    double mx = 0, my = 0;
    for (int p : region) {
      mx += p % size + 0.5;
      my += p / size + 0.5;
    }
    mx /= region.size();
    my /= region.size();
    double sxx = 0, syy = 0, sxy = 0, reach = 0;
    for (int p : region) {
      const double dx = p % size + 0.5 - mx, dy = p / size + 0.5 - my;
      sxx += dx * dx;
      syy += dy * dy;
      sxy += dx * dy;
      reach = std::max(reach, std::hypot(dx, dy) + 0.5);
    }
    const double mean = (sxx + syy) / 2;
    const double spread = std::sqrt((sxx - syy) * (sxx - syy) / 4 + sxy * sxy);
    const double elongation =
        std::sqrt((mean + spread) / std::max(mean - spread, 1e-9));
    features.max_elongation = std::max(features.max_elongation, elongation);
    features.solidity = region.size() / (3.14159265358979 * reach * reach);
  }
  return features;
}

int ClassifyShapes(const ShapeFeatures& f) {
  constexpr double kLong = 2.0;
  if (f.objects == 1 && f.holes == 0) {
    if (f.max_elongation > kLong) return 2;  // bar
    return f.solidity > 0.55 ? 0 : 3;        // disk or cross
  }
  if (f.objects == 1 && f.holes == 1) return 1;  // ring
  if (f.objects == 1 && f.holes == 2) return 8;  // figure eight
  if (f.objects == 2 && f.holes == 0) {
    return f.max_elongation > kLong ? 9 : 4;  // disk and bar, two disks
  }
  if (f.objects == 2 && f.holes == 1) return 7;  // eye
  if (f.objects == 3 && f.holes == 0) return 5;
  if (f.objects == 4 && f.holes == 0) return 6;
  return -1;
}

}  // namespace image
}  // namespace lra
