#include "models/attention/longformer/longformer_attention.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention/block_sparse/plugin_support.h"
#include "util/status_macros.h"

namespace lra {
namespace {
constexpr char kName[] = "longformer";
constexpr int kMaxWindow = 1 << 24;
}  // namespace

absl::StatusOr<LongformerOptions> LongformerOptionsFromParams(
    const PluginParams& params, const AttentionShape& shape) {
  LongformerOptions options;
  ASSIGN_OR_RETURN(options.window,
                   IntegerParam(params, kName, "window", 1, kMaxWindow));
  ASSIGN_OR_RETURN(options.causal, params.Flag("causal"));
  ASSIGN_OR_RETURN(std::vector<int> tokens,
                   PositionListParam(params, kName, "global_positions"));
  const int offset = shape.cls_token ? 1 : 0;
  const int num_tokens = shape.seq_len - offset;
  for (int t : tokens) {
    if (t >= num_tokens) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.attention.param 'global_positions' of attention '", kName,
          "': token position ", t, " is past the sequence of ", num_tokens,
          " tokens (positions count from 0, not counting CLS)"));
    }
    options.global.push_back(t + offset);
  }
  ASSIGN_OR_RETURN(bool cls_global, params.Flag("cls_global"));
  if (shape.cls_token && cls_global) options.global.push_back(0);
  std::sort(options.global.begin(), options.global.end());
  options.global.erase(
      std::unique(options.global.begin(), options.global.end()),
      options.global.end());
  return options;
}

bool LongformerAllows(const LongformerOptions& options, int i, int j) {
  if (options.causal && j > i) return false;
  auto global = [&options](int p) {
    return std::binary_search(options.global.begin(), options.global.end(), p);
  };
  return InWindow(i, j, options.window) || global(i) || global(j);
}

absl::StatusOr<BlockSparsePattern> LongformerPattern(
    const LongformerOptions& options, int seq_len) {
  std::vector<uint8_t> is_global(seq_len, 0);
  for (int p : options.global) {
    if (p < 0 || p >= seq_len) {
      return absl::InvalidArgumentError(absl::StrCat(
          "global position ", p, " is outside [0, ", seq_len, ")"));
    }
    is_global[p] = 1;
  }
  const std::vector<int32_t> gather(options.global.begin(),
                                    options.global.end());
  const int num_global = static_cast<int>(gather.size());
  const bool causal = options.causal;
  const int window = options.window;
  BlockSparsePatternBuilder builder(seq_len, gather);
  // Each allowed pair is covered once: a global row takes all its keys from
  // the gathered query tiles; any other row takes its window (without global
  // keys) from natural tiles and the global keys from the gathered tiles.
  auto window_pairs = [&](int i, int j) {
    return !is_global[i] && !is_global[j] && InWindow(i, j, window) &&
           (!causal || j <= i);
  };
  auto global_keys = [&](int i, int j) {
    return !is_global[i] && (!causal || j <= i);
  };
  const int right = causal ? 0 : WindowRight(window);
  for (int i0 = 0; i0 < seq_len; i0 += kSparseTile) {
    const int rows = std::min(kSparseTile, seq_len - i0);
    builder.AddQueryBlock({i0, rows, false});
    builder.AddKeyRange(i0 - WindowLeft(window), i0 + rows + right,
                        window_pairs);
    if (num_global > 0) builder.AddGatheredKeyRange(0, num_global, global_keys);
  }
  for (int g0 = 0; g0 < num_global; g0 += kSparseTile) {
    const int rows = std::min(kSparseTile, num_global - g0);
    builder.AddQueryBlock({g0, rows, true});
    if (causal) {
      builder.AddKeyRange(0, gather[g0 + rows - 1] + 1,
                          [](int i, int j) { return j <= i; });
    } else {
      builder.AddKeyRange(0, seq_len);
    }
  }
  return std::move(builder).Build();
}

AttentionPlugin LongformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = kName;
  plugin.description =
      "Longformer (LRA): sliding window of `window` keys plus global tokens "
      "(listed positions, and CLS under CLS pooling) that attend to and are "
      "attended by all; computed block-sparse, O(N (w + g)).";
  plugin.params = {
      PluginParamSpec::Number(
          "window", 512, "keys per window: i-(w-w/2)+1 .. i+w/2 (LRA: 512)"),
      PluginParamSpec::Text(
          "global_positions", "",
          "comma-separated token positions made global (0 = first token "
          "after CLS)"),
      PluginParamSpec::Flag(
          "cls_global", true,
          "make the CLS token global when the encoder uses CLS pooling"),
      PluginParamSpec::Flag("causal", false,
                            "attend only to keys at or before the query"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = true;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity = "O(N (w + g))";
  plugin.test_cases = {
      {"window-9", {NumberParam("window", 9)}, false, 1},
      {"window-9-causal",
       {NumberParam("window", 9), FlagParam("causal", true)},
       true,
       1},
      {"window-8-global",
       {NumberParam("window", 8), TextParam("global_positions", "0,5")},
       false,
       6},
      {"window-8-global-causal",
       {NumberParam("window", 8), TextParam("global_positions", "0,5"),
        FlagParam("causal", true)},
       true,
       6},
  };
  plugin.factory = SharedPatternFactory(kName, LongformerOptionsFromParams,
                                        LongformerPattern);
  return plugin;
}

}  // namespace lra
