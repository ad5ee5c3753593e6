// The conformance suite for attention plugins: checks every promise of the
// contract in attention.h on any registered plugin, without the plugin writing
// a test. conformance_test.cc runs it over the built-in plugins; the checks are
// plain functions returning absl::Status so that broken_plugins_test.cc can
// show that each one fails for a plugin that breaks its promise.
#ifndef LRA_MODELS_ATTENTION_CONFORMANCE_CONFORMANCE_H_
#define LRA_MODELS_ATTENTION_CONFORMANCE_CONFORMANCE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/attention/attention.h"

namespace lra {

// The sizes of one conformance run. The batch is smaller than the workspace on
// purpose: plugins must use the batch they are given, not max_batch.
struct ConformanceSize {
  int batch = 3;
  int max_batch = 4;
  int num_heads = 2;
  int seq_len = 37;
  int head_dim = 8;
  // AttentionShape::d_model: the width of the layer input x given to
  // needs_layer_input plugins (unlike H * Dh, so that the two are not mixed
  // up).
  int d_model = 12;
  // AttentionShape::cls_token: position 0 is a CLS token (some patterns make
  // it global).
  bool cls_token = false;
};

// One plugin, in one of its test configurations, at one size.
struct ConformanceCase {
  const AttentionRegistry* registry = nullptr;
  const AttentionPlugin* plugin = nullptr;
  AttentionTestCase test_case;
  ConformanceSize size;

  // "full [default] N=37", the prefix of every failure message.
  std::string Label() const;
};

// The configurations the suite runs `plugin` in: its declared test_cases (or
// one with the defaults), plus a derived causal case when the plugin declares
// the causal capability, has a flag param named "causal" and no causal case.
// Fails when the declaration is inconsistent (a causal case without the
// capability, or the capability without any way to test it).
absl::StatusOr<std::vector<AttentionTestCase>> ConformanceTestCases(
    const AttentionPlugin& plugin);

// Sequence lengths for `test_case`: 1, 37 and 130 (a single token, and lengths
// that are not multiples of the usual block sizes 32, 50 and 64), minus those
// below its min_seq_len; min_seq_len itself if that leaves none.
std::vector<int> ConformanceLengths(const AttentionTestCase& test_case);

// The sizes a check runs at for `test_case`: each length without a CLS token,
// and each length above 1 with one.
std::vector<ConformanceSize> ConformanceSizes(
    const AttentionTestCase& test_case);

// Each check returns OK when the plugin keeps the promise (or the promise does
// not apply, e.g. causality for a non-causal case) and otherwise an error
// naming the case and the first few violations.
//
// Every check gives a plugin the inputs its capabilities ask for: with
// shared_qk, k == q and dk == nullptr (gradient checks perturb q, whose
// gradient covers both roles); with needs_layer_input, a layer input x
// [B, N, shape.d_model] that the checks treat like q, k, v (central
// differences for dx, padding, causality, batch independence, determinism),
// with dx zeroed before Backward adds into it.

// Forward writes every element of out for the given batch and nothing beyond
// it; Backward overwrites every element of dq, dk, dv likewise, and adds
// into dx (the result from a non-zero start is that start plus the result
// from zero). Also at batch 1.
absl::Status CheckOutputShapes(const ConformanceCase& c);
// Central differences of <out, r> against Backward for q, k, v and every
// parameter of the plugin, with key padding when supported, within the
// plugin's tolerances.
absl::Status CheckGradients(const ConformanceCase& c);
// The same with attention dropout 0.2 in training mode (the dropout mask is a
// pure function of the seed, so the objective is still differentiable).
absl::Status CheckGradientsWithDropout(const ConformanceCase& c);
// For plugins with key_padding_mask: changing q, k, v at padded positions
// leaves outputs at real positions unchanged; padded keys get zero dk and dv;
// gradients at real positions do not depend on padded values; a fully padded
// example gives finite outputs and gradients.
absl::Status CheckPaddingInvariance(const ConformanceCase& c);
// For causal test cases: no output depends on a later position (forward and
// backward).
absl::Status CheckCausality(const ConformanceCase& c);
// Two instances built alike give bit-identical outputs and gradients
// (parameters included) for the same inputs and seed, with attention dropout
// on; an instance gives the same results again after an unrelated call.
absl::Status CheckDeterminism(const ConformanceCase& c);
// Example b's outputs and gradients do not depend on the other examples of
// the batch, nor on whether it is run alone; gradients do not flow between
// examples.
absl::Status CheckBatchIndependence(const ConformanceCase& c);
// With attention dropout 0, training and evaluation mode (and any seed) give
// bit-identical outputs and gradients.
absl::Status CheckTrainingMatchesEval(const ConformanceCase& c);
// With attention dropout 0.5, training mode changes the output and the seed
// selects the mask.
absl::Status CheckDropoutApplied(const ConformanceCase& c);
// capabilities.learnable matches whether ForEachParameter visits anything;
// parameter names are unique, values and gradients have one shape;
// InitParameters is deterministic; Backward adds into parameter gradients;
// parameter shapes that differ between N and 4N + 64 need
// capabilities.length_dependent_parameters.
absl::Status CheckParameters(const ConformanceCase& c);

struct ConformanceCheck {
  std::string name;  // e.g. "Gradients"; used in test names
  std::function<absl::Status(const ConformanceCase&)> run;
};

// Every check above, in a fixed order.
const std::vector<ConformanceCheck>& ConformanceChecks();
// The check called `name`, or nullptr.
const ConformanceCheck* FindConformanceCheck(const std::string& name);

// Runs `check` on plugin `name` of `registry` in each of its test cases at
// each length; returns OK or one error listing every failing case.
absl::Status RunConformanceCheck(const AttentionRegistry& registry,
                                 const std::string& name,
                                 const ConformanceCheck& check);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_CONFORMANCE_CONFORMANCE_H_
