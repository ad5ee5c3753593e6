#include "models/attention/bigbird/bigbird_attention.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention/block_sparse/plugin_support.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {
constexpr char kName[] = "bigbird";
constexpr int kMaxBlocks = 1 << 20;
}  // namespace

absl::StatusOr<BigBirdOptions> BigBirdOptionsFromParams(
    const PluginParams& params) {
  BigBirdOptions options;
  ASSIGN_OR_RETURN(options.block_size,
                   IntegerParam(params, kName, "block_size", 1, kMaxBlocks));
  ASSIGN_OR_RETURN(options.window_blocks,
                   IntegerParam(params, kName, "window_blocks", 1, kMaxBlocks));
  if (options.window_blocks % 2 == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.attention.param 'window_blocks' of attention '", kName,
        "' must be odd (the block itself plus as many on each side), got ",
        options.window_blocks));
  }
  ASSIGN_OR_RETURN(options.global_blocks,
                   IntegerParam(params, kName, "global_blocks", 0, kMaxBlocks));
  ASSIGN_OR_RETURN(options.random_blocks,
                   IntegerParam(params, kName, "random_blocks", 0, kMaxBlocks));
  return options;
}

bool BigBirdLayout::Allows(int i, int j) const {
  const int a = i / block_size;
  if (global[a]) return true;
  return std::binary_search(keys[a].begin(), keys[a].end(), j / block_size);
}

BigBirdLayout BigBirdHeadLayout(const BigBirdOptions& options, int seq_len,
                                uint64_t seed) {
  BigBirdLayout layout;
  layout.block_size = options.block_size;
  const int nb = (seq_len + options.block_size - 1) / options.block_size;
  layout.num_blocks = nb;
  layout.global.assign(nb, 0);
  layout.keys.resize(nb);
  layout.random.resize(nb);
  const int first = options.global_blocks - options.global_blocks / 2;
  const int last = options.global_blocks / 2;
  for (int a = 0; a < std::min(first, nb); ++a) layout.global[a] = 1;
  for (int a = std::max(0, nb - last); a < nb; ++a) layout.global[a] = 1;
  const int half = options.window_blocks / 2;
  std::vector<uint8_t> taken(nb);
  std::vector<int> candidates;
  for (int a = 0; a < nb; ++a) {
    if (layout.global[a]) continue;
    std::fill(taken.begin(), taken.end(), 0);
    for (int b = 0; b < nb; ++b) taken[b] = layout.global[b];
    for (int b = std::max(0, a - half); b <= std::min(nb - 1, a + half); ++b) {
      taken[b] = 1;
    }
    candidates.clear();
    for (int b = 0; b < nb; ++b) {
      if (!taken[b]) candidates.push_back(b);
    }
    // A partial Fisher-Yates shuffle on a counter-based stream: the choice
    // depends only on (seed, a), never on thread timing or library versions.
    const uint64_t stream = DeriveSeed(seed, static_cast<uint64_t>(a));
    const int picks =
        std::min(options.random_blocks, static_cast<int>(candidates.size()));
    for (int t = 0; t < picks; ++t) {
      const int left = static_cast<int>(candidates.size()) - t;
      const int pick = t + static_cast<int>(RandomBits(stream, t) % left);
      std::swap(candidates[t], candidates[pick]);
      layout.random[a].push_back(candidates[t]);
      taken[candidates[t]] = 1;
    }
    std::sort(layout.random[a].begin(), layout.random[a].end());
    for (int b = 0; b < nb; ++b) {
      if (taken[b]) layout.keys[a].push_back(b);
    }
  }
  return layout;
}

uint64_t BigBirdHeadSeed(const AttentionShape& shape, int head) {
  return DeriveSeed(
      DeriveSeed(shape.seed, static_cast<uint64_t>(shape.layer_index)),
      static_cast<uint64_t>(head));
}

absl::StatusOr<BlockSparsePattern> BigBirdPattern(const BigBirdLayout& layout,
                                                  int seq_len) {
  BlockSparsePatternBuilder builder(seq_len);
  const int bs = layout.block_size;
  for (int a = 0; a < layout.num_blocks; ++a) {
    const int s = a * bs, e = std::min(seq_len, s + bs);
    for (int r0 = s; r0 < e; r0 += kSparseTile) {
      builder.AddQueryBlock({r0, std::min(kSparseTile, e - r0), false});
      if (layout.global[a]) {
        builder.AddKeyRange(0, seq_len);
        continue;
      }
      // Adjacent key blocks merge into one range, so blocks smaller than a
      // tile still fill whole tiles.
      const std::vector<int>& keys = layout.keys[a];
      for (size_t k = 0; k < keys.size();) {
        size_t end = k + 1;
        while (end < keys.size() && keys[end] == keys[end - 1] + 1) ++end;
        builder.AddKeyRange(keys[k] * bs,
                            std::min(seq_len, (keys[end - 1] + 1) * bs));
        k = end;
      }
    }
  }
  return std::move(builder).Build();
}

AttentionPlugin BigBirdAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = kName;
  plugin.description =
      "BigBird (ITC, LRA): blocks of 64; each block attends to a window of 3 "
      "blocks, the first and last (global) blocks and 3 random blocks fixed "
      "per layer and head; global blocks attend to all; block-sparse, O(N).";
  plugin.params = {
      PluginParamSpec::Number("block_size", 64,
                              "positions per block (LRA: 64)"),
      PluginParamSpec::Number(
          "window_blocks", 3,
          "odd number of blocks in the sliding window (LRA: 3)"),
      PluginParamSpec::Number(
          "global_blocks", 2,
          "global blocks: the first g - g/2 and the last g/2 (LRA: 2)"),
      PluginParamSpec::Number("random_blocks", 3,
                              "random key blocks per query block (LRA: 3)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = false;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity = "O(N b (w + g + r))";
  plugin.test_cases = {
      {"block-4", {NumberParam("block_size", 4)}, false, 1},
      {"block-5-r1",
       {NumberParam("block_size", 5), NumberParam("random_blocks", 1),
        NumberParam("global_blocks", 1)},
       false,
       1},
      {"block-64", {}, false, 1},
  };
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    RETURN_IF_ERROR(CheckShape(kName, shape));
    ASSIGN_OR_RETURN(BigBirdOptions options, BigBirdOptionsFromParams(params));
    std::vector<BlockSparsePattern> patterns;
    for (int h = 0; h < shape.num_heads; ++h) {
      ASSIGN_OR_RETURN(
          BlockSparsePattern pattern,
          BigBirdPattern(BigBirdHeadLayout(options, shape.seq_len,
                                           BigBirdHeadSeed(shape, h)),
                         shape.seq_len));
      patterns.push_back(std::move(pattern));
    }
    return MakeBlockSparseAttention(kName, shape, std::move(patterns));
  };
  return plugin;
}

}  // namespace lra
