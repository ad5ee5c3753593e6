// The second plugin kind: how the sequence passes through the encoder's
// blocks. The default (ModelConfig.sequence unset) runs every position at
// once through the block loop, inside the encoder. A sequence plugin takes
// over that loop: it may prepend memory tokens, cut the sequence into
// segments that run one after another with state carried between them, and
// decide what the encoder pools. The blocks (LN -> mixer -> LN -> MLP, with
// any attention plugin or mixer inside) are the encoder's; the plugin calls
// them, forward and backward.
#ifndef LRA_MODELS_SEQUENCE_SEQUENCE_H_
#define LRA_MODELS_SEQUENCE_SEQUENCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/block.h"
#include "models/parameters.h"
#include "models/plugin_params.h"
#include "models/plugin_registry.h"
#include "proto/config.pb.h"

namespace lra {

// The fixed sizes a handler is built for.
struct SequenceShape {
  int max_seqs = 1;    // B': sequences per call at most
  int seq_len = 1;     // N: task tokens per sequence (no CLS)
  int d_model = 1;     // D
  int num_layers = 1;  // L blocks
};

// What changes from call to call.
struct SequenceStep {
  int seqs = 0;                       // B' <= max_seqs
  const uint8_t* key_mask = nullptr;  // [B', N], 1 = real token
  bool training = false;
  uint64_t dropout_seed = 0;
};

using BlockList = std::vector<std::unique_ptr<Block>>;

class SequenceHandler {
 public:
  virtual ~SequenceHandler() = default;

  // Positions per block call: the encoder builds its blocks for this length.
  virtual int block_seq_len() const = 0;
  // P: positions of the output stream the encoder normalises and pools.
  virtual int out_len() const = 0;

  // x [B', N, D]: embedded tokens (positions and embedding dropout applied).
  // Writes out [B', P, D] (the last block's output at the positions to pool)
  // and pool_mask [B', P] (1 = averaged by the encoder's mean pooling). x
  // must stay alive and unchanged until Backward.
  virtual void Forward(BlockList& blocks, const float* x,
                       const SequenceStep& step, float* out,
                       uint8_t* pool_mask) = 0;
  // dout [B', P, D] -> dx [B', N, D] (overwritten); adds into the blocks'
  // and the handler's parameter gradients.
  virtual void Backward(BlockList& blocks, const float* dout, float* dx) = 0;

  // The handler's own parameters, full names: memory slots are input
  // embeddings of the memory tokens, "embed.memory" (visited after the
  // encoder's other embeddings).
  virtual void ForEachWeight(const WeightVisitor& fn) {}

  // The token mixer for the block of shape.layer_index when the handler
  // brings its own (Transformer-XL's relative attention over cached memory
  // and segment), or null to use the configured attention or mixer. Called
  // by the encoder while it builds its blocks, in layer order; temporaries
  // may come from `scratch`, shared with the blocks.
  virtual absl::StatusOr<std::unique_ptr<TokenMixer>> MakeMixer(
      const MixerShape& shape, ScratchBuffers* scratch) {
    return std::unique_ptr<TokenMixer>();
  }

  // How many lists of blocks the handler runs on. With more than one, the
  // encoder builds the others exactly like its own (same shapes, mixers and
  // random structure; their own weights, gradients and activations, sharing
  // the encoder's scratch) and hands them over once with UseBlockCopies. A
  // handler that runs segments one after another keeps each segment's
  // activations in its own copy, so its backward pass needs no recomputation.
  // The handler keeps the copies' weights equal to the encoder's blocks and
  // adds the copies' gradients into theirs; only the encoder's blocks are
  // parameters.
  virtual int block_lists() const { return 1; }
  // `blocks` are the encoder's, `copies` the block_lists() - 1 others; both
  // outlive the handler's calls. Called once, after the blocks are built.
  virtual void UseBlockCopies(BlockList* blocks,
                              std::vector<BlockList>* copies) {}
};

// What a sequence plugin does, printed by `lra list`.
struct SequenceCapabilities {
  // Padded positions (and segments of padding only) change nothing.
  bool key_padding_mask = false;
  // State crosses segment boundaries.
  bool recurrent = false;
  std::string complexity;  // in sequence length N
  // The handler brings its own token mixer (MakeMixer) in place of the
  // configured attention, as Transformer-XL's relative attention does.
  bool own_mixer = false;
};

using SequenceFactory =
    std::function<absl::StatusOr<std::unique_ptr<SequenceHandler>>(
        const PluginParams& params, const SequenceShape& shape,
        const ModelConfig& model)>;

// The error of a sequence factory for a parameter value it refuses:
// "sequence '<plugin>': param <param> = <value> is invalid; <rule>".
absl::Status SequenceParamError(const std::string& plugin,
                                const std::string& param, double value,
                                const std::string& rule);

// One block's forward FLOPs (projections, mixer core and MLP, with the
// model's configured attention or mixer) over sequences of these real
// positions (memory tokens included), given to a sequence plugin's FLOPs hook
// by lra/flops.cc.
using BlockFlopsFn =
    std::function<ForwardFlops(const std::vector<int>& positions)>;

// A sequence plugin's FLOPs hook: forward FLOPs of all num_layers blocks over
// one step whose sequences hold `lengths` real task tokens each, padded to
// `padded_len` tokens (the handler's N, which fixes segments and windows).
// `model` is resolved. Set forward_only for work no backward follows.
using SequenceFlopsFn = std::function<ForwardFlops(
    const PluginParams& params, const ModelConfig& model,
    const std::vector<int>& lengths, int padded_len,
    const BlockFlopsFn& block)>;

struct SequenceTestCase {
  std::string label;
  std::vector<PluginParam> params;
};

struct SequencePlugin {
  std::string name;
  std::string description;
  std::vector<PluginParamSpec> params;
  SequenceCapabilities capabilities;
  SequenceFactory factory;
  std::vector<SequenceTestCase> test_cases;
  // Optional: without it `lra bench` counts the blocks at the task tokens
  // only and marks its FLOPs "no_sequence_plugin".
  SequenceFlopsFn flops;
};

class SequenceRegistry : public PluginRegistry<SequencePlugin> {
 public:
  SequenceRegistry() : PluginRegistry("sequence") {}

  absl::StatusOr<std::unique_ptr<SequenceHandler>> Create(
      const PluginConfig& config, const SequenceShape& shape,
      const ModelConfig& model) const;
};

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_SEQUENCE_H_
