// The checks every token mixer must pass, as functions so that the
// registry-wide test runs them over every registered mixer and the broken
// mixer's test proves each one can fail.
#ifndef LRA_MODELS_MIXERS_CONFORMANCE_MIXER_CHECKS_H_
#define LRA_MODELS_MIXERS_CONFORMANCE_MIXER_CHECKS_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "models/mixer.h"

namespace lra::conformance {

// Builds a fresh mixer for `shape`; the checks initialise it with a fixed
// seed.
using MixerMaker = std::function<absl::StatusOr<std::unique_ptr<TokenMixer>>(
    const MixerShape& shape)>;

// The shape the checks use: three sequences of 7 positions (CLS first) of
// width 4, with 7, 5 and 3 real positions.
MixerShape CheckShape();

// d(sum r * y)/dx by central differences at every input entry.
::testing::AssertionResult CheckInputGradient(const MixerMaker& make);
// The same for every entry (at most 24 per tensor) of every parameter the
// mixer visits.
::testing::AssertionResult CheckParameterGradients(const MixerMaker& make);
// Changing the inputs at padded positions changes no real position's output
// nor any gradient at a real position.
::testing::AssertionResult CheckPaddingInvariance(const MixerMaker& make);
// Two instances built and initialised alike give bit-identical outputs and
// gradients, and a repeated Forward/Backward gives the same again.
::testing::AssertionResult CheckDeterminism(const MixerMaker& make);
// Each sequence's output is the same alone as in a batch (to 1e-5
// relative: matmuls of other sizes may round differently).
::testing::AssertionResult CheckBatchIndependence(const MixerMaker& make);

}  // namespace lra::conformance

#endif  // LRA_MODELS_MIXERS_CONFORMANCE_MIXER_CHECKS_H_
