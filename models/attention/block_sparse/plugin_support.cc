#include "models/attention/block_sparse/plugin_support.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "models/attention/block_sparse/block_sparse_attention.h"
#include "util/status_macros.h"

namespace lra {
namespace {

std::string Where(const std::string& plugin, const std::string& name) {
  return absl::StrCat("model.attention.param '", name, "' of attention '",
                      plugin, "'");
}

}  // namespace

absl::StatusOr<int> IntegerParam(const PluginParams& params,
                                 const std::string& plugin,
                                 const std::string& name, int min_value,
                                 int max_value) {
  ASSIGN_OR_RETURN(const double value, params.Number(name));
  if (!(value >= min_value && value <= max_value) ||
      value != std::floor(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(plugin, name), " must be an integer in [", min_value,
                     ", ", max_value, "], got ", value));
  }
  return static_cast<int>(value);
}

absl::StatusOr<std::string> ChoiceParam(
    const PluginParams& params, const std::string& plugin,
    const std::string& name, const std::vector<std::string>& choices) {
  ASSIGN_OR_RETURN(const std::string value, params.Text(name));
  for (const std::string& choice : choices) {
    if (value == choice) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(Where(plugin, name), " must be one of ",
                   absl::StrJoin(choices, ", "), "; got '", value, "'"));
}

absl::StatusOr<std::vector<int>> PositionListParam(const PluginParams& params,
                                                   const std::string& plugin,
                                                   const std::string& name) {
  std::vector<int> positions;
  ASSIGN_OR_RETURN(const std::string text, params.Text(name));
  if (absl::StripAsciiWhitespace(text).empty()) return positions;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int p = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &p) || p < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(plugin, name),
          " must be comma-separated non-negative integers, e.g. \"0,17\"; "
          "got '",
          text, "'"));
    }
    positions.push_back(p);
  }
  return positions;
}

absl::Status CheckShape(const std::string& plugin,
                        const AttentionShape& shape) {
  if (shape.max_batch <= 0 || shape.num_heads <= 0 || shape.seq_len <= 0 ||
      shape.head_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        plugin, " attention: shape must be positive, got max_batch=",
        shape.max_batch, " heads=", shape.num_heads, " seq_len=", shape.seq_len,
        " head_dim=", shape.head_dim));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Attention>> MakeBlockSparseAttention(
    const std::string& plugin, const AttentionShape& shape,
    absl::StatusOr<std::vector<BlockSparsePattern>> patterns) {
  if (!patterns.ok()) {
    return absl::Status(
        patterns.status().code(),
        absl::StrCat(plugin, " attention: ", patterns.status().message()));
  }
  absl::StatusOr<std::unique_ptr<BlockSparseAttention>> attention =
      BlockSparseAttention::Create(shape, *std::move(patterns));
  if (!attention.ok()) {
    return absl::Status(
        attention.status().code(),
        absl::StrCat(plugin, " attention: ", attention.status().message()));
  }
  return std::unique_ptr<Attention>(std::move(*attention));
}

absl::StatusOr<std::unique_ptr<Attention>> MakeBlockSparseAttention(
    const std::string& plugin, const AttentionShape& shape,
    absl::StatusOr<BlockSparsePattern> pattern) {
  if (!pattern.ok()) return pattern.status();
  std::vector<BlockSparsePattern> patterns;
  patterns.push_back(*std::move(pattern));
  return MakeBlockSparseAttention(plugin, shape, std::move(patterns));
}

}  // namespace lra
