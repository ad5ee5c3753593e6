// Evaluates ListOps token sequences. It works on token ids rather than on a
// tree object so that the same code checks generated examples and the labels
// of LRA's released TSV files.
#ifndef LRA_DATASETS_LISTOPS_EVALUATOR_H_
#define LRA_DATASETS_LISTOPS_EVALUATOR_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace lra {
namespace listops {

// Streaming evaluator: Push() the ids of one expression in order, then
// Finish(). Padding ids (0) may follow the expression; anything after
// padding is an error. Reuse an evaluator with Reset() to keep its stack's
// memory.
//
// Semantics (as in LRA): MIN and MAX as usual; MED is the median truncated
// to an integer (even count: mean of the two middle values, truncated, so
// [1 2 3 8] gives 2); SM is the sum modulo 10.
class Evaluator {
 public:
  Evaluator() = default;

  void Reset();

  // Consumes one token id. Errors say what is wrong at which (1-based) token.
  absl::Status Push(int32_t id);

  // The value of the complete expression, or an error when it is empty or
  // still has open operators.
  absl::StatusOr<int> Finish() const;

  // Deepest operator nesting seen so far (a single digit has depth 1, an
  // operator over digits has depth 2), matching the generator's depth count.
  int max_depth() const { return max_depth_; }

 private:
  // One open operator: its id and how often each digit value occurred among
  // its evaluated arguments, which is all MIN/MAX/MED/SM need.
  struct Frame {
    int32_t op;
    std::array<int, 10> counts;
  };

  absl::Status AddValue(int value);

  std::vector<Frame> stack_;
  int64_t position_ = 0;
  int result_ = -1;
  bool padding_ = false;
  int max_depth_ = 0;
};

// Applies an operator (kMinId..kSumModId) to digit counts; `counts` must not
// be all zero.
int ApplyOperator(int32_t op, const std::array<int, 10>& counts);

// Evaluates a whole sequence; trailing padding is allowed.
absl::StatusOr<int> Evaluate(absl::Span<const int32_t> ids);
absl::StatusOr<int> Evaluate(absl::Span<const uint8_t> ids);

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_EVALUATOR_H_
