#include "models/attention/local/local_attention.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "models/attention/block_sparse/plugin_support.h"
#include "util/status_macros.h"

namespace lra {
namespace {
constexpr char kName[] = "local";
constexpr int kMaxSize = 1 << 24;
}  // namespace

absl::StatusOr<LocalOptions> LocalOptionsFromParams(
    const PluginParams& params) {
  LocalOptions options;
  ASSIGN_OR_RETURN(std::string mode,
                   ChoiceParam(params, kName, "mode", {"blocks", "sliding"}));
  options.sliding = mode == "sliding";
  ASSIGN_OR_RETURN(options.block_size,
                   IntegerParam(params, kName, "block_size", 1, kMaxSize));
  ASSIGN_OR_RETURN(options.window,
                   IntegerParam(params, kName, "window", 1, kMaxSize));
  ASSIGN_OR_RETURN(options.causal, params.Flag("causal"));
  return options;
}

bool LocalAllows(const LocalOptions& options, int i, int j) {
  if (options.causal && j > i) return false;
  if (options.sliding) return InWindow(i, j, options.window);
  return i / options.block_size == j / options.block_size;
}

absl::StatusOr<BlockSparsePattern> LocalPattern(const LocalOptions& options,
                                                int seq_len) {
  BlockSparsePatternBuilder builder(seq_len);
  if (options.sliding) {
    auto allowed = [&options](int i, int j) {
      return LocalAllows(options, i, j);
    };
    const int right = options.causal ? 0 : WindowRight(options.window);
    for (int i0 = 0; i0 < seq_len; i0 += kSparseTile) {
      const int rows = std::min(kSparseTile, seq_len - i0);
      builder.AddQueryBlock({i0, rows, false});
      // Key tiles start at the window's left edge, so only the first and
      // last of them are partly allowed.
      builder.AddKeyRange(i0 - WindowLeft(options.window), i0 + rows + right,
                          allowed);
    }
  } else {
    // A block longer than a tile spans several query and key tiles; a block
    // of at most 64 (LRA's 50) is one tile pair: its key tile starts at the
    // cache line holding the block's first key, with the few keys before
    // the block masked, which is cheaper than unaligned loads.
    const int bs = options.block_size;
    auto allowed = [&options](int i, int j) {
      return LocalAllows(options, i, j);
    };
    for (int s = 0; s < seq_len; s += bs) {
      const int e = std::min(seq_len, s + bs);
      for (int r0 = s; r0 < e; r0 += kSparseTile) {
        const int rows = std::min(kSparseTile, e - r0);
        builder.AddQueryBlock({r0, rows, false});
        builder.AddKeyRange(s, options.causal ? r0 + rows : e, allowed);
      }
    }
  }
  return std::move(builder).Build();
}

AttentionPlugin LocalAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = kName;
  plugin.description =
      "Local attention (LRA): each query attends to its own block of "
      "block_size keys, or in sliding mode to a window of `window` keys "
      "around it; computed block-sparse, O(N).";
  plugin.params = {
      PluginParamSpec::Text(
          "mode", "blocks",
          "blocks: non-overlapping blocks; sliding: overlapping window"),
      PluginParamSpec::Number("block_size", 50,
                              "keys per block (blocks mode; LRA: 50)"),
      PluginParamSpec::Number(
          "window", 50,
          "keys per window in sliding mode: i-(w-w/2)+1 .. i+w/2"),
      PluginParamSpec::Flag("causal", false,
                            "attend only to keys at or before the query"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = true;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity = "O(N b)";
  plugin.test_cases = {
      {"blocks-8", {NumberParam("block_size", 8)}, false, 1},
      {"blocks-8-causal",
       {NumberParam("block_size", 8), FlagParam("causal", true)},
       true,
       1},
      {"blocks-70", {NumberParam("block_size", 70)}, false, 1},
      {"sliding-9",
       {TextParam("mode", "sliding"), NumberParam("window", 9)},
       false,
       1},
      {"sliding-9-causal",
       {TextParam("mode", "sliding"), NumberParam("window", 9),
        FlagParam("causal", true)},
       true,
       1},
  };
  plugin.factory = SharedPatternFactory<LocalOptions>(
      kName,
      [](const PluginParams& params, const AttentionShape&) {
        return LocalOptionsFromParams(params);
      },
      LocalPattern);
  return plugin;
}

}  // namespace lra
