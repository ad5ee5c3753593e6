#include "models/sequence/builtin.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/sequence/memory_segments.h"
#include "models/sequence/transformer_xl/transformer_xl.h"
#include "util/status_macros.h"

namespace lra {
namespace {

absl::StatusOr<MemorySegmentsOptions> CommonOptions(
    const std::string& plugin, const PluginParams& params) {
  MemorySegmentsOptions options;
  ASSIGN_OR_RETURN(double slots, params.Number("memory_slots"));
  if (slots < 1 || slots != static_cast<int>(slots)) {
    return SequenceParamError(plugin, "memory_slots", slots,
                              "must be an integer >= 1");
  }
  options.memory_slots = static_cast<int>(slots);
  ASSIGN_OR_RETURN(std::string pool, params.Text("pool"));
  if (pool != "memory" && pool != "tokens") {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence '", plugin, "': param pool = \"", pool,
                     "\" is invalid; must be \"memory\" or \"tokens\""));
  }
  options.pool_memory = pool == "memory";
  return options;
}

std::vector<PluginParamSpec> CommonSpecs(int default_slots) {
  return {
      PluginParamSpec::Number("memory_slots", default_slots, "M memory tokens"),
      PluginParamSpec::Text("pool", "memory",
                            "what the encoder averages: \"memory\" (the "
                            "final memory slots) or \"tokens\" (the real "
                            "tokens)")};
}

// Forward FLOPs of MemorySegments over one step: each segment holding a real
// token of a sequence runs every block at its r real tokens plus the M
// memory tokens (a segment of padding only is passed over); segments before
// the truncated-BPTT window run forward only. With recompute_segments, the
// recomputation of earlier segments during backward is not counted (model
// FLOPs, not the work of that memory-saving schedule).
ForwardFlops MemorySegmentsFlops(int memory_slots, int segment_len,
                                 int bptt_segments, const ModelConfig& model,
                                 const std::vector<int>& lengths,
                                 int padded_len, const BlockFlopsFn& block) {
  int n_max = padded_len;
  for (int n : lengths) n_max = std::max(n_max, n);
  const int s = segment_len > 0 ? std::min(segment_len, std::max(1, n_max))
                                : std::max(1, n_max);
  const int g = (n_max + s - 1) / s;
  const int k = bptt_segments > 0 ? std::min(bptt_segments, g) : g;
  std::vector<int> window, before;  // positions per (segment, sequence) run
  for (int n : lengths) {
    for (int i = 0; i < g; ++i) {
      const int real = std::min(s, n - i * s);
      if (real <= 0) break;
      (i >= g - k ? window : before).push_back(real + memory_slots);
    }
  }
  ForwardFlops flops;
  if (!window.empty()) flops = block(window);
  if (!before.empty()) {
    ForwardFlops early = block(before);
    early.forward_only = early.sum();
    flops += early;
  }
  flops *= model.num_layers();
  return flops;
}

SequencePlugin GlobalMemory() {
  SequencePlugin plugin;
  plugin.name = "global_memory";
  plugin.description =
      "M learned memory slots prepended to the sequence, passing through "
      "every block like other tokens (global tokens; with full attention "
      "inside the block every token reads and writes them)";
  plugin.params = CommonSpecs(32);
  plugin.capabilities = {true, false, "that of the blocks at N + M"};
  plugin.flops = [](const PluginParams& params, const ModelConfig& model,
                    const std::vector<int>& lengths, int padded_len,
                    const BlockFlopsFn& block) {
    const int slots =
        static_cast<int>(params.Number("memory_slots").value_or(32));
    return MemorySegmentsFlops(slots, 0, 0, model, lengths, padded_len, block);
  };
  plugin.factory = [](const PluginParams& params, const SequenceShape& shape,
                      const ModelConfig&)
      -> absl::StatusOr<std::unique_ptr<SequenceHandler>> {
    ASSIGN_OR_RETURN(MemorySegmentsOptions options,
                     CommonOptions("global_memory", params));
    return std::make_unique<MemorySegments>(shape, options);
  };
  plugin.test_cases = {
      {"m4_pool_memory", {[] {
         PluginParam p;
         p.set_name("memory_slots");
         p.set_number(4);
         return p;
       }()}},
  };
  return plugin;
}

SequencePlugin Rmt(bool broken) {
  SequencePlugin plugin;
  plugin.name = broken ? "broken_rmt" : "rmt";
  plugin.description =
      "Recurrent Memory Transformer: segments of segment_len tokens with M "
      "memory tokens prepended to each; the memory the blocks write at one "
      "segment is read by the next; truncated BPTT over the last "
      "bptt_segments segments";
  plugin.params = CommonSpecs(8);
  plugin.params.push_back(PluginParamSpec::Number(
      "segment_len", 512, "tokens per segment (the last one is padded)"));
  plugin.params.push_back(PluginParamSpec::Number(
      "bptt_segments", 0,
      "segments the gradient flows through, counted from the last; 0 = all"));
  plugin.params.push_back(PluginParamSpec::Flag(
      "carry_memory", true,
      "false cuts the memory between segments (an ablation, the control of "
      "the cross-segment task): every segment reads the learned slots"));
  plugin.params.push_back(PluginParamSpec::Flag(
      "recompute_segments", false,
      "keep one segment's activations and recompute the others during "
      "backward (same values, memory independent of the number of segments, "
      "one more forward pass); false keeps every segment of the BPTT window"));
  plugin.capabilities = {true, true,
                         "O(N / S) segments, each that of the blocks at S + M"};
  plugin.flops = [](const PluginParams& params, const ModelConfig& model,
                    const std::vector<int>& lengths, int padded_len,
                    const BlockFlopsFn& block) {
    return MemorySegmentsFlops(
        static_cast<int>(params.Number("memory_slots").value_or(8)),
        static_cast<int>(params.Number("segment_len").value_or(512)),
        static_cast<int>(params.Number("bptt_segments").value_or(0)), model,
        lengths, padded_len, block);
  };
  plugin.factory = [broken](const PluginParams& params,
                            const SequenceShape& shape, const ModelConfig&)
      -> absl::StatusOr<std::unique_ptr<SequenceHandler>> {
    ASSIGN_OR_RETURN(MemorySegmentsOptions options,
                     CommonOptions("rmt", params));
    ASSIGN_OR_RETURN(double segment, params.Number("segment_len"));
    if (segment < 1 || segment != static_cast<int>(segment)) {
      return SequenceParamError("rmt", "segment_len", segment,
                                "must be an integer >= 1");
    }
    ASSIGN_OR_RETURN(double bptt, params.Number("bptt_segments"));
    if (bptt < 0 || bptt != static_cast<int>(bptt)) {
      return SequenceParamError("rmt", "bptt_segments", bptt,
                                "must be an integer >= 0 (0 = every segment)");
    }
    options.segment_len = static_cast<int>(segment);
    options.bptt_segments = static_cast<int>(bptt);
    ASSIGN_OR_RETURN(options.carry_memory, params.Flag("carry_memory"));
    ASSIGN_OR_RETURN(options.recompute, params.Flag("recompute_segments"));
    options.broken_memory_gradient = broken;
    return std::make_unique<MemorySegments>(shape, options);
  };
  return plugin;
}

}  // namespace

std::vector<SequencePlugin> BuiltinSequencePlugins() {
  return {GlobalMemory(), Rmt(false), TransformerXlPlugin()};
}

void PrintSequencePlugins(const SequenceRegistry& registry, std::ostream& out) {
  out << "\nsequence plugins (select with model.sequence.name; unset = every "
         "position at once through the blocks):\n";
  for (const std::string& name : registry.Names()) {
    const SequencePlugin& plugin = **registry.Find(name);
    out << "\n"
        << name << ": " << plugin.description << "\n  complexity "
        << plugin.capabilities.complexity << "; key padding mask "
        << (plugin.capabilities.key_padding_mask ? "yes" : "no")
        << "; recurrent " << (plugin.capabilities.recurrent ? "yes" : "no")
        << "\n";
    for (const PluginParamSpec& spec : plugin.params) {
      out << "  param " << spec.name << ": " << spec.help << "\n";
    }
  }
}

SequencePlugin BrokenRmtPluginForTesting() { return Rmt(true); }

}  // namespace lra
