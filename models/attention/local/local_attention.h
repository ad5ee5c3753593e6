// "local": each query attends only to keys near it (LRA's Local Attention).
// Two modes: non-overlapping blocks (LRA's default, block 50), in which a
// query attends to the keys of its own block, and an overlapping sliding
// window of `window` keys centred on the query. Both have a causal option.
#ifndef LRA_MODELS_ATTENTION_LOCAL_LOCAL_ATTENTION_H_
#define LRA_MODELS_ATTENTION_LOCAL_LOCAL_ATTENTION_H_

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

namespace lra {

struct LocalOptions {
  bool sliding = false;  // false: non-overlapping blocks
  int block_size = 50;   // blocks mode
  int window = 50;       // sliding mode: keys i - (w - w/2) + 1 .. i + w/2
  bool causal = false;   // keep only keys j <= i
};

// Reads and checks the plugin's parameters.
absl::StatusOr<LocalOptions> LocalOptionsFromParams(const PluginParams& params);

// Whether query i may attend to key j (ignoring padding).
bool LocalAllows(const LocalOptions& options, int i, int j);

// The block-sparse pattern of LocalAllows over seq_len positions.
absl::StatusOr<BlockSparsePattern> LocalPattern(const LocalOptions& options,
                                                int seq_len);

// The registry entry for "local".
AttentionPlugin LocalAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_LOCAL_LOCAL_ATTENTION_H_
