// A token mixer that can also run on packed real rows (PackedRows in
// layers.h), so that the blocks around it skip the padding of every example.
// The attention mixer implements it; the encoder packs a model only when every
// block's mixer does and says it supports it (mixers that read every position
// in order, such as the state-space ones, keep the padded layout).
#ifndef LRA_MODELS_PACKED_MIXER_H_
#define LRA_MODELS_PACKED_MIXER_H_

#include "models/layers.h"
#include "models/mixer.h"

namespace lra {

class PackedRowsMixer {
 public:
  virtual ~PackedRowsMixer() = default;

  // Whether this instance may run packed: its outputs at real positions do
  // not depend on what the padded positions hold.
  virtual bool packed_rows_supported() const = 0;

  // x [R, D] packed (R = rows.rows; step.key_mask is still [B', N]) ->
  // y [R, D]; rows [T, R) of y need only be finite. `rows` and its arrays
  // stay valid and unchanged until BackwardPacked, as does x.
  virtual void ForwardPacked(const float* x, const MixerStep& step,
                             const PackedRows& rows, float* y) = 0;
  // dy [R, D] -> dx [R, D], overwritten (rows [T, R) zero), for the last
  // ForwardPacked; adds into the parameter gradients.
  virtual void BackwardPacked(const float* dy, float* dx) = 0;
};

}  // namespace lra

#endif  // LRA_MODELS_PACKED_MIXER_H_
