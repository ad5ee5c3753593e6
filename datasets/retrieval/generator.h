// The built-in stand-in for LRA's Retrieval task (used when
// task.retrieval.data_dir is empty): pairs of synthetic documents that are
// related, like a paper and one it cites, when they carry the same set of
// reference markers.
//
// Construction of example (data_seed, split, index), from its own stream:
// - label y uniform in {0, 1} (1 = related);
// - document 1 gets num_refs distinct reference codes drawn from a pool of
//   num_codes; document 2 gets the same codes in a new random order when
//   y = 1, and otherwise the same set with changed_refs of them replaced by
//   codes that document 1 does not have;
// - each document has its own length, uniform in [min_length, max_length]
//   and cut to seq_len, its own filler words (words.h), and its codes
//   written as "[code]" words, one in each of num_refs equal shares.
//
// A code is a permutation of the five letters b, k, q, x, z, so every
// marker has the same bytes and the byte histograms of both documents are
// independent of the label; so are the lengths. Deciding needs both whole
// documents: a replaced code may sit in any share of either.
#ifndef LRA_DATASETS_RETRIEVAL_GENERATOR_H_
#define LRA_DATASETS_RETRIEVAL_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace retrieval {

// Distinct codes: the permutations of five letters.
inline constexpr int kMaxCodes = 120;
// Most markers per document (bounds the generator's stack scratch).
inline constexpr int kMaxRefs = 60;

// The marker of code `code` (0 <= code < kMaxCodes), e.g. "[bkqxz]".
std::string CodeMarker(int code);

// Checks the stand-in fields of a resolved config for documents cut to
// `seq_len`; `field_prefix` is prepended to field names in errors.
absl::Status ValidateRetrievalStandIn(const RetrievalConfig& config,
                                      int seq_len,
                                      const std::string& field_prefix);

// Writes stand-in example `index` of `split` as 2 * seq_len tokens
// (document 1 padded to seq_len, then document 2 padded to seq_len; ids are
// byte + 1) and returns its label. `config` must have passed
// ValidateRetrievalStandIn. Thread-safe and allocation-free.
int32_t GenerateRetrievalExample(const RetrievalConfig& config, int seq_len,
                                 uint64_t data_seed, Split split, int64_t index,
                                 int32_t* tokens);

// The oracle's half: the reference markers among the whole words of one
// document (ids byte + 1, 0 ends it), sorted. A stand-in pair is related
// exactly when both documents give the same list.
std::vector<std::string> FindMarkers(absl::Span<const int32_t> document);

}  // namespace retrieval
}  // namespace lra

#endif  // LRA_DATASETS_RETRIEVAL_GENERATOR_H_
