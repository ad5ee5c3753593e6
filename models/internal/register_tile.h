// Pieces shared by the register-tiled loops of the attention kernels
// (models/attention/kernels) and the strided matmul (models/batched_matmul):
// the rank-1 update loop of an R x NV tile of AVX-512 accumulators, and the
// dispatch from a runtime vector count to a compile-time one. Header-only and
// always inlined, so each caller's loop keeps its own shape and registers.
#ifndef LRA_MODELS_INTERNAL_REGISTER_TILE_H_
#define LRA_MODELS_INTERNAL_REGISTER_TILE_H_

#include <cstddef>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace lra::internal {

#if defined(__AVX512F__)

// acc[r][v] += sum over p < depth of a(r, p) b(p, 16 v ... 16 v + 15), p in
// increasing order (one fused multiply-add per p, so the rounding is that of
// the plain loop), where a(r, p) = a[r * a_rs + p * a_cs] and row p of b
// starts at b + p * b_rs. With kMaskedTail the last of the NV vectors of each
// b row is loaded under `tail` (zeros elsewhere); without it all are full.
template <int NV, int R, bool kMaskedTail, typename Stride>
__attribute__((always_inline)) inline void FmaRows(__m512 (&acc)[R][NV],
                                                   const float* a, Stride a_rs,
                                                   Stride a_cs, int depth,
                                                   const float* b, Stride b_rs,
                                                   __mmask16 tail) {
  for (int p = 0; p < depth; ++p) {
    const float* bp = b + p * b_rs;
    __m512 bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      bv[v] = kMaskedTail && v == NV - 1
                  ? _mm512_maskz_loadu_ps(tail, bp + 16 * v)
                  : _mm512_loadu_ps(bp + 16 * v);
    }
    const float* ap = a + p * a_cs;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ap[r * a_rs]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) {
        acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
    }
  }
}

#endif  // defined(__AVX512F__)

// The table behind DispatchCount: Body::Run<1> ... Body::Run<kMax>.
template <typename Body, typename Fn, typename Counts>
struct CountTable;
template <typename Body, typename Fn, std::size_t... I>
struct CountTable<Body, Fn, std::index_sequence<I...>> {
  static constexpr Fn kRun[] = {
      &Body::template Run<static_cast<int>(I) + 1>...};
};

// Calls Body::template Run<N>(args...) for N = count, 1 <= count <= kMax,
// through a table built at compile time: one indirect call per dispatch (a
// whole tile or column block, never an element) and no switch to keep in
// step with the instantiations.
template <int kMax, typename Body, typename... Args>
inline void DispatchCount(int count, Args... args) {
  CountTable<Body, void (*)(Args...),
             std::make_index_sequence<kMax>>::kRun[count - 1](args...);
}

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_REGISTER_TILE_H_
