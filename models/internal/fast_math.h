// Branch-free float exp and erf that GCC vectorises inside plain loops, so that
// GELU and softmax do not call scalar libm once per element.
#ifndef LRA_MODELS_INTERNAL_FAST_MATH_H_
#define LRA_MODELS_INTERNAL_FAST_MATH_H_

#include <cstdint>
#include <cstring>

namespace lra::internal {

// exp(x) for float x, relative error about 2 ulp on [-87, 88]; returns exactly
// 0 below -87.3 (so that masked scores of -inf give zero weight) and saturates
// above 88.7. Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, then a
// degree-6 polynomial for e^r (the Cephes expf coefficients).
inline float FastExp(float x) {
  const float kMax = 88.3762626647949f;
  const float kMin = -87.3365447505531f;
  const bool underflow = x < kMin;
  x = x > kMax ? kMax : x;
  x = x < kMin ? kMin : x;
  float fn = x * 1.44269504088896341f + 0.5f;
  // floor() for the range above, without a libm call.
  int n = static_cast<int>(fn);
  n -= (static_cast<float>(n) > fn) ? 1 : 0;
  const float nf = static_cast<float>(n);
  float r = x - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  // Multiply by 2^n through the exponent bits; n is in [-126, 128) here.
  int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  const float result = p * scale;
  return underflow ? 0.0f : result;
}

// erf(x) with absolute error below 2e-7 (Abramowitz & Stegun 7.1.26), odd by
// construction.
inline float FastErf(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  poly = poly * t;
  const float y = 1.0f - poly * FastExp(-ax * ax);
  return x < 0.0f ? -y : y;
}

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_FAST_MATH_H_
