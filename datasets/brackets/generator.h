// Long-distance bracket matching, a task beyond LRA: is a sequence of two
// bracket types, "( )" and "[ ]", well nested? It isolates the ability to
// pair each closing bracket with its opening one across long, nested
// spans, which ListOps mixes with arithmetic.
//
// Tokens: 0 padding, 1 "(", 2 ")", 3 "[", 4 "]". Label 1 = well nested.
//
// Construction of example (data_seed, split, index), from its own stream:
// - label y uniform; length n uniform over the even numbers in
//   [min_length, max_length];
// - a uniformly random nesting shape (Dyck path) of n brackets, closing
//   early only where max_depth forces it, each pair's type uniform; shapes
//   without a pair of each type spanning at least min_span positions are
//   drawn again (for both labels alike);
// - for y = 0, one "( )" pair and one "[ ]" pair among those spanning at
//   least min_span swap their opening brackets. The result is never well
//   nested, yet every pair shorter than min_span still matches, the
//   nesting shape is unchanged, and each bracket keeps its count, so no
//   window shorter than min_span, no bag of tokens and no depth profile
//   tells the labels apart.
//
// A sequence belongs to one split only (a seeded fingerprint of its tokens
// picks the split; an example draws again until it lands in its own).
#ifndef LRA_DATASETS_BRACKETS_GENERATOR_H_
#define LRA_DATASETS_BRACKETS_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace brackets {

inline constexpr int32_t kOpenRound = 1;
inline constexpr int32_t kCloseRound = 2;
inline constexpr int32_t kOpenSquare = 3;
inline constexpr int32_t kCloseSquare = 4;
inline constexpr int kVocabSize = 5;
inline constexpr int kNumClasses = 2;

// Checks a resolved config against seq_len; `field_prefix` is prepended to
// field names in errors.
absl::Status ValidateBracketsConfig(const BracketsConfig& config, int seq_len,
                                    const std::string& field_prefix);

// Writes the seq_len tokens of example `index` of `split` and returns its
// label. `config` must have passed ValidateBracketsConfig. Thread-safe;
// allocation-free once a thread has made its first example.
int32_t GenerateBracketsExample(const BracketsConfig& config, int seq_len,
                                uint64_t data_seed, Split split, int64_t index,
                                int32_t* tokens);

// The oracle: 1 when the tokens (up to the first padding) are well nested,
// else 0.
int WellNested(absl::Span<const int32_t> tokens);

// The same check restricted to pairs spanning fewer than `window`
// positions: it only fails on a mismatch it can see within the window.
int WellNestedWithin(absl::Span<const int32_t> tokens, int window);

}  // namespace brackets
}  // namespace lra

#endif  // LRA_DATASETS_BRACKETS_GENERATOR_H_
