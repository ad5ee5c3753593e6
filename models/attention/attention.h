// The attention plugin contract and its registry: the seam where X-former
// variants plug into the encoder. One plugin = one folder under attention/,
// listed once in builtin.cc.
#ifndef LRA_MODELS_ATTENTION_ATTENTION_H_
#define LRA_MODELS_ATTENTION_ATTENTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/parameters.h"
#include "models/tensor.h"
#include "proto/config.pb.h"

namespace lra {

// What a plugin supports, printed by `lra list` and checked by the
// conformance suite.
struct AttentionCapabilities {
  bool key_padding_mask =
      false;               // honours key_mask (padded keys get no weight)
  bool causal = false;     // can restrict a query to keys at or before it
  bool learnable = false;  // has parameters of its own
  std::string complexity;  // in sequence length N, e.g. "O(N^2)"
};

// Tolerances the plugin declares for the shared tests: forward against its
// reference, and central-difference gradient checks.
struct AttentionTolerances {
  float forward_abs = 1e-4f;
  float grad_rel = 2e-2f;
  float grad_abs = 2e-3f;
  float grad_epsilon = 1e-2f;
};

// The fixed sizes an instance is built for; workspaces are sized by them.
struct AttentionShape {
  int max_batch = 1;
  int num_heads = 1;
  int seq_len = 1;  // positions seen by attention (including CLS)
  int head_dim = 1;
  float attention_dropout = 0.0f;
  int layer_index = 0;
  uint64_t seed = 0;  // for plugins with random structure fixed at creation
  // Position 0 is the encoder's CLS token (CLS pooling), which patterns such
  // as Longformer's make global.
  bool cls_token = false;
};

// One instance per encoder layer; owns its workspace. q, k, v and out are
// [B, H, N, Dh] contiguous with N = shape.seq_len. The instance may keep the
// q/k/v/out pointers given to Forward and read them in Backward, so the caller
// must keep those buffers alive and unchanged until Backward has run.
class Attention {
 public:
  virtual ~Attention() = default;

  // key_mask: [B, N], 1 = real key, 0 = padding (nullptr = no padding).
  // Attention dropout applies only when training; its masks are a pure
  // function of seed (counter-based, so Backward can regenerate them).
  // The score scale 1/sqrt(Dh) is applied inside.
  virtual void Forward(const float* q, const float* k, const float* v,
                       const uint8_t* key_mask, int batch, bool training,
                       uint64_t seed, float* out) = 0;
  // dout: [B, H, N, Dh]. Overwrites dq, dk, dv ([B, H, N, Dh]) for the batch
  // of the last Forward; adds into the plugin's own parameter gradients.
  virtual void Backward(const float* dout, float* dq, float* dk, float* dv) = 0;

  // Visits the plugin's own parameters (names relative to the layer, e.g.
  // "proj"; the encoder prefixes "layer{i}.attn.").
  virtual void ForEachParameter(const ParameterVisitor& fn) {}
  // Deterministic initialisation of the plugin's own parameters.
  virtual void InitParameters(uint64_t seed) {}
};

// A declared plugin parameter with its default. Build one with Number, Text
// or Flag:
//   AttentionParamSpec::Number("block_size", 50, "keys per block")
struct AttentionParamSpec {
  enum class Type { kNumber, kText, kFlag };

  static AttentionParamSpec Number(std::string name, double default_value,
                                   std::string help);
  static AttentionParamSpec Text(std::string name, std::string default_value,
                                 std::string help);
  static AttentionParamSpec Flag(std::string name, bool default_value,
                                 std::string help);

  std::string name;
  Type type = Type::kNumber;
  double default_number = 0.0;
  std::string default_text;
  bool default_flag = false;
  std::string help;
};

// The parameters of one AttentionConfig, validated against the plugin's specs
// and completed with their defaults. Reading a name the plugin did not
// declare, or as another kind than declared, is an error naming the plugin,
// the name and what it declares: a misspelt lookup in a plugin fails its
// first test instead of silently reading 0.
class AttentionParams {
 public:
  absl::StatusOr<double> Number(const std::string& name) const;
  absl::StatusOr<std::string> Text(const std::string& name) const;
  absl::StatusOr<bool> Flag(const std::string& name) const;

 private:
  friend class AttentionRegistry;
  absl::Status Undeclared(const std::string& name, const char* kind) const;

  std::string plugin_;
  std::map<std::string, double> numbers_;
  std::map<std::string, std::string> texts_;
  std::map<std::string, bool> flags_;
};

using AttentionFactory =
    std::function<absl::StatusOr<std::unique_ptr<Attention>>(
        const AttentionParams& params, const AttentionShape& shape)>;

// One configuration in which the conformance suite
// (models/attention/conformance/) runs a plugin. A plugin lists the parameter
// settings worth testing: e.g. a small block so that short test sequences span
// several blocks, each mode it has, and its causal setting.
struct AttentionTestCase {
  std::string label;                   // shown in failures, e.g. "sliding"
  std::vector<AttentionParam> params;  // overrides of the declared defaults
  // These params make the plugin causal, so the suite checks that no output
  // depends on a later position.
  bool causal = false;
  // Shortest sequence this configuration supports; the suite skips shorter
  // test lengths (and runs at min_seq_len itself if that skips them all).
  int min_seq_len = 1;
};

// Helpers for AttentionTestCase::params (and configs built in code).
AttentionParam AttentionNumberParam(const std::string& name, double value);
AttentionParam AttentionTextParam(const std::string& name,
                                  const std::string& value);
AttentionParam AttentionFlagParam(const std::string& name, bool value);

// Everything the registry knows about one variant.
struct AttentionPlugin {
  std::string name;
  std::string description;
  std::vector<AttentionParamSpec> params;
  AttentionCapabilities capabilities;
  AttentionTolerances tolerances;
  AttentionFactory factory;
  // Configurations for the conformance suite. Empty means one case with the
  // defaults, plus (for a causal-capable plugin with a flag named "causal")
  // one with that flag set.
  std::vector<AttentionTestCase> test_cases;
};

class AttentionRegistry;

// Registers `plugins` in order. A registration error (an empty or duplicate
// name, a missing factory) is a programming error in a plugin list: this
// prints it ("lra: cannot register attention plugins: ...") and aborts.
void RegisterOrDie(AttentionRegistry& registry,
                   std::vector<AttentionPlugin> plugins);

class AttentionRegistry {
 public:
  // Fails on an empty or duplicate name, or a missing factory.
  absl::Status Register(AttentionPlugin plugin);
  // Unknown names fail with the list of registered names.
  absl::StatusOr<const AttentionPlugin*> Find(const std::string& name) const;
  // Sorted registered names.
  std::vector<std::string> Names() const;
  // Checks config.param against the plugin's specs (unknown names list the
  // known ones; a value of the wrong kind names the expected kind), fills
  // defaults, and calls the factory.
  absl::StatusOr<std::unique_ptr<Attention>> Create(
      const AttentionConfig& config, const AttentionShape& shape) const;
  // The validation half of Create, for config checks without building.
  absl::StatusOr<AttentionParams> ResolveParams(
      const AttentionConfig& config) const;

 private:
  std::map<std::string, AttentionPlugin> plugins_;
};

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_ATTENTION_H_
