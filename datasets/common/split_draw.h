// Seeding the draw of one generated example, and drawing an example of one
// split by rejection, for generators whose split is a fingerprint of the
// tokens drawn (so that no example stands in two splits): brackets, recall
// and cross_segment.
#ifndef LRA_DATASETS_COMMON_SPLIT_DRAW_H_
#define LRA_DATASETS_COMMON_SPLIT_DRAW_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"
#include "datasets/common/random.h"
#include "datasets/dataset_base.h"

namespace lra {

// The seed of example `index` of `split` in the stream `stream_tag` (a
// task's constant) under `data_seed`: every generator seeds its example's
// Rng with this, so examples are pure functions of these four numbers.
inline uint64_t ExampleSeed(uint64_t stream_tag, uint64_t data_seed,
                            Split split, int64_t index) {
  return DeriveSeed({stream_tag, data_seed, static_cast<uint64_t>(split),
                     static_cast<uint64_t>(index)});
}

// Draws until the fingerprint of `fingerprinted` (tokens that the draw
// writes) under DeriveSeed({split_tag, data_seed}) picks `split`, at most
// max_attempts times; the last draw stands if none does. Attempt a calls
// draw(rng) with rng seeded DeriveSeed({stream_tag, data_seed, split, index,
// a}), or with `substream` before a when one is given.
template <typename Draw>
void DrawInSplit(uint64_t stream_tag, uint64_t split_tag, uint64_t data_seed,
                 Split split, int64_t index, int max_attempts,
                 absl::Span<const int32_t> fingerprinted, Draw draw,
                 std::optional<uint64_t> substream = std::nullopt) {
  const uint64_t split_seed = DeriveSeed({split_tag, data_seed});
  const uint64_t split_code = static_cast<uint64_t>(split);
  const uint64_t example = static_cast<uint64_t>(index);
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    const uint64_t a = static_cast<uint64_t>(attempt);
    Rng rng(substream.has_value()
                ? DeriveSeed({stream_tag, data_seed, split_code, example,
                              *substream, a})
                : DeriveSeed({stream_tag, data_seed, split_code, example, a}));
    draw(rng);
    const uint64_t fingerprint = FingerprintIds(fingerprinted, split_seed);
    if (static_cast<Split>(fingerprint % kNumSplits) == split) break;
  }
}

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_SPLIT_DRAW_H_
