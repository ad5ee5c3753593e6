// Associative recall, a long-range task beyond LRA: a sequence of
// key-value pairs, then a query key; the label is the value stored under
// that key. It isolates retrieval by content over a long context: the
// queried pair may be anywhere, and nothing but its key points to it.
//
// Tokens: 0 padding, 1 the query marker "?", 2..33 key symbols (32),
// 34..43 values (10, the classes; num_values of them in use). A key is
// key_length symbols; keys are distinct within an example. Layout:
//   k_1 v_1 k_2 v_2 ... k_N v_N ? q     (N = num_pairs)
// so an example has N * (key_length + 1) + 1 + key_length tokens.
//
// Construction of example (data_seed, split, index): N distinct keys,
// uniformly; values as balanced as N allows (each of the V = num_values in
// use appears floor(N / V) or ceil(N / V) times, which ones get the extra
// is random) in random order; the label y uniform over the V; the query is
// a uniformly chosen key among those whose value is y. Since y is drawn
// independently of the values, the bag of tokens (value counts, key symbols)
// says nothing about the label; the length is fixed. A sequence belongs to one
// split only: a seeded fingerprint of its tokens picks the split, and an
// example draws again until it lands in its own.
#ifndef LRA_DATASETS_RECALL_GENERATOR_H_
#define LRA_DATASETS_RECALL_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace recall {

inline constexpr int32_t kQueryId = 1;
inline constexpr int32_t kFirstKeyId = 2;
inline constexpr int kKeySymbols = 32;
inline constexpr int32_t kFirstValueId = kFirstKeyId + kKeySymbols;
inline constexpr int kNumValues = 10;
inline constexpr int kVocabSize = kFirstValueId + kNumValues;  // 44
inline constexpr int kMaxKeyLength = 4;

// Tokens of an example with these parameters.
inline int64_t RecallLength(int64_t num_pairs, int key_length) {
  return num_pairs * (key_length + 1) + 1 + key_length;
}

// Checks a resolved config against seq_len; `field_prefix` is prepended to
// field names in errors.
absl::Status ValidateRecallConfig(const RecallConfig& config, int seq_len,
                                  const std::string& field_prefix);

// Writes the seq_len tokens of example `index` of `split` and returns its
// label (the value's index 0..9). `config` must have passed
// ValidateRecallConfig. Thread-safe; allocation-free once a thread has
// made its first example.
int32_t GenerateRecallExample(const RecallConfig& config, int seq_len,
                              uint64_t data_seed, Split split, int64_t index,
                              int32_t* tokens);

// The oracle: the value (0..9) stored under the query key, or -1 when the
// sequence is not well formed or the key is absent.
int RecallAnswer(absl::Span<const int32_t> tokens, int key_length);

}  // namespace recall
}  // namespace lra

#endif  // LRA_DATASETS_RECALL_GENERATOR_H_
