// The one list of built-in attention plugins. Listing them explicitly (rather
// than static registration objects) survives static linking without
// alwayslink and keeps the order stable. To add a plugin: include its header,
// append its AttentionPlugin below, and add its library to :builtin's deps.
#include "models/attention/builtin.h"

#include <utility>

#include "models/attention/bigbird/bigbird_attention.h"
#include "models/attention/example/window_attention.h"
#include "models/attention/full/full_attention.h"
#include "models/attention/local/local_attention.h"
#include "models/attention/longformer/longformer_attention.h"
#include "models/attention/sparse_transformer/sparse_transformer_attention.h"

namespace lra {

absl::Status RegisterBuiltinAttentions(AttentionRegistry& registry) {
  for (AttentionPlugin plugin : {
           FullAttentionPlugin(),
           WindowAttentionPlugin(),
           LocalAttentionPlugin(),
           SparseTransformerAttentionPlugin(),
           LongformerAttentionPlugin(),
           BigBirdAttentionPlugin(),
       }) {
    absl::Status status = registry.Register(std::move(plugin));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

const AttentionRegistry& BuiltinAttentions() {
  static const AttentionRegistry* registry = [] {
    auto* r = new AttentionRegistry();
    // Built-in plugins are fixed at compile time, so a failure here is a
    // programming error; registry_test checks RegisterBuiltinAttentions.
    RegisterBuiltinAttentions(*r).IgnoreError();
    return r;
  }();
  return *registry;
}

}  // namespace lra
