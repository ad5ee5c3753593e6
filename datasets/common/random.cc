#include "datasets/common/random.h"

#include <cstring>

namespace lra {
namespace {

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t MixBits(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t DeriveSeed(std::initializer_list<uint64_t> parts) {
  // Chaining through the mix makes the result depend on the order of parts;
  // the running count keeps {a} and {a, 0} apart.
  uint64_t h = kGoldenGamma;
  for (uint64_t part : parts) h = MixBits(h + kGoldenGamma + MixBits(part));
  return MixBits(h + parts.size());
}

uint64_t Fingerprint64(absl::Span<const uint8_t> bytes, uint64_t seed) {
  uint64_t h = MixBits(seed ^ (bytes.size() * kGoldenGamma));
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = MixBits(h ^ word) + kGoldenGamma;
  }
  // The tail is packed little-endian by hand so the value does not depend on
  // the machine's byte order.
  uint64_t tail = 0;
  for (size_t k = 0; i + k < bytes.size(); ++k) {
    tail |= static_cast<uint64_t>(bytes[i + k]) << (8 * k);
  }
  return MixBits(h ^ tail ^ 0xff51afd7ed558ccdULL);
}

Rng::Rng(uint64_t seed) {
  // splitmix64 as the seeding generator, as the xoshiro authors recommend;
  // it never yields an all-zero state.
  uint64_t x = seed;
  for (uint64_t& word : s_) {
    x += kGoldenGamma;
    word = MixBits(x);
  }
}

uint64_t Rng::Next() {
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range == UINT64_MAX) return static_cast<int64_t>(Next());
  const uint64_t n = range + 1;
  // Lemire's multiply-and-shift with rejection of the few low products that
  // would make some values more likely than others.
  unsigned __int128 product = static_cast<unsigned __int128>(Next()) * n;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(Next()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return lo + static_cast<int64_t>(product >> 64);
}

double Rng::UniformDouble() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

bool Rng::Bernoulli(double p) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return UniformDouble() < p;
}

uint64_t FingerprintIds(absl::Span<const int32_t> ids, uint64_t seed) {
  uint64_t h = MixBits(seed ^ (ids.size() * kGoldenGamma));
  for (int32_t id : ids) h = MixBits(h ^ static_cast<uint32_t>(id)) + id;
  return MixBits(h);
}

}  // namespace lra
