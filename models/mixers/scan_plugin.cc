#include "models/mixers/scan_plugin.h"

#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "util/status_macros.h"

namespace lra {

absl::StatusOr<ScanParams> ReadScanParams(const PluginParams& params,
                                          const std::string& mixer) {
  ScanParams scan;
  ASSIGN_OR_RETURN(double state, params.Number("state_size"));
  ASSIGN_OR_RETURN(scan.bidirectional, params.Flag("bidirectional"));
  ASSIGN_OR_RETURN(double lr_scale, params.Number("ssm_lr_scale"));
  if (state < 1 || state != std::floor(state)) {
    return absl::InvalidArgumentError("mixer '" + mixer +
                                      "': state_size must be a positive "
                                      "integer");
  }
  if (!(lr_scale > 0)) {
    return absl::InvalidArgumentError("mixer '" + mixer +
                                      "': ssm_lr_scale must be positive");
  }
  scan.state_size = static_cast<int>(state);
  scan.ssm_lr_scale = static_cast<float>(lr_scale);
  return scan;
}

MixerFlopsFn ScanFlops(ForwardFlops (*per_sequence)(const ScanSize& size,
                                                    int n)) {
  return [per_sequence](const PluginParams& params, const ModelConfig& model,
                        const std::vector<int>& positions) {
    const ScanSize size{
        static_cast<double>(model.d_model()),
        params.Number("state_size").value_or(64),
        params.Flag("bidirectional").value_or(true) ? 2.0 : 1.0};
    ForwardFlops flops;
    for (int n : positions) flops += per_sequence(size, n);
    return flops;
  };
}

}  // namespace lra
