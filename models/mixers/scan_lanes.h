// Pieces shared by the AVX-512 scans of the diagonal state space mixers
// (lru/, s4d/): the 16-float lane block, its tail mask, the widening of a
// lane block into double sums, and the zeroing of padded rows around a scan.
// Header-only and inline, so each scan keeps its own loop shape.
#ifndef LRA_MODELS_MIXERS_SCAN_LANES_H_
#define LRA_MODELS_MIXERS_SCAN_LANES_H_

#include <immintrin.h>

#include <cstdint>

namespace lra::scan_lanes {

// Floats in one AVX-512 vector.
inline constexpr int kLanes = 16;

// The lanes of block `block` (elements block * kLanes onwards) that lie
// below `count`: all 16 except in the last, partial block.
inline __mmask16 LaneMask(int count, int block) {
  const int rest = count - block * kLanes;
  return rest >= kLanes ? static_cast<__mmask16>(0xFFFF)
                        : static_cast<__mmask16>((1u << rest) - 1);
}

// Adds the 16 float lanes of v to the doubles at sum[0..15].
inline void AddToDouble(__m512 v, double* sum) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  const __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
  _mm512_storeu_pd(sum, _mm512_add_pd(_mm512_loadu_pd(sum), lo));
  _mm512_storeu_pd(sum + 8, _mm512_add_pd(_mm512_loadu_pd(sum + 8), hi));
}

// dst = src with the rows whose key_mask entry is 0 (padding) set to zero:
// `rows` rows of `width` floats.
inline void ZeroPaddedRows(const uint8_t* key_mask, int64_t rows, int width,
                           const float* src, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    const float keep = key_mask[r] ? 1.0f : 0.0f;
    for (int h = 0; h < width; ++h)
      dst[r * width + h] = keep * src[r * width + h];
  }
}

}  // namespace lra::scan_lanes

#endif  // LRA_MODELS_MIXERS_SCAN_LANES_H_
