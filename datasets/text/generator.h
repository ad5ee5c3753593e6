// The built-in stand-in for LRA's Text task (used when task.text.data_dir
// is empty): synthetic byte-level "reviews" whose sentiment label is the
// majority polarity of cue words spread over the whole document.
//
// Construction of example (data_seed, split, index), from its own stream:
// - length L uniform in [min_length, max_length]; only the first
//   min(L, seq_len) bytes are generated, since truncation would drop the
//   rest anyway;
// - label y uniform in {0, 1}; margin d uniform over the odd numbers
//   1..max_margin; the document gets (num_cues + d) / 2 cues of polarity y
//   and the rest of the other polarity, in random order;
// - cue s goes in the s-th of num_cues equal shares of the document, at a
//   random word boundary, amid neutral filler words (words.h).
//
// Cue words come in anagram pairs (smile/slime, live/evil, sacred/scared,
// teach/cheat, lived/devil, garden/danger, desserts/stressed,
// wonder/downer): each cue draws its pair uniformly and its polarity picks
// the word, so the byte histogram of a document does not depend on the
// label at all; only which words occur does. Length does not depend on the
// label either. A model has to find the cue words, tell the two members of
// a pair apart, and count them over the whole document: with margin 1 every
// cue matters.
#ifndef LRA_DATASETS_TEXT_GENERATOR_H_
#define LRA_DATASETS_TEXT_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace text {

struct CuePair {
  absl::string_view positive;
  absl::string_view negative;
};
absl::Span<const CuePair> CuePairs();

// Most cues a document may have (bounds the generator's stack scratch).
inline constexpr int kMaxCues = 255;

// Checks the stand-in fields of a resolved config for documents cut to
// `seq_len`. `field_prefix` is prepended to field names, e.g. "task.text.".
absl::Status ValidateTextStandIn(const TextConfig& config, int seq_len,
                                 const std::string& field_prefix);

// Writes the seq_len tokens of stand-in example `index` of `split` (ids
// byte + 1, then padding) and returns its label (1 = positive). `config`
// must have passed ValidateTextStandIn for this seq_len. Thread-safe and
// allocation-free.
int32_t GenerateTextExample(const TextConfig& config, int seq_len,
                            uint64_t data_seed, Split split, int64_t index,
                            int32_t* tokens);

// The oracle: cue words among the whole words of a document (ids
// byte + 1, 0 ends it). The label of a stand-in example is
// positive > negative.
struct CueCounts {
  int positive = 0;
  int negative = 0;
};
CueCounts CountCues(absl::Span<const int32_t> tokens);

}  // namespace text
}  // namespace lra

#endif  // LRA_DATASETS_TEXT_GENERATOR_H_
