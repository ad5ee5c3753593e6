// Cross-segment carry, a task beyond LRA for models that read a sequence in
// segments (the Recurrent Memory Transformer, Transformer-XL): the label is
// written in the first key_length positions only, and every later position
// is filler that says nothing about it. A model that cuts the sequence into
// segments can only answer if what it read in the first segment survives
// past the last one.
//
// Tokens: 0 padding (never used: every example fills seq_len), 1..10 key
// symbols, 11..26 filler symbols (16). Layout:
//   s_1 .. s_K f_{K+1} .. f_N      (K = key_length, N = seq_len)
// The label is (s_1 + ... + s_K) mod V (V = num_values, symbols 0..V-1 in
// use), so with K = 1 it is the first symbol, and for K > 1 every proper
// subset of the key is independent of the label.
//
// Construction of example (data_seed, split, index): the key symbols come
// from their own stream, uniform over the V in use (so the label is
// uniform); the filler comes from a second stream, each token uniform over
// the 16 filler symbols, and is drawn again until a seeded fingerprint of
// the filler alone picks the example's split. The filler is therefore
// independent of the key and of the label (nothing after position K says
// anything about it), and no two splits share a sequence.
#ifndef LRA_DATASETS_CROSS_SEGMENT_GENERATOR_H_
#define LRA_DATASETS_CROSS_SEGMENT_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace cross_segment {

inline constexpr int32_t kFirstKeyId = 1;
inline constexpr int kNumValues = 10;
inline constexpr int32_t kFirstFillerId = kFirstKeyId + kNumValues;  // 11
inline constexpr int kFillerSymbols = 16;
inline constexpr int kVocabSize = kFirstFillerId + kFillerSymbols;  // 27
inline constexpr int kMaxKeyLength = 64;

// Checks a resolved config against seq_len; `field_prefix` is prepended to
// field names in errors.
absl::Status ValidateCrossSegmentConfig(const CrossSegmentConfig& config,
                                        int seq_len,
                                        const std::string& field_prefix);

// Writes the seq_len tokens of example `index` of `split` and returns its
// label (0..num_values-1). `config` must have passed
// ValidateCrossSegmentConfig. Thread-safe and allocation-free.
int32_t GenerateCrossSegmentExample(const CrossSegmentConfig& config,
                                    int seq_len, uint64_t data_seed,
                                    Split split, int64_t index,
                                    int32_t* tokens);

// The oracle: the label read from the first key_length tokens, or -1 when
// one of them is not a key symbol below num_values.
int CrossSegmentAnswer(absl::Span<const int32_t> tokens, int key_length,
                       int num_values);

}  // namespace cross_segment
}  // namespace lra

#endif  // LRA_DATASETS_CROSS_SEGMENT_GENERATOR_H_
