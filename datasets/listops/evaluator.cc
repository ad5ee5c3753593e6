#include "datasets/listops/evaluator.h"

#include "absl/strings/str_cat.h"
#include "datasets/listops/tokens.h"
#include "util/status_macros.h"

namespace lra {
namespace listops {
namespace {

// The value at 0-based rank `rank` of the sorted multiset given by counts.
int ValueAtRank(const std::array<int, 10>& counts, int rank) {
  for (int value = 0; value < 10; ++value) {
    if (rank < counts[value]) return value;
    rank -= counts[value];
  }
  return 9;  // Unreachable for a valid rank.
}

template <typename Id>
absl::StatusOr<int> EvaluateSpan(absl::Span<const Id> ids) {
  Evaluator evaluator;
  for (Id id : ids) {
    RETURN_IF_ERROR(evaluator.Push(static_cast<int32_t>(id)));
  }
  return evaluator.Finish();
}

}  // namespace

int ApplyOperator(int32_t op, const std::array<int, 10>& counts) {
  int n = 0;
  int sum = 0;
  for (int value = 0; value < 10; ++value) {
    n += counts[value];
    sum += value * counts[value];
  }
  switch (op) {
    case kMinId:
      return ValueAtRank(counts, 0);
    case kMaxId:
      return ValueAtRank(counts, n - 1);
    case kMedId:
      if (n % 2 == 1) return ValueAtRank(counts, n / 2);
      // Values are non-negative, so integer division truncates like int().
      return (ValueAtRank(counts, n / 2 - 1) + ValueAtRank(counts, n / 2)) / 2;
    case kSumModId:
      return sum % 10;
    default:
      return -1;
  }
}

void Evaluator::Reset() {
  stack_.clear();
  position_ = 0;
  result_ = -1;
  padding_ = false;
  max_depth_ = 0;
}

absl::Status Evaluator::AddValue(int value) {
  if (stack_.empty()) {
    result_ = value;
  } else {
    ++stack_.back().counts[value];
  }
  return absl::OkStatus();
}

absl::Status Evaluator::Push(int32_t id) {
  ++position_;
  if (id == kPadId) {
    padding_ = true;
    return absl::OkStatus();
  }
  if (padding_) {
    return absl::InvalidArgumentError(
        absl::StrCat("token ", position_, " ('", TokenText(id),
                     "') follows padding (allowed: padding only at the end)"));
  }
  if (id < 0 || id >= kVocabSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("token ", position_, " has id ", id, " (allowed: 0..",
                     kVocabSize - 1, ")"));
  }
  if (result_ >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token ", position_, " ('", TokenText(id),
        "') follows a complete expression (allowed: one expression)"));
  }
  const int depth = static_cast<int>(stack_.size()) + 1;
  if (depth > max_depth_) max_depth_ = depth;
  if (IsDigitId(id)) return AddValue(DigitOf(id));
  if (IsOperatorId(id)) {
    stack_.push_back(Frame{id, {}});
    return absl::OkStatus();
  }
  // The only id left is the closing bracket.
  if (stack_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token ", position_,
                     " (']') closes no open operator (unbalanced brackets)"));
  }
  const Frame frame = stack_.back();
  stack_.pop_back();
  int n = 0;
  for (int count : frame.counts) n += count;
  if (n == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token ", position_, " (']') closes '", TokenText(frame.op),
        "' with no arguments (allowed: at least one argument)"));
  }
  return AddValue(ApplyOperator(frame.op, frame.counts));
}

absl::StatusOr<int> Evaluator::Finish() const {
  if (!stack_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expression ends with ", stack_.size(),
        " operator(s) still open (unbalanced brackets: missing ']')"));
  }
  if (result_ < 0) {
    return absl::InvalidArgumentError(
        "empty expression (allowed: a digit or "
        "an operator expression)");
  }
  return result_;
}

absl::StatusOr<int> Evaluate(absl::Span<const int32_t> ids) {
  return EvaluateSpan(ids);
}

absl::StatusOr<int> Evaluate(absl::Span<const uint8_t> ids) {
  return EvaluateSpan(ids);
}

}  // namespace listops
}  // namespace lra
