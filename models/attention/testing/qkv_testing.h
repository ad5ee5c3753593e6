// Steps the attention kernels' tests share: one Forward and Backward on
// given q, k, v, and the q, k, v gradient check of an attention's Backward
// against central differences of its Forward. Tests only.
#ifndef LRA_MODELS_ATTENTION_TESTING_QKV_TESTING_H_
#define LRA_MODELS_ATTENTION_TESTING_QKV_TESTING_H_

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/attention.h"

namespace lra {

// The outputs of RunForwardBackward, each [batch, heads, seq_len, head_dim].
struct ForwardBackwardResult {
  std::vector<float> out, dq, dk, dv;
};

// attention.Forward on (q, k, v) for `batch` sequences with `key_mask` (seed
// 0), then Backward of dout; all four vectors have the outputs' size.
inline ForwardBackwardResult RunForwardBackward(Attention& attention,
                                                const std::vector<float>& q,
                                                const std::vector<float>& k,
                                                const std::vector<float>& v,
                                                const std::vector<float>& dout,
                                                const uint8_t* key_mask,
                                                int batch, bool training) {
  const size_t count = q.size();
  ForwardBackwardResult r{std::vector<float>(count), std::vector<float>(count),
                          std::vector<float>(count), std::vector<float>(count)};
  attention.Forward(
      {q.data(), k.data(), v.data(), key_mask, batch, training, 0},
      r.out.data());
  attention.Backward(dout.data(), {r.dq.data(), r.dk.data(), r.dv.data()});
  return r;
}

// Runs attention on (q, k, v) in evaluation mode for `batch` sequences with
// `key_mask`, back-propagates r, and compares dq, dk and dv with central
// differences (step 1e-2) of the objective sum(out * r) at `max_entries`
// evenly spread entries of each (internal::GradCheckOptions' tolerances).
// q, k and v are perturbed in place and restored.
::testing::AssertionResult CheckQkvGradients(
    Attention& attention, int batch, const uint8_t* key_mask,
    std::vector<float>& q, std::vector<float>& k, std::vector<float>& v,
    const std::vector<float>& r, int max_entries);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_QKV_TESTING_H_
