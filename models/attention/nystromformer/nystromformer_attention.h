// "nystromformer": Nyström approximation of softmax attention (Xiong et al.
// 2021). Landmarks are segment means of the real (unpadded) queries and keys;
// the softmax matrix is approximated by F pinv(A) B with
//   F = softmax(Q K~^T / sqrt(Dh))   [N, m]
//   A = softmax(Q~ K~^T / sqrt(Dh))  [m, m]
//   B = softmax(Q~ K^T / sqrt(Dh))   [m, N]  (padded keys masked out)
// and pinv(A) by a fixed number of Newton-Schulz-type iterations. An
// optional depthwise convolution over the (masked) values is added as a
// skip. An example with no more real tokens than landmarks gets exact
// softmax attention. See README.md.
#ifndef LRA_MODELS_ATTENTION_NYSTROMFORMER_NYSTROMFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_NYSTROMFORMER_NYSTROMFORMER_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "models/attention/attention.h"
#include "models/tensor.h"

namespace lra {

class NystromformerAttention : public Attention {
 public:
  // num_landmarks >= 1, pinv_iterations >= 0, conv_kernel 0 (off) or odd.
  NystromformerAttention(const AttentionShape& shape, int num_landmarks,
                         int pinv_iterations, int conv_kernel);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void ForEachParameter(const ParameterVisitor& fn) override;
  void InitParameters(uint64_t seed) override;

  // Real-token ranks [first, last) averaged into landmark l when an example
  // has n real tokens and min(m, n) landmarks: balanced segments,
  // floor(l n / m_b) to floor((l + 1) n / m_b). Public for tests.
  static int SegmentStart(int l, int n, int landmarks);

 private:
  // Per-(example, head) forward and backward; `scratch` is the calling
  // thread's slice of scratch_.
  void ForwardHead(int b, int h, float* out, float* scratch);
  void BackwardHead(int b, int h, const float* dout, float* dq, float* dk,
                    float* dv, float* scratch);
  // Where the convolution's two [N, Dh] matrices start in a thread's
  // scratch (after the landmark and [N, m] pieces).
  int64_t ConvScratchOffset() const;
  // The attention-dropout factor of F's element (i, l) in head (b, h).
  float DropoutFactor(int b, int h, int i, int l) const;

  AttentionShape shape_;
  int m_;                // num_landmarks
  int iterations_;       // pinv_iterations
  int conv_;             // conv_kernel (0 = no convolution)
  float quarter_scale_;  // Dh^(-1/4), applied to q and k each
  int num_threads_;
  int64_t scratch_floats_;  // per thread

  Tensor conv_weight_;       // [H, conv] own parameter (when conv > 0)
  Tensor conv_weight_grad_;  // [H, conv]
  Tensor conv_partial_;      // [maxB, H, conv] per-example parts of the grad

  // State of the last Forward, read by Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;
  std::vector<int> real_;         // [maxB, N] positions of real tokens
  std::vector<int> real_count_;   // [maxB]
  std::vector<uint8_t> is_real_;  // [maxB, N]
  std::vector<int> col_arg_;      // [maxB, H] column of A with largest sum
  Tensor q_land_;   // [maxB, H, m, Dh] landmark queries (scaled by Dh^-1/4)
  Tensor k_land_;   // [maxB, H, m, Dh] landmark keys (scaled by Dh^-1/4)
  Tensor f_;        // [maxB, H, N, m] softmax(Q K~^T), before dropout
  Tensor a_;        // [maxB, H, m, m] softmax(Q~ K~^T)
  Tensor b_;        // [maxB, H, m, N] softmax(Q~ K^T), padded keys 0
  Tensor w_;        // [maxB, H, m, Dh] B V
  Tensor z_;        // [maxB, H, iterations + 1, m, m] pinv iterates
  Tensor u_;        // [maxB, H, m, Dh] pinv(A) B V (exact path: real V rows)
  Tensor col_max_;  // [maxB, H] largest column sum of A
  Tensor scratch_;  // [threads, scratch_floats_] backward scratch
};

// The registry entry for "nystromformer".
AttentionPlugin NystromformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_NYSTROMFORMER_NYSTROMFORMER_ATTENTION_H_
