// Plugin pieces shared by the diagonal state space mixers (lru/, s4d/): the
// parameters both take (state_size, bidirectional, ssm_lr_scale), read and
// checked in one place, and their FLOPs hook, which counts per sequence from
// the same three sizes. Each mixer declares its parameters (defaults and
// help differ) and checks its own ones.
#ifndef LRA_MODELS_MIXERS_SCAN_PLUGIN_H_
#define LRA_MODELS_MIXERS_SCAN_PLUGIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "models/mixer.h"
#include "models/plugin_params.h"

namespace lra {

// The parameters every scan mixer takes.
struct ScanParams {
  int state_size = 64;  // complex modes (N)
  bool bidirectional = true;
  float ssm_lr_scale = 1.0f;  // learning-rate multiplier of the SSM group
};

// Reads them from `params`; state_size must be a positive integer and
// ssm_lr_scale positive. Errors name the mixer: "mixer 'lru': state_size
// must be a positive integer".
absl::StatusOr<ScanParams> ReadScanParams(const PluginParams& params,
                                          const std::string& mixer);

// What a scan mixer's FLOPs are a function of: d_model, state_size and the
// number of directions (1 or 2).
struct ScanSize {
  double d_model;
  double state_size;
  double dirs;
};

// The FLOPs hook of a scan mixer: the sum over the step's sequences of
// per_sequence(size, n), n the sequence's real positions. A parameter that
// cannot be read counts as the shared default (64 modes, bidirectional).
MixerFlopsFn ScanFlops(ForwardFlops (*per_sequence)(const ScanSize& size,
                                                    int n));

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_SCAN_PLUGIN_H_
