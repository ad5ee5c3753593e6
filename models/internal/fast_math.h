// Branch-free float exp and erf that GCC vectorises inside plain loops, so that
// GELU and softmax do not call scalar libm once per element.
#ifndef LRA_MODELS_INTERNAL_FAST_MATH_H_
#define LRA_MODELS_INTERNAL_FAST_MATH_H_

#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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

#if defined(__AVX512F__)

// FastExp on 16 lanes, with the 2^n scaling done by vscalefps; lanes below
// -87.3 (including -inf) give exactly 0.
inline __m512 Exp512(__m512 x) {
  const __m512 kMin = _mm512_set1_ps(-87.3365447505531f);
  const __mmask16 live = _mm512_cmp_ps_mask(x, kMin, _CMP_GE_OQ);
  x = _mm512_max_ps(x, kMin);
  x = _mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f));
  const __m512 n = _mm512_roundscale_ps(
      _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  const __m512 z = _mm512_mul_ps(r, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(p, n));
}

// FastErf on 16 lanes.
inline __m512 Erf512(__m512 x) {
  const __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t =
      _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), ax, one));
  __m512 poly = _mm512_set1_ps(1.061405429f);
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.453152027f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
  poly = _mm512_mul_ps(poly, t);
  const __m512 e =
      Exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), ax), ax));
  const __m512 y = _mm512_fnmadd_ps(poly, e, one);
  return _mm512_or_ps(y, sign);
}

#endif  // defined(__AVX512F__)

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_FAST_MATH_H_
