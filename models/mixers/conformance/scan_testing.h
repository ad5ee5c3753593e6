// Pieces the recurrent mixers' tests share when they compare the vectorised
// scans with an independent double-precision reference (lru_mixer_test,
// s4d_mixer_test): the case's shape, its fixed inputs and padding, one
// Forward and Backward, and the tolerance.
#ifndef LRA_MODELS_MIXERS_CONFORMANCE_SCAN_TESTING_H_
#define LRA_MODELS_MIXERS_CONFORMANCE_SCAN_TESTING_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/mixer.h"
#include "models/rng.h"

namespace lra::conformance {

// Shapes chosen to reach what the conformance suite and the golden tests do
// not: several blocks of lanes, several chunks, padding.
struct ScanCase {
  int seqs, len, width, state;
  bool bidirectional;
  std::vector<int> lengths;  // real positions of each sequence
};

inline MixerShape ShapeOf(const ScanCase& c) {
  MixerShape shape;
  shape.max_seqs = c.seqs;
  shape.seq_len = c.len;
  shape.d_model = c.width;
  return shape;
}

// One Forward and Backward of a mixer on a case's fixed inputs.
struct ScanRun {
  std::vector<float> x, dy;   // [seqs, len, width]: normal draws, seeds 3, 4
  std::vector<uint8_t> mask;  // [seqs, len]: the first lengths[b] are real
  std::vector<float> y, dx;   // the mixer's output and input gradient
};

inline ScanRun RunForwardBackward(TokenMixer& mixer, const ScanCase& c) {
  ScanRun run;
  const int64_t size = static_cast<int64_t>(c.seqs) * c.len * c.width;
  run.x.resize(size);
  run.dy.resize(size);
  for (int64_t i = 0; i < size; ++i) {
    run.x[i] = static_cast<float>(NormalDouble(3, i));
    run.dy[i] = static_cast<float>(NormalDouble(4, i));
  }
  run.mask.resize(static_cast<size_t>(c.seqs) * c.len);
  for (int b = 0; b < c.seqs; ++b) {
    for (int t = 0; t < c.len; ++t) run.mask[b * c.len + t] = t < c.lengths[b];
  }
  MixerStep step;
  step.seqs = c.seqs;
  step.key_mask = run.mask.data();
  run.y.resize(size);
  run.dx.resize(size);
  mixer.Forward(run.x.data(), step, run.y.data());
  mixer.Backward(run.dy.data(), run.dx.data());
  return run;
}

// |got[i] - want[i]| <= 1e-4 |want[i]| + 2e-5 max |want| of the tensor:
// float scans against a double reference. A sum of many terms that nearly
// cancel (the gradient of one mode's decay rate, say) is exact only to a
// fraction of the tensor's scale, since the float decay already rounds; the
// scalar scans these replaced deviate the same way (below 1e-5 of the
// scale). A failure names entry i as index[i] (as i when index is empty).
inline ::testing::AssertionResult NearScaled(
    const std::string& what, const float* got, const std::vector<double>& want,
    const std::vector<int64_t>& index = {}) {
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < want.size(); ++i) {
    const double allowed = 1e-4 * std::fabs(want[i]) + 2e-5 * scale + 1e-12;
    if (!(std::fabs(got[i] - want[i]) <= allowed)) {
      return ::testing::AssertionFailure()
             << what << "[" << (index.empty() ? int64_t(i) : index[i])
             << "]: " << got[i] << " vs " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace lra::conformance

#endif  // LRA_MODELS_MIXERS_CONFORMANCE_SCAN_TESTING_H_
