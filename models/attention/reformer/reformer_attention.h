// "reformer": LSH attention with shared queries and keys (Kitaev et al. 2020,
// as in LRA). Keys are the normalised queries; positions are hashed by random
// rotations into buckets, stably sorted by bucket, cut into chunks, and each
// chunk attends to itself and to the previous chunk. Several hash rounds are
// combined as in the paper (duplicates counted once). See README.md.
#ifndef LRA_MODELS_ATTENTION_REFORMER_REFORMER_ATTENTION_H_
#define LRA_MODELS_ATTENTION_REFORMER_REFORMER_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/attention/attention.h"

namespace lra {

struct ReformerOptions {
  int chunk = 10;           // positions per chunk of the sorted sequence
  int n_hashes = 1;         // hash rounds
  int buckets = 10;         // 1, or even (argmax over [xR, -xR])
  int rehash_interval = 0;  // K > 0: new rotations every K steps
};

// Reads and checks the plugin's parameters.
absl::StatusOr<ReformerOptions> ReformerOptionsFromParams(
    const PluginParams& params);

// The random rotations of an instance of `shape` in structure epoch `epoch`
// (step / rehash_interval, or 0): [H, n_hashes, Dh, buckets / 2] standard
// normal, a pure function of (shape.seed, shape.layer_index, epoch). Empty
// when buckets == 1.
std::vector<float> ReformerRotations(const AttentionShape& shape,
                                     const ReformerOptions& options,
                                     int64_t epoch);

// The bucket of one vector x [Dh] under the rotation r [Dh, buckets / 2]:
// argmax over [x r, -x r] (the first on ties), computed in double; 0 when
// buckets == 1.
int ReformerBucket(const float* x, const float* rotation, int head_dim,
                   int buckets);

class ReformerAttention : public Attention {
 public:
  ReformerAttention(const ReformerOptions& options,
                    const AttentionShape& shape);

  void Forward(const AttentionInputs& in, float* out) override;
  void Backward(const float* dout, const AttentionGradients& grads) override;
  void SetStep(int64_t step) override;
  void FreezeStructure(bool frozen) override { frozen_ = frozen; }

  // Tests only: replaces the rotations ([H, n_hashes, Dh, buckets / 2]).
  void SetRotationsForTest(const std::vector<float>& rotations);
  // The rotations in use ([H, n_hashes, Dh, buckets / 2]).
  const std::vector<float>& rotations() const { return rotations_; }

 private:
  // Buckets and the stable sort of example b, head h, in every round.
  void HashAndSort(int b, int h, const float* q, const uint8_t* key_mask);

  ReformerOptions options_;
  AttentionShape shape_;
  int64_t epoch_ = 0;
  bool frozen_ = false;

  // Saved by Forward for Backward.
  AttentionInputs in_;
  bool dropout_active_ = false;

  std::vector<float> rotations_;   // [H, R, Dh, nb / 2]
  std::vector<int32_t> sorted_;    // [maxB, H, R, N] index at sorted position
  std::vector<int32_t> position_;  // [maxB, H, R, N] sorted position of index
  std::vector<int32_t> counts_;    // [maxB, H, nb + 2] counting-sort scratch
  std::vector<int32_t> bucket_;    // [maxB, H, N] counting-sort scratch
  std::vector<float> keys_;        // [maxB, H, N, Dh] normalised queries
  std::vector<float> inv_norm_;    // [maxB, H, N] 1 / sqrt(|q|^2 + eps)
  std::vector<float> lse_;         // [maxB, H, N] log-sum-exp of the scores
  std::vector<float> out_;         // [maxB, H, N, Dh] the last output
  std::vector<float> dkeys_;       // [maxB, H, N, Dh] grad of the key role
  std::vector<float> scores_;      // [maxB, H, R * 2 * chunk] of one query
};

// The registry entry for "reformer".
AttentionPlugin ReformerAttentionPlugin();

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_REFORMER_REFORMER_ATTENTION_H_
