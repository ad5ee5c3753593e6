// "sparse_transformer": the factorised patterns of the Sparse Transformer
// (Child et al. 2019) as LRA merges them into one head pattern, made
// bidirectional for the encoder (with a causal option):
//  - fixed (LRA's default, block l = 50, c = 10): a query attends to its own
//    block of l positions and to the "summary" positions of every block,
//    those at offset 0 or at offsets >= l - c within their block;
//  - strided (stride l): a query attends to the positions less than l away
//    and to every position a multiple of l away.
// Under CLS pooling, CLS is global (attends to and is attended by all) and the
// pattern applies to the tokens after it, as in LRA. Computed block-sparse:
// summary columns (fixed) and residue classes (strided) are gathered so that
// they fill whole tiles.
#ifndef LRA_MODELS_ATTENTION_SPARSE_TRANSFORMER_SPARSE_TRANSFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_SPARSE_TRANSFORMER_SPARSE_TRANSFORMER_ATTENTION_H_

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

namespace lra {

struct SparseTransformerOptions {
  bool strided = false;     // false: fixed pattern
  int block_size = 50;      // l: block (fixed) or stride (strided)
  int summary = 10;         // c: summary offsets per block (fixed)
  bool causal = false;      // keep only keys j <= i
  bool cls_global = false;  // position 0 is a global CLS token
};

// Reads and checks the plugin's parameters; cls_global is set when
// shape.cls_token and the cls_global flag are.
absl::StatusOr<SparseTransformerOptions> SparseTransformerOptionsFromParams(
    const PluginParams& params, const AttentionShape& shape);

// Whether query i may attend to key j (ignoring padding).
bool SparseTransformerAllows(const SparseTransformerOptions& options, int i,
                             int j);

// The block-sparse pattern of SparseTransformerAllows over seq_len positions.
absl::StatusOr<BlockSparsePattern> SparseTransformerPattern(
    const SparseTransformerOptions& options, int seq_len);

// The registry entry for "sparse_transformer".
AttentionPlugin SparseTransformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_SPARSE_TRANSFORMER_SPARSE_TRANSFORMER_ATTENTION_H_
