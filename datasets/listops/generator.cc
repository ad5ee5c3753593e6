#include "datasets/listops/generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "datasets/common/split_draw.h"
#include "datasets/listops/evaluator.h"
#include "datasets/listops/tokens.h"
#include "util/status_macros.h"

namespace lra {
namespace listops {
namespace {

// Tags that keep the generator's streams apart from other tasks' streams
// and from the split fingerprint (arbitrary constants; never change them, or
// every generated data set changes).
constexpr uint64_t kStreamTag = 0x4c6973744f707331ULL;  // "ListOps1"
constexpr uint64_t kSplitTag = 0x4c4f2d73706c6974ULL;   // "LO-split"

// Longest tree allowed, so that a typo cannot ask for gigabytes per example.
constexpr int64_t kMaxTreeLength = int64_t{1} << 20;
// Deepest tree allowed. A tree of depth d holds at least 2d + 1 tokens, LRA
// uses 10, and the length bounds below recurse once per level: a depth in the
// hundreds of thousands (a typo, or a fuzzed config) overflowed the stack.
constexpr int kMaxDepth = 10000;
// Lengths are computed saturated at this value to avoid overflow.
constexpr int64_t kLengthCap = int64_t{1} << 40;

// Longest tree the bounds allow from `depth` down (saturated).
int64_t LongestTree(const ListOpsConfig& config, int depth) {
  if (depth >= config.max_depth() || config.operator_prob() <= 0) return 1;
  const int64_t child = LongestTree(config, depth + 1);
  return std::min(kLengthCap, 2 + config.max_args() * child);
}

// Shortest tree the bounds allow from `depth` down (saturated). Only
// operator_prob == 1 forces operators above max_depth.
int64_t ShortestTree(const ListOpsConfig& config, int depth) {
  if (depth >= config.max_depth() || config.operator_prob() < 1) return 1;
  const int64_t child = ShortestTree(config, depth + 1);
  return std::min(kLengthCap, 2 + config.min_args() * child);
}

// Draws candidates for one example until one passes the length filter and
// belongs to `split`. Returns false after the budget of attempts is spent.
bool DrawAccepted(const ListOpsConfig& config, uint64_t data_seed, Split split,
                  TreeSampler& sampler, Rng& rng, int64_t* attempts,
                  std::vector<uint8_t>* ids) {
  while (*attempts < kMaxCandidatesPerExample) {
    ++*attempts;
    if (!sampler.Draw(rng, ids)) continue;
    if (!LengthAccepted(config, ids->size())) continue;
    if (SplitOfTree(*ids, data_seed) != split) continue;
    return true;
  }
  return false;
}

absl::Status BudgetError(const ListOpsConfig& config, Split split,
                         int64_t index) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "listops generator: example ", index, " of split ", SplitName(split),
      " found no new tree with ", config.min_length(), " < length < ",
      config.max_length(), " in ", kMaxCandidatesPerExample,
      " candidates; the bounds (max_depth=", config.max_depth(),
      ", min_args=", config.min_args(), ", max_args=", config.max_args(),
      ", operator_prob=", config.operator_prob(),
      ") make such trees too rare, or allow fewer distinct trees than the "
      "split size (allowed: widen the length bounds or ask for fewer "
      "examples)"));
}

}  // namespace

absl::Status ValidateGeneratorConfig(const ListOpsConfig& config,
                                     const std::string& field_prefix) {
  auto error = [&](absl::string_view field, auto value,
                   absl::string_view allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_prefix, field, " = ", value,
                     " is invalid (allowed: ", allowed, ")"));
  };
  if (config.max_depth() < 1) {
    return error("max_depth", config.max_depth(), ">= 1");
  }
  if (config.max_depth() > kMaxDepth) {
    return error("max_depth", config.max_depth(),
                 absl::StrCat("<= ", kMaxDepth));
  }
  if (config.min_args() < 1) {
    return error("min_args", config.min_args(), ">= 1");
  }
  if (config.max_args() < config.min_args()) {
    return error("max_args", config.max_args(),
                 absl::StrCat(">= min_args = ", config.min_args()));
  }
  const float p = config.operator_prob();
  if (!(p >= 0.0f && p <= 1.0f)) {  // Also rejects NaN.
    return error("operator_prob", p, "0 <= operator_prob <= 1");
  }
  if (config.min_length() < 0) {
    return error("min_length", config.min_length(), ">= 0");
  }
  if (config.max_length() > kMaxTreeLength) {
    return error("max_length", config.max_length(),
                 absl::StrCat("<= ", kMaxTreeLength));
  }
  // Both bounds are strict, so some integer must lie between them.
  if (config.max_length() < int64_t{config.min_length()} + 2) {
    return error(
        "max_length", config.max_length(),
        absl::StrCat(">= min_length + 2 = ", int64_t{config.min_length()} + 2,
                     ", since trees need min_length < length < max_length"));
  }
  const int64_t longest = LongestTree(config, 1);
  if (longest <= config.min_length()) {
    return error("min_length", config.min_length(),
                 absl::StrCat("< ", longest,
                              ", the longest tree that max_depth, max_args "
                              "and operator_prob allow"));
  }
  const int64_t shortest = ShortestTree(config, 1);
  if (shortest >= config.max_length()) {
    return error("max_length", config.max_length(),
                 absl::StrCat("> ", shortest,
                              ", the shortest tree that max_depth, min_args "
                              "and operator_prob = 1 allow"));
  }
  return absl::OkStatus();
}

TreeSampler::TreeSampler(const ListOpsConfig& config)
    : max_depth_(config.max_depth()),
      min_args_(config.min_args()),
      max_args_(config.max_args()),
      operator_prob_(config.operator_prob()),
      max_length_(config.max_length()) {}

bool TreeSampler::Draw(Rng& rng, std::vector<uint8_t>* ids) {
  ids->clear();
  remaining_.clear();
  while (true) {
    // The next node's depth: the root is at depth 1.
    const int depth = static_cast<int>(remaining_.size()) + 1;
    if (depth < max_depth_ && rng.Bernoulli(operator_prob_)) {
      ids->push_back(static_cast<uint8_t>(kMinId + rng.UniformInt(0, 3)));
      remaining_.push_back(
          static_cast<int>(rng.UniformInt(min_args_, max_args_)));
    } else {
      ids->push_back(static_cast<uint8_t>(DigitId(rng.UniformInt(0, 9))));
      // A finished node is one argument of its parent; a parent whose last
      // argument this was closes and is in turn an argument of its parent.
      while (!remaining_.empty() && --remaining_.back() == 0) {
        remaining_.pop_back();
        ids->push_back(kCloseId);
      }
      if (remaining_.empty()) {
        return static_cast<int64_t>(ids->size()) < max_length_;
      }
    }
    if (static_cast<int64_t>(ids->size()) >= max_length_) return false;
  }
}

Split SplitOfTree(absl::Span<const uint8_t> ids, uint64_t data_seed) {
  const uint64_t fingerprint =
      Fingerprint64(ids, DeriveSeed({kSplitTag, data_seed}));
  return static_cast<Split>(fingerprint % kNumSplits);
}

absl::StatusOr<ListOpsExamples> GenerateExamples(const ListOpsConfig& config,
                                                 uint64_t data_seed,
                                                 Split split, int64_t size) {
  RETURN_IF_ERROR(ValidateGeneratorConfig(config, "listops."));
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("listops generator: size = ", size, " (allowed: >= 0)"));
  }
  ListOpsExamples out;
  out.ids.resize(size);
  out.labels.resize(size);
  std::vector<Rng> rngs;
  rngs.reserve(size);
  for (int64_t i = 0; i < size; ++i) {
    rngs.emplace_back(ExampleSeed(kStreamTag, data_seed, split, i));
  }
  std::vector<int64_t> attempts(size, 0);
  // The smallest index that ran out of candidates, or `size` if none.
  std::atomic<int64_t> first_failure{size};

  // Phase 1, parallel: each example's first accepted tree from its own
  // stream. Dynamic scheduling because tree sizes vary widely.
#pragma omp parallel
  {
    TreeSampler sampler(config);
    std::vector<uint8_t> scratch;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < size; ++i) {
      if (first_failure.load(std::memory_order_relaxed) < size) continue;
      if (DrawAccepted(config, data_seed, split, sampler, rngs[i], &attempts[i],
                       &scratch)) {
        out.ids[i] = scratch;
      } else {
        int64_t seen = first_failure.load();
        while (i < seen && !first_failure.compare_exchange_weak(seen, i)) {
        }
      }
    }
  }
  if (first_failure.load() < size) {
    return BudgetError(config, split, first_failure.load());
  }

  // Phase 2, sequential in index order: an example equal to an earlier one
  // draws again from its own stream, so the result stays independent of the
  // thread count. Duplicates are rare except under tight bounds.
  {
    TreeSampler sampler(config);
    absl::flat_hash_set<absl::Span<const uint8_t>> seen;
    seen.reserve(size);
    for (int64_t i = 0; i < size; ++i) {
      while (!seen.insert(absl::MakeConstSpan(out.ids[i])).second) {
        if (!DrawAccepted(config, data_seed, split, sampler, rngs[i],
                          &attempts[i], &out.ids[i])) {
          return BudgetError(config, split, i);
        }
      }
    }
  }

  // Phase 3, parallel: labels. An evaluation error would be a generator bug.
  std::atomic<bool> label_error{false};
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < size; ++i) {
    absl::StatusOr<int> value = Evaluate(absl::MakeConstSpan(out.ids[i]));
    if (value.ok()) {
      out.labels[i] = *value;
    } else {
      label_error = true;
    }
  }
  if (label_error) {
    return absl::InternalError(
        "listops generator produced a tree that does not evaluate");
  }
  return out;
}

}  // namespace listops
}  // namespace lra
