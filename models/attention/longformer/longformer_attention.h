// "longformer": Longformer's attention (Beltagy et al. 2020) as in LRA: a
// sliding window of `window` keys around each query (default 512) plus global
// tokens, which attend to every key and are attended by every query. Global
// tokens are listed positions and, when the encoder pools a CLS token, the
// CLS token. Computed block-sparse: window tiles along the diagonal, the
// global keys gathered into one tile row, the global queries gathered into
// query tiles over all keys.
#ifndef LRA_MODELS_ATTENTION_LONGFORMER_LONGFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_LONGFORMER_LONGFORMER_ATTENTION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

namespace lra {

struct LongformerOptions {
  int window = 512;         // keys i - (w - w/2) + 1 .. i + w/2
  std::vector<int> global;  // attention positions (CLS = 0), sorted, unique
  bool causal = false;      // keep only keys j <= i
};

// Reads the parameters and resolves global token positions for `shape`:
// listed token positions shift by one when position 0 is CLS, and CLS is
// global when shape.cls_token and the cls_global flag are set.
absl::StatusOr<LongformerOptions> LongformerOptionsFromParams(
    const PluginParams& params, const AttentionShape& shape);

// Whether query i may attend to key j (ignoring padding).
bool LongformerAllows(const LongformerOptions& options, int i, int j);

// The block-sparse pattern of LongformerAllows over seq_len positions.
absl::StatusOr<BlockSparsePattern> LongformerPattern(
    const LongformerOptions& options, int seq_len);

// The registry entry for "longformer".
AttentionPlugin LongformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_LONGFORMER_LONGFORMER_ATTENTION_H_
