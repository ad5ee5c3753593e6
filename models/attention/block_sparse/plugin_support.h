// What the sparse-pattern plugins share besides the engine: reading their
// declared parameters with range checks and clear errors, and turning
// patterns into an Attention instance.
#ifndef LRA_MODELS_ATTENTION_BLOCK_SPARSE_PLUGIN_SUPPORT_H_
#define LRA_MODELS_ATTENTION_BLOCK_SPARSE_PLUGIN_SUPPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

namespace lra {

// Number parameter `name` of attention `plugin` as an integer in
// [min_value, max_value]; otherwise an error naming the parameter, its value
// and the allowed range.
absl::StatusOr<int> IntegerParam(const PluginParams& params,
                                 const std::string& plugin,
                                 const std::string& name, int min_value,
                                 int max_value);

// Text parameter `name` of attention `plugin`, which must be one of
// `choices`.
absl::StatusOr<std::string> ChoiceParam(
    const PluginParams& params, const std::string& plugin,
    const std::string& name, const std::vector<std::string>& choices);

// Comma-separated non-negative integers ("" = none), e.g. "0, 17, 300", for
// text parameter `name` of attention `plugin`.
absl::StatusOr<std::vector<int>> PositionListParam(const PluginParams& params,
                                                   const std::string& plugin,
                                                   const std::string& name);

// Checks the shape, builds a BlockSparseAttention from the patterns, and
// prefixes any error with the plugin's name.
absl::StatusOr<std::unique_ptr<Attention>> MakeBlockSparseAttention(
    const std::string& plugin, const AttentionShape& shape,
    absl::StatusOr<std::vector<BlockSparsePattern>> patterns);

// The same for a plugin whose heads all share one pattern.
absl::StatusOr<std::unique_ptr<Attention>> MakeBlockSparseAttention(
    const std::string& plugin, const AttentionShape& shape,
    absl::StatusOr<BlockSparsePattern> pattern);

// Rejects non-positive shapes with the plugin's name in the message.
absl::Status CheckShape(const std::string& plugin, const AttentionShape& shape);

// The factory of a plugin whose heads all share one pattern: checks the
// shape, reads the options with read_options(params, shape), builds the
// pattern with build_pattern(options, seq_len) and the engine on it.
template <typename Options>
AttentionFactory SharedPatternFactory(
    const char* plugin,
    absl::StatusOr<Options> (*read_options)(const PluginParams&,
                                            const AttentionShape&),
    absl::StatusOr<BlockSparsePattern> (*build_pattern)(const Options&, int)) {
  return [=](const PluginParams& params, const AttentionShape& shape)
             -> absl::StatusOr<std::unique_ptr<Attention>> {
    absl::Status status = CheckShape(plugin, shape);
    if (!status.ok()) return status;
    absl::StatusOr<Options> options = read_options(params, shape);
    if (!options.ok()) return options.status();
    return MakeBlockSparseAttention(plugin, shape,
                                    build_pattern(*options, shape.seq_len));
  };
}

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BLOCK_SPARSE_PLUGIN_SUPPORT_H_
