// The lru mixer against an independent PyTorch implementation
// (tools/make_ssm_golden.py): forward output, dx and every parameter
// gradient to 1e-4 relative.
#include "gtest/gtest.h"
#include "models/mixers/conformance/golden_check.h"
#include "models/mixers/lru/lru_mixer.h"

namespace lra {
namespace {

TEST(LruMixerGoldenTest, MatchesPyTorch) {
  MixerShape shape;
  shape.max_seqs = 2;
  shape.seq_len = 6;
  shape.d_model = 3;
  LruOptions options;
  options.state_size = 3;
  options.bidirectional = true;
  LruMixer mixer(shape, options);
  conformance::ExpectMatchesGolden(mixer,
                                   "models/mixers/lru/testdata/golden.txt");
}

}  // namespace
}  // namespace lra
