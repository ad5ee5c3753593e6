#include "datasets/image/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"

namespace lra {
namespace image {
namespace {

// Keeps this generator's streams apart from every other task's (an
// arbitrary constant; changing it changes every generated example).
constexpr uint64_t kStreamTag = 0x496d675368617065ULL;  // "ImgShape"

constexpr double kPi = 3.14159265358979323846;
constexpr int kMaxPixels = kMaxImageSize * kMaxImageSize;
constexpr int kSupersample = 4;

constexpr absl::string_view kClassNames[kNumShapeClasses] = {
    "disk",        "ring",       "bar", "cross",        "two disks",
    "three disks", "four disks", "eye", "figure eight", "disk and bar"};

// One filled primitive: an annulus (inner radius 0 for a disk) or a
// rotated rectangle, relative to its object's center.
struct Primitive {
  bool rectangle = false;
  double dx = 0, dy = 0;        // Offset from the object center.
  double inner = 0, outer = 0;  // Annulus radii.
  double half_length = 0, half_width = 0, cos = 1, sin = 0;  // Rectangle.

  bool Contains(double x, double y) const {
    const double u = x - dx;
    const double v = y - dy;
    if (rectangle) {
      return std::abs(u * cos + v * sin) <= half_length &&
             std::abs(-u * sin + v * cos) <= half_width;
    }
    const double d2 = u * u + v * v;
    return d2 <= outer * outer && d2 >= inner * inner;
  }
};

// A connected object: up to two primitives around a center, inside a
// circle of `radius`.
struct Object {
  std::array<Primitive, 2> parts;
  int num_parts = 0;
  double radius = 0;
  double cx = 0, cy = 0;  // Set by placement.
};

struct Scene {
  std::array<Object, 4> objects;
  int num_objects = 0;
};

Primitive Annulus(double inner, double outer, double dx = 0, double dy = 0) {
  Primitive p;
  p.inner = inner;
  p.outer = outer;
  p.dx = dx;
  p.dy = dy;
  return p;
}

Primitive Rectangle(double length, double width, double angle) {
  Primitive p;
  p.rectangle = true;
  p.half_length = length / 2;
  p.half_width = width / 2;
  p.cos = std::cos(angle);
  p.sin = std::sin(angle);
  return p;
}

Object Single(const Primitive& p, double radius) {
  Object o;
  o.parts[0] = p;
  o.num_parts = 1;
  o.radius = radius;
  return o;
}

Object Disk(double r) { return Single(Annulus(0, r), r); }

Object Bar(double area, double aspect, double angle) {
  const double width = std::sqrt(area / aspect);
  const double length = aspect * width;
  return Single(Rectangle(length, width, angle),
                std::hypot(length / 2, width / 2));
}

// Area of the lens where two circles of radius r, d apart, overlap.
double LensArea(double r, double d) {
  return 2 * r * r * std::acos(d / (2 * r)) -
         d / 2 * std::sqrt(4 * r * r - d * d);
}

// The objects of class `label` with ink area about `area`.
Scene Compose(int label, double area, Rng& rng) {
  auto uniform = [&rng](double lo, double hi) {
    return lo + (hi - lo) * rng.UniformDouble();
  };
  Scene scene;
  auto add = [&scene](const Object& o) {
    scene.objects[scene.num_objects++] = o;
  };
  switch (label) {
    case 0:  // disk
      add(Disk(std::sqrt(area / kPi)));
      break;
    case 1: {  // ring
      const double q = uniform(0.45, 0.6);
      const double outer = std::sqrt(area / (kPi * (1 - q * q)));
      add(Single(Annulus(q * outer, outer), outer));
      break;
    }
    case 2:  // bar
      add(Bar(area, uniform(3, 4), uniform(0, kPi)));
      break;
    case 3: {  // cross: two bars at right angles sharing their middle
      const double width = std::sqrt(area) * uniform(0.26, 0.32);
      const double length = (area + width * width) / (2 * width);
      const double angle = uniform(0, kPi / 2);
      Object o;
      o.parts[0] = Rectangle(length, width, angle);
      o.parts[1] = Rectangle(length, width, angle + kPi / 2);
      o.num_parts = 2;
      o.radius = std::hypot(length / 2, width / 2);
      add(o);
      break;
    }
    case 4:
    case 5:
    case 6: {  // two, three or four disks
      const int count = label - 2;
      for (int i = 0; i < count; ++i)
        add(Disk(std::sqrt(area / (count * kPi))));
      break;
    }
    case 7: {  // eye: a ring with a dot in its middle
      const double q = uniform(0.68, 0.74);  // inner / outer radius
      const double p = uniform(0.38, 0.44);  // dot / inner radius
      const double outer =
          std::sqrt(area / (kPi * (1 - q * q + q * q * p * p)));
      Object o;
      o.parts[0] = Annulus(q * outer, outer);
      o.parts[1] = Annulus(0, p * q * outer);
      o.num_parts = 2;
      o.radius = outer;
      add(o);
      break;
    }
    case 8: {  // figure eight: two rings whose centers are inner + outer
               // apart, so each crosses the other's middle and both holes
               // stay whole
      const double q = uniform(0.52, 0.58);
      const double d = 1 + q;  // For outer radius 1.
      const double unit_area = 2 * kPi * (1 - q * q) - LensArea(1, d);
      const double outer = std::sqrt(area / unit_area);
      const double angle = uniform(0, kPi);
      const double hx = std::cos(angle) * d * outer / 2;
      const double hy = std::sin(angle) * d * outer / 2;
      Object o;
      o.parts[0] = Annulus(q * outer, outer, hx, hy);
      o.parts[1] = Annulus(q * outer, outer, -hx, -hy);
      o.num_parts = 2;
      o.radius = d * outer / 2 + outer;
      add(o);
      break;
    }
    default: {  // 9: disk and bar, half the ink each
      add(Disk(std::sqrt(area / (2 * kPi))));
      add(Bar(area / 2, uniform(3, 4), uniform(0, kPi)));
      break;
    }
  }
  return scene;
}

// Places the objects at random inside the image, each at least `gap`
// pixels from the others and 1 pixel from the border.
void Place(Scene& scene, int size, Rng& rng) {
  constexpr double kGap = 3;
  constexpr int kTries = 1000;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    bool ok = true;
    for (int i = 0; i < scene.num_objects && ok; ++i) {
      Object& o = scene.objects[i];
      const double lo = o.radius + 1;
      const double hi = std::max(lo, size - o.radius - 1);
      o.cx = lo + (hi - lo) * rng.UniformDouble();
      o.cy = lo + (hi - lo) * rng.UniformDouble();
      for (int j = 0; j < i; ++j) {
        const Object& other = scene.objects[j];
        if (std::hypot(o.cx - other.cx, o.cy - other.cy) <
            o.radius + other.radius + kGap) {
          ok = false;
        }
      }
    }
    // The sizes leave plenty of room, so this virtually never fails; the
    // last attempt stands even if it does.
    if (ok) return;
  }
}

// Standard normal draws by Box-Muller, using both values of each pair.
class Normal {
 public:
  explicit Normal(Rng& rng) : rng_(rng) {}
  double Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2 * std::log(1 - rng_.UniformDouble()));
    const double angle = 2 * kPi * rng_.UniformDouble();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  Rng& rng_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace

absl::string_view ShapeClassName(int label) {
  return label >= 0 && label < kNumShapeClasses ? kClassNames[label] : "?";
}

absl::Status ValidateImageStandIn(const ImageConfig& config, int seq_len,
                                  const std::string& field_prefix) {
  const int size = config.image_size();
  if (size < kMinImageSize || size > kMaxImageSize) {
    return FieldError(field_prefix + "image_size", absl::StrCat(size),
                      absl::StrCat(kMinImageSize, "..", kMaxImageSize));
  }
  if (seq_len != size * size) {
    return FieldError(
        "task.seq_len", absl::StrCat(seq_len),
        absl::StrCat(size * size, " = ", field_prefix, "image_size^2"));
  }
  if (!(config.noise() > 0 && config.noise() <= 2)) {
    return FieldError(field_prefix + "noise", absl::StrCat(config.noise()),
                      "0 < noise <= 2");
  }
  return absl::OkStatus();
}

int32_t GenerateImageExample(const ImageConfig& config, uint64_t data_seed,
                             Split split, int64_t index, int32_t* tokens) {
  Rng rng(ExampleSeed(kStreamTag, data_seed, split, index));
  const int size = config.image_size();
  const int pixels = size * size;
  const int32_t label =
      static_cast<int32_t>(rng.UniformInt(0, kNumShapeClasses - 1));
  // Label-independent parameters first, so that they are drawn the same
  // way for every class.
  const double area = (0.12 + 0.06 * rng.UniformDouble()) * pixels;
  const double background = 60 + 130 * rng.UniformDouble();
  double contrast = 50 + 50 * rng.UniformDouble();
  if (rng.Bernoulli(0.5)) contrast = -contrast;
  if (background + contrast > 240 || background + contrast < 15) {
    contrast = -contrast;
  }
  const double sigma = config.noise() * std::abs(contrast);
  const double texture = 0.2 * std::abs(contrast) * rng.UniformDouble();
  const double period = 4 + 6 * rng.UniformDouble();
  const double texture_angle = kPi * rng.UniformDouble();
  const double phase = 2 * kPi * rng.UniformDouble();

  // The grating sin(kx x + ky y + phase), split into per-column and per-row
  // factors: sin(a + b) = sin a cos b + cos a sin b.
  const double kx = std::cos(texture_angle) * 2 * kPi / period;
  const double ky = std::sin(texture_angle) * 2 * kPi / period;
  std::array<double, kMaxImageSize> sin_x, cos_x, sin_y, cos_y;
  for (int i = 0; i < size; ++i) {
    sin_x[i] = std::sin(kx * i);
    cos_x[i] = std::cos(kx * i);
    sin_y[i] = std::sin(ky * i + phase);
    cos_y[i] = std::cos(ky * i + phase);
  }
  auto grating = [&](int x, int y) {
    return texture * (sin_x[x] * cos_y[y] + cos_x[x] * sin_y[y]);
  };

  // The target histogram: `pixels` sorted draws of the same model with a
  // rounded A pixels of ink, the grating taken at random pixels.
  Normal normal(rng);
  std::array<float, kMaxPixels> target;
  const int ink = static_cast<int>(std::lround(area));
  for (int i = 0; i < pixels; ++i) {
    const int at = static_cast<int>(rng.UniformInt(0, pixels - 1));
    target[i] = static_cast<float>(background + (i < ink ? contrast : 0) +
                                   grating(at % size, at / size) +
                                   sigma * normal.Next());
  }
  std::sort(target.begin(), target.begin() + pixels);

  // The picture, as sort keys: the value's bits made to order like the
  // value, then the pixel index, so that one integer sort ranks the pixels
  // (ties by index).
  Scene scene = Compose(label, area, rng);
  Place(scene, size, rng);
  std::array<uint64_t, kMaxPixels> keys;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      // Objects whose bounding circle misses this pixel are skipped.
      std::array<bool, 4> near;
      bool any = false;
      for (int o = 0; o < scene.num_objects; ++o) {
        const Object& object = scene.objects[o];
        const double dx = x + 0.5 - object.cx;
        const double dy = y + 0.5 - object.cy;
        const double reach = object.radius + 0.75;
        near[o] = dx * dx + dy * dy <= reach * reach;
        any |= near[o];
      }
      int covered = 0;
      for (int sy = 0; sy < kSupersample && any; ++sy) {
        for (int sx = 0; sx < kSupersample; ++sx) {
          const double px = x + (sx + 0.5) / kSupersample;
          const double py = y + (sy + 0.5) / kSupersample;
          bool inside = false;
          for (int o = 0; o < scene.num_objects && !inside; ++o) {
            const Object& object = scene.objects[o];
            if (!near[o]) continue;
            for (int k = 0; k < object.num_parts && !inside; ++k) {
              inside = object.parts[k].Contains(px - object.cx, py - object.cy);
            }
          }
          covered += inside;
        }
      }
      const double coverage =
          static_cast<double>(covered) / (kSupersample * kSupersample);
      const float value =
          static_cast<float>(background + contrast * coverage + grating(x, y) +
                             sigma * normal.Next());
      uint32_t bits;
      std::memcpy(&bits, &value, sizeof(bits));
      // Negative floats order in reverse as integers: flip all their bits;
      // positive ones only need the sign bit set above them.
      bits = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
      const int index = y * size + x;
      keys[index] = uint64_t{bits} << 32 | static_cast<uint32_t>(index);
    }
  }

  // Rank for rank: the k-th smallest pixel gets the k-th smallest target.
  std::sort(keys.begin(), keys.begin() + pixels);
  for (int k = 0; k < pixels; ++k) {
    const float v = std::clamp(target[k], 0.0f, 255.0f);
    tokens[keys[k] & 0xffffffffu] = static_cast<int32_t>(std::lround(v)) + 1;
  }
  return label;
}

}  // namespace image
}  // namespace lra
