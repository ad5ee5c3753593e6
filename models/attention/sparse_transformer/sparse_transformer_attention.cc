#include "models/attention/sparse_transformer/sparse_transformer_attention.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/attention/block_sparse/plugin_support.h"
#include "util/status_macros.h"

namespace lra {
namespace {

constexpr char kName[] = "sparse_transformer";
constexpr int kMaxBlock = 1 << 24;

// Summary positions of the fixed pattern: offset 0 and the last c offsets of
// every block.
bool IsSummary(const SparseTransformerOptions& o, int q) {
  const int r = q % o.block_size;
  return r == 0 || r >= o.block_size - o.summary;
}

// The pattern on token positions p, q (CLS excluded).
bool TokenPairAllowed(const SparseTransformerOptions& o, int p, int q) {
  if (o.causal && q > p) return false;
  const int l = o.block_size;
  if (o.strided) return std::abs(p - q) < l || (p - q) % l == 0;
  return p / l == q / l || IsSummary(o, q);
}

// The fixed pattern: per block of l tokens, its own block (natural tiles)
// and every other block's summary columns (gathered tiles).
void BuildFixed(const SparseTransformerOptions& o, int seq_len, int offset,
                BlockSparsePatternBuilder& builder, int num_gathered) {
  const int tokens = seq_len - offset;
  const int l = o.block_size;
  for (int s = 0; s < tokens; s += l) {
    const int e = std::min(tokens, s + l);
    const int block = s / l;
    for (int r0 = s; r0 < e; r0 += kSparseTile) {
      const int rows = std::min(kSparseTile, e - r0);
      builder.AddQueryBlock({offset + r0, rows, false});
      // The block's own keys; the range starts at a cache line, the keys
      // before the block masked.
      builder.AddKeyRange(
          offset + s, offset + (o.causal ? r0 + rows : e), [&](int i, int j) {
            return j >= offset + s && j < offset + e && (!o.causal || j <= i);
          });
      // CLS (gathered first when global) and the summary columns of the
      // other blocks; this block's own summaries came with its block.
      builder.AddGatheredKeyRange(0, num_gathered, [&](int i, int j) {
        if (j < offset) return true;
        const int q = j - offset;
        return q / l != block && (!o.causal || j <= i);
      });
    }
  }
}

// The strided pattern: a band |p - q| < l (natural tiles) and, per residue
// class mod l, the class against itself without the diagonal (gathered).
void BuildStrided(const SparseTransformerOptions& o, int seq_len, int offset,
                  BlockSparsePatternBuilder& builder,
                  const std::vector<int>& class_start) {
  const int tokens = seq_len - offset;
  const int l = o.block_size;
  auto band = [&](int i, int j) {
    if (j < offset) return true;  // the global CLS column
    return std::abs(i - j) < l && (!o.causal || j <= i);
  };
  for (int r0 = 0; r0 < tokens; r0 += kSparseTile) {
    const int rows = std::min(kSparseTile, tokens - r0);
    builder.AddQueryBlock({offset + r0, rows, false});
    const int lo = offset + r0 - (l - 1);
    const int hi = offset + r0 + rows + (o.causal ? 0 : l - 1);
    // The CLS column comes with the band when the band's first tile reaches
    // it, else as a tile of its own.
    if (offset > 0 && BlockSparsePatternBuilder::AlignedBegin(lo, hi) > 0) {
      builder.AddKeys({0, 1, false});
    }
    builder.AddKeyRange(lo, hi, band);
  }
  auto same_class = [&](int i, int j) {
    return i != j && (!o.causal || j <= i);
  };
  for (size_t c = 0; c + 1 < class_start.size(); ++c) {
    const int begin = class_start[c], end = class_start[c + 1];
    for (int g0 = begin; g0 < end; g0 += kSparseTile) {
      builder.AddQueryBlock({g0, std::min(kSparseTile, end - g0), true});
      builder.AddGatheredKeyRange(begin, end, same_class);
    }
  }
}

}  // namespace

absl::StatusOr<SparseTransformerOptions> SparseTransformerOptionsFromParams(
    const PluginParams& params, const AttentionShape& shape) {
  SparseTransformerOptions options;
  ASSIGN_OR_RETURN(std::string pattern,
                   ChoiceParam(params, kName, "pattern", {"fixed", "strided"}));
  options.strided = pattern == "strided";
  ASSIGN_OR_RETURN(options.block_size,
                   IntegerParam(params, kName, "block_size", 1, kMaxBlock));
  // c only shapes the fixed pattern, so a strided config keeps the default.
  ASSIGN_OR_RETURN(
      options.summary,
      IntegerParam(params, kName, "c", 0,
                   options.strided ? kMaxBlock : options.block_size));
  ASSIGN_OR_RETURN(options.causal, params.Flag("causal"));
  ASSIGN_OR_RETURN(bool cls_global, params.Flag("cls_global"));
  options.cls_global = shape.cls_token && cls_global;
  return options;
}

bool SparseTransformerAllows(const SparseTransformerOptions& options, int i,
                             int j) {
  if (options.cls_global) {
    if (i == 0) return !options.causal || j == 0;
    if (j == 0) return true;
    return TokenPairAllowed(options, i - 1, j - 1);
  }
  return TokenPairAllowed(options, i, j);
}

absl::StatusOr<BlockSparsePattern> SparseTransformerPattern(
    const SparseTransformerOptions& options, int seq_len) {
  const int offset = options.cls_global ? 1 : 0;
  const int tokens = seq_len - offset;
  const int l = options.block_size;
  std::vector<int32_t> gather;
  std::vector<int> class_start;
  if (offset > 0 && !options.strided) gather.push_back(0);
  if (options.strided) {
    // Positions grouped by residue class, each class contiguous.
    for (int r = 0; r < std::min(l, tokens); ++r) {
      class_start.push_back(static_cast<int>(gather.size()));
      for (int p = r; p < tokens; p += l) gather.push_back(offset + p);
    }
    class_start.push_back(static_cast<int>(gather.size()));
  } else {
    for (int q = 0; q < tokens; ++q) {
      if (IsSummary(options, q)) gather.push_back(offset + q);
    }
  }
  const int num_gathered = static_cast<int>(gather.size());
  BlockSparsePatternBuilder builder(seq_len, std::move(gather));
  if (offset > 0) {
    builder.AddQueryBlock({0, 1, false});
    if (options.causal) {
      builder.AddKeys({0, 1, false});
    } else {
      builder.AddKeyRange(0, seq_len);
    }
  }
  if (options.strided) {
    BuildStrided(options, seq_len, offset, builder, class_start);
  } else {
    BuildFixed(options, seq_len, offset, builder, num_gathered);
  }
  return std::move(builder).Build();
}

AttentionPlugin SparseTransformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = kName;
  plugin.description =
      "Sparse Transformer (Child et al.; LRA): fixed pattern (own block of l "
      "plus every block's last c and first positions) or strided pattern "
      "(band of l plus every l-th position); bidirectional, causal option; "
      "computed block-sparse.";
  plugin.params = {
      PluginParamSpec::Text("pattern", "fixed", "fixed or strided"),
      PluginParamSpec::Number(
          "block_size", 50,
          "l: block length (fixed) or stride (strided); LRA: 50"),
      PluginParamSpec::Number(
          "c", 10,
          "summary positions at the end of each block (fixed); LRA: 10"),
      PluginParamSpec::Flag("causal", false,
                            "attend only to keys at or before the query"),
      PluginParamSpec::Flag(
          "cls_global", true,
          "make the CLS token global when the encoder uses CLS pooling (LRA)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = true;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity =
      "O(N^2 c / l) fixed, O(N (l + N / l)) strided";
  plugin.test_cases = {
      {"fixed-8-2",
       {NumberParam("block_size", 8), NumberParam("c", 2)},
       false,
       1},
      {"fixed-8-2-causal",
       {NumberParam("block_size", 8), NumberParam("c", 2),
        FlagParam("causal", true)},
       true,
       1},
      {"strided-6",
       {TextParam("pattern", "strided"), NumberParam("block_size", 6)},
       false,
       1},
      {"strided-6-causal",
       {TextParam("pattern", "strided"), NumberParam("block_size", 6),
        FlagParam("causal", true)},
       true,
       1},
  };
  plugin.factory = SharedPatternFactory(
      kName, SparseTransformerOptionsFromParams, SparseTransformerPattern);
  return plugin;
}

}  // namespace lra
