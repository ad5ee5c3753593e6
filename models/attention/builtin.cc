// The one list of built-in attention plugins. Listing them explicitly (rather
// than static registration objects) survives static linking without
// alwayslink and keeps the order stable. To add a plugin: include its header,
// append its AttentionPlugin below, and add its library to :builtin's deps.
#include "models/attention/builtin.h"

#include <utility>

#include "models/attention/bigbird/bigbird_attention.h"
#include "models/attention/full/full_attention.h"
#include "models/attention/linear_transformer/linear_transformer_attention.h"
#include "models/attention/linformer/linformer_attention.h"
#include "models/attention/local/local_attention.h"
#include "models/attention/longformer/longformer_attention.h"
#include "models/attention/nystromformer/nystromformer_attention.h"
#include "models/attention/performer/performer_attention.h"
#include "models/attention/reformer/reformer_attention.h"
#include "models/attention/sinkhorn/sinkhorn_attention.h"
#include "models/attention/sparse_transformer/sparse_transformer_attention.h"
#include "models/attention/synthesizer/synthesizer_attention.h"
#include "util/status_macros.h"

namespace lra {

std::vector<AttentionPlugin> BuiltinAttentionPlugins() {
  return {
      FullAttentionPlugin(),
      LocalAttentionPlugin(),
      SparseTransformerAttentionPlugin(),
      LongformerAttentionPlugin(),
      BigBirdAttentionPlugin(),
      LinearTransformerAttentionPlugin(),
      LinformerAttentionPlugin(),
      PerformerAttentionPlugin(),
      SynthesizerAttentionPlugin(),
      SinkhornAttentionPlugin(),
      NystromformerAttentionPlugin(),
      ReformerAttentionPlugin(),
  };
}

absl::Status RegisterBuiltinAttentions(AttentionRegistry& registry) {
  for (AttentionPlugin& plugin : BuiltinAttentionPlugins()) {
    RETURN_IF_ERROR(registry.Register(std::move(plugin)));
  }
  return absl::OkStatus();
}

}  // namespace lra
