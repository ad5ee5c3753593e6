// One encoder layer under a sequence handler, run on a golden file written
// by tools/make_sequence_golden.py (an independent PyTorch implementation in
// float64): what rmt_golden_test and transformer_xl_golden_test share. The
// layer is built as the encoder builds one (the handler's own token mixer,
// else the configured attention; one pre-LN block), loaded with the golden's
// parameters and run forward and backward on its inputs. Tests only.
#ifndef LRA_MODELS_SEQUENCE_GOLDEN_LAYER_H_
#define LRA_MODELS_SEQUENCE_GOLDEN_LAYER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/testing/golden_file.h"
#include "models/parameters.h"
#include "models/scratch.h"
#include "models/sequence/sequence.h"
#include "proto/config.pb.h"

namespace lra {

struct GoldenLayer {
  GoldenFile golden;
  ScratchBuffers scratch;  // shared by the blocks: destroyed after them
  std::unique_ptr<SequenceHandler> handler;
  BlockList blocks;  // the one block
  // Parameters loaded from the golden's "param/<name>" tensors.
  int loaded = 0;
  // The handler's output [B, P, D], its pool mask [B, P] and the input
  // gradient [B, N, D] for the golden's x, mask and dout.
  std::vector<float> out, dx;
  std::vector<uint8_t> pool;

  // The golden scalar `name` as a whole number (sizes).
  int Size(const char* name) const;
  // The block's weights, then the handler's.
  void ForEachWeight(const WeightVisitor& fn);
};

// Reads the golden at `path` (workspace-relative), then builds, loads and
// runs its layer. The model config has the golden's d_model, heads, qkv_dim
// and mlp_dim and one layer; `configure` adds the sequence plugin (and the
// attention, where the handler brings no mixer of its own).
absl::StatusOr<std::unique_ptr<GoldenLayer>> RunGoldenLayer(
    const std::string& path,
    const std::function<void(const GoldenFile&, ModelConfig*)>& configure);

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_GOLDEN_LAYER_H_
