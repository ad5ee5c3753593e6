// The s4d mixer against an independent PyTorch implementation
// (tools/make_ssm_golden.py): forward output, dx and every parameter
// gradient to 1e-4 relative.
#include "gtest/gtest.h"
#include "models/mixers/conformance/golden_check.h"
#include "models/mixers/s4d/s4d_mixer.h"

namespace lra {
namespace {

TEST(S4dMixerGoldenTest, MatchesPyTorch) {
  MixerShape shape;
  shape.max_seqs = 2;
  shape.seq_len = 6;
  shape.d_model = 3;
  S4dOptions options;
  options.state_size = 4;
  options.bidirectional = true;
  S4dMixer mixer(shape, options);
  conformance::ExpectMatchesGolden(mixer,
                                   "models/mixers/s4d/testdata/golden.txt");
}

}  // namespace
}  // namespace lra
