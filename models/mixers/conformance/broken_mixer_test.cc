// Each conformance check fails on the mixer with the matching defect, and
// the sound form passes them all: the checks can fail.
#include "models/mixers/conformance/broken_mixer.h"

#include <memory>

#include "gtest/gtest.h"
#include "models/mixers/conformance/mixer_checks.h"

namespace lra::conformance {
namespace {

MixerMaker Maker(Defect defect) {
  return [defect](const MixerShape& shape)
             -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    return std::unique_ptr<TokenMixer>(
        std::make_unique<BrokenMixer>(shape, defect));
  };
}

TEST(BrokenMixerTest, SoundFormPassesEveryCheck) {
  EXPECT_TRUE(CheckInputGradient(Maker(Defect::kNone)));
  EXPECT_TRUE(CheckParameterGradients(Maker(Defect::kNone)));
  EXPECT_TRUE(CheckPaddingInvariance(Maker(Defect::kNone)));
  EXPECT_TRUE(CheckDeterminism(Maker(Defect::kNone)));
  EXPECT_TRUE(CheckBatchIndependence(Maker(Defect::kNone)));
}

TEST(BrokenMixerTest, WrongInputGradientFails) {
  EXPECT_FALSE(CheckInputGradient(Maker(Defect::kWrongInputGradient)));
}

TEST(BrokenMixerTest, WrongParameterGradientFails) {
  EXPECT_FALSE(CheckParameterGradients(Maker(Defect::kWrongParameterGradient)));
}

TEST(BrokenMixerTest, LeakingPaddingFails) {
  EXPECT_FALSE(CheckPaddingInvariance(Maker(Defect::kLeaksPadding)));
}

TEST(BrokenMixerTest, NondeterminismFails) {
  EXPECT_FALSE(CheckDeterminism(Maker(Defect::kNondeterministic)));
}

TEST(BrokenMixerTest, BatchCouplingFails) {
  EXPECT_FALSE(CheckBatchIndependence(Maker(Defect::kBatchCoupled)));
}

}  // namespace
}  // namespace lra::conformance
