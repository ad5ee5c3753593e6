// The ListOps generator of LRA (lra_benchmarks/data/listops.py), rebuilt to
// be deterministic by (data_seed, split, index) and fast enough to run at
// the start of every training run.
//
// Tree shape, as in LRA: the root is at depth 1. Below max_depth a node is
// an operator with probability operator_prob, else a digit; an operator
// (MIN, MAX, MED, SM, uniformly) has min_args..max_args arguments
// (uniformly); at max_depth a node is always a digit. The length counts a
// digit as 1 and an operator as 2 (itself and its ']'), which is exactly the
// number of tokens. A tree is kept when min_length < length < max_length.
//
// Like LRA, the root is not forced to be an operator: a digit root is drawn
// and rejected by the length filter (min_length >= 1 after defaults), so
// every kept tree has an operator root and the kept distribution is LRA's.
//
// Streams: example i of a split draws candidates from its own generator
// seeded by (data_seed, split, i), so examples can be made in parallel and
// the result does not depend on the thread count.
//
// Duplicates: a tree belongs to exactly one split, chosen by a seeded
// fingerprint of its tokens (each split takes one third of fingerprint
// space), so splits never share a tree and each split can be built alone.
// Within a split, an example equal to an earlier one (in index order) draws
// again from its own stream.
#ifndef LRA_DATASETS_LISTOPS_GENERATOR_H_
#define LRA_DATASETS_LISTOPS_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/random.h"
#include "datasets/dataset_base.h"
#include "datasets/listops/tokens.h"
#include "proto/config.pb.h"

namespace lra {
namespace listops {

// Candidates one example may draw (including redraws after a duplicate)
// before generation gives up with an error instead of looping forever.
inline constexpr int64_t kMaxCandidatesPerExample = int64_t{1} << 20;

// Checks a resolved config (no zero "unset" fields left). `field_prefix` is
// prepended to field names in errors, e.g. "task.listops.".
absl::Status ValidateGeneratorConfig(const ListOpsConfig& config,
                                     const std::string& field_prefix);

// Draws trees. Keeps its stack between draws so that drawing allocates
// nothing once warm. One sampler per thread.
class TreeSampler {
 public:
  // `config` must have passed ValidateGeneratorConfig().
  explicit TreeSampler(const ListOpsConfig& config);

  // Draws one tree from `rng` into `ids` (one id per token, prefix order).
  // Returns false, with `ids` cut short, as soon as the tree reaches
  // max_length tokens, since such a tree is rejected anyway.
  bool Draw(Rng& rng, std::vector<uint8_t>* ids);

 private:
  int max_depth_;
  int min_args_;
  int max_args_;
  double operator_prob_;
  int64_t max_length_;
  std::vector<int> remaining_;  // [open operators] arguments still to draw
};

// True when a tree of `length` tokens passes the length filter.
inline bool LengthAccepted(const ListOpsConfig& config, int64_t length) {
  return config.min_length() < length && length < config.max_length();
}

// Which split a tree belongs to under `data_seed`.
Split SplitOfTree(absl::Span<const uint8_t> ids, uint64_t data_seed);

// Generates `size` distinct examples of `split`. Uses OpenMP threads; the
// output depends only on (config, data_seed, split), and example i is the
// same for every size > i.
absl::StatusOr<ListOpsExamples> GenerateExamples(const ListOpsConfig& config,
                                                 uint64_t data_seed,
                                                 Split split, int64_t size);

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_GENERATOR_H_
