// The token mixer: the part of a block through which positions see each
// other. Attention (models/attention_mixer.h, around an attention plugin) is
// one kind; mixers that are not attention (state-space layers, for example)
// implement the same interface and sit in the same place of the block.
#ifndef LRA_MODELS_MIXER_H_
#define LRA_MODELS_MIXER_H_

#include <cstdint>

#include "models/parameters.h"

namespace lra {

// The fixed sizes a mixer instance is built for.
struct MixerShape {
  int max_seqs = 1;     // B': sequences per call at most
  int seq_len = 1;      // N: positions per sequence (including CLS)
  int d_model = 1;      // D
  int layer_index = 0;  // the block's index, for parameter names and seeds
  // Position 0 is the encoder's CLS token.
  bool cls_token = false;
};

// What changes from call to call.
struct MixerStep {
  int seqs = 0;                       // B' <= max_seqs
  const uint8_t* key_mask = nullptr;  // [B', N], 1 = real position
  bool training = false;
  uint64_t seed = 0;  // for the mixer's own randomness (attention dropout)
};

class TokenMixer {
 public:
  virtual ~TokenMixer() = default;

  // x [B', N, D] (the block's normalised input) -> y [B', N, D]. The mixer
  // may keep the x pointer for Backward: the caller keeps x alive and
  // unchanged until then.
  virtual void Forward(const float* x, const MixerStep& step, float* y) = 0;
  // dy [B', N, D] -> dx [B', N, D], overwritten, for the last Forward; adds
  // into the mixer's parameter gradients.
  virtual void Backward(const float* dy, float* dx) = 0;

  // The mixer's parameters in a fixed order, names relative to the mixer
  // (the block prefixes them).
  virtual void ForEachWeight(const WeightVisitor& fn) = 0;
  // Initialises the parameters visited with Init::kByOwner.
  virtual void InitParameters(uint64_t seed) {}
  // The prefix of this mixer's parameter names inside a block: "attn".
  virtual const char* name_prefix() const = 0;
};

}  // namespace lra

#endif  // LRA_MODELS_MIXER_H_
