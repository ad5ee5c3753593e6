// A dense masked softmax attention in double precision, for tests only: every
// plugin's own tests and the conformance suite compare against it. It
// materialises one [N] row of scores at a time, so it is O(N^2 Dh) per head
// and meant for small N.
#ifndef LRA_MODELS_ATTENTION_TESTING_DENSE_REFERENCE_H_
#define LRA_MODELS_ATTENTION_TESTING_DENSE_REFERENCE_H_

#include <cstdint>
#include <functional>
#include <vector>

// Namespace lra (not lra::testing, which would hide gtest's ::testing inside
// namespace lra).
namespace lra {

// Whether query i of head (b, h) may attend to key j. Key padding is part of
// this predicate (see DenseAllowWithPadding below).
using DenseAllowedFn = std::function<bool(int b, int h, int i, int j)>;

// out[b, h, i] = sum_j softmax_j(q_i . k_j / sqrt(Dh) over allowed j) v_j.
// q, k, v, out: [B, H, N, Dh] contiguous. A row with no allowed key outputs
// zero (and gets zero gradients), which is what every plugin must do for
// fully padded examples. T is float, or double to keep the output in double
// for tight comparisons (defined for these two).
template <typename T>
void DenseMaskedAttention(const float* q, const float* k, const float* v, int B,
                          int H, int N, int Dh, const DenseAllowedFn& allowed,
                          T* out);

// Gradients of <out, dout> for the same attention. dout, dq, dk, dv:
// [B, H, N, Dh]; dq, dk and dv are overwritten. T is float, or double for
// tight comparisons (the sums are in double either way).
template <typename T>
void DenseMaskedAttentionBackward(const float* q, const float* k,
                                  const float* v, int B, int H, int N, int Dh,
                                  const DenseAllowedFn& allowed,
                                  const float* dout, T* dq, T* dk, T* dv);

// Expects a plugin's output and its gradients in q, k and v (all [B, H, N,
// Dh], computed from q, k, v and dout) to match the double-precision dense
// reference under `allowed`: out within out_tolerance, the gradients within
// grad_tolerance, element by element (each failure names the tensor and the
// element).
void ExpectMatchesDenseReference(const float* q, const float* k, const float* v,
                                 int B, int H, int N, int Dh,
                                 const DenseAllowedFn& allowed,
                                 const float* dout, const float* out,
                                 const float* dq, const float* dk,
                                 const float* dv, double out_tolerance,
                                 double grad_tolerance);

// Shared-QK attention (capabilities.shared_qk, Reformer): the forward is
// DenseMaskedAttention(qk, qk, v, ...), and dqk, the gradient of <out, dout>
// in qk, holds both the query and the key role (what such a plugin's Backward
// writes into dq). dqk, dv: [B, H, N, Dh], overwritten.
void DenseMaskedAttentionBackwardSharedQK(const float* qk, const float* v,
                                          int B, int H, int N, int Dh,
                                          const DenseAllowedFn& allowed,
                                          const float* dout, double* dqk,
                                          double* dv);

// The weight of key j for query i of the head whose [N, Dh] rows start at
// element `base` of q, k, v.
using PairWeightFn = std::function<double(int64_t base, int i, int j)>;

// <out, r> of attention with explicit non-negative weights instead of a
// softmax (the references of the kernel variants: linear transformer,
// Performer), in double: out_i = sum_j w_ij v_j / (den0 + sum_j w_ij) over
// the real keys j (key_mask [B, N]), only j <= i when causal, and 0 for a
// row whose denominator is 0. v, r, out: [B, H, N, Dh]; out is written when
// not null.
double WeightedAttentionObjective(const std::vector<double>& v,
                                  const uint8_t* key_mask,
                                  const std::vector<float>& r, int B, int H,
                                  int N, int Dh, bool causal, double den0,
                                  const PairWeightFn& weight,
                                  std::vector<double>* out);

// Combines a pattern with a key padding mask ([B, N], 1 = real key; nullptr =
// no padding): allowed(b, h, i, j) && key_mask[b * N + j]. `key_mask` must
// outlive the returned function.
DenseAllowedFn DenseAllowWithPadding(DenseAllowedFn pattern,
                                     const uint8_t* key_mask, int N);

// Patterns for the common cases.
DenseAllowedFn DenseAllowAll();
DenseAllowedFn DenseAllowCausal();  // j <= i

// An explicit pattern: mask[i * N + j] != 0 allows (i, j), for every b and h.
// `mask` must outlive the returned function.
DenseAllowedFn DenseAllowFromMatrix(const uint8_t* mask, int N);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_DENSE_REFERENCE_H_
