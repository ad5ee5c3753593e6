// "bigbird": BigBird's block-sparse attention (Zaheer et al. 2020, ITC
// variant, as in LRA): blocks of 64 positions; each query block attends to a
// window of 3 blocks around it, to the global blocks (the first and the last),
// and to 3 random other blocks; global blocks attend to everything. The random
// blocks differ by head and are fixed per layer by AttentionShape.seed and
// layer_index. Every piece is whole blocks, so the engine needs no element
// masks.
#ifndef LRA_MODELS_ATTENTION_BIGBIRD_BIGBIRD_ATTENTION_H_
#define LRA_MODELS_ATTENTION_BIGBIRD_BIGBIRD_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

namespace lra {

struct BigBirdOptions {
  int block_size = 64;
  int window_blocks = 3;  // odd: the block itself and (w - 1) / 2 each side
  int global_blocks = 2;  // the first g - g / 2 and the last g / 2 blocks
  int random_blocks = 3;  // per query block, outside its window and globals
};

// Reads and checks the plugin's parameters.
absl::StatusOr<BigBirdOptions> BigBirdOptionsFromParams(
    const PluginParams& params);

// Which key blocks each query block of one head attends.
struct BigBirdLayout {
  int block_size = 64;
  int num_blocks = 0;
  std::vector<uint8_t> global;           // [num_blocks] attends to everything
  std::vector<std::vector<int>> keys;    // [num_blocks] sorted key blocks
  std::vector<std::vector<int>> random;  // [num_blocks] the random ones

  // Whether query i may attend to key j (ignoring padding).
  bool Allows(int i, int j) const;
};

// The layout of one head; the random blocks are a pure function of `seed`.
BigBirdLayout BigBirdHeadLayout(const BigBirdOptions& options, int seq_len,
                                uint64_t seed);

// The seed of head `head`'s random blocks for an instance of `shape`.
uint64_t BigBirdHeadSeed(const AttentionShape& shape, int head);

// The block-sparse pattern of a layout over seq_len positions.
absl::StatusOr<BlockSparsePattern> BigBirdPattern(const BigBirdLayout& layout,
                                                  int seq_len);

// The registry entry for "bigbird".
AttentionPlugin BigBirdAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BIGBIRD_BIGBIRD_ATTENTION_H_
