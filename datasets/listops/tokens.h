// ListOps vocabulary and tokenizer, following LRA's pipeline: parentheses are
// dropped and every operator, digit and closing bracket is one token.
#ifndef LRA_DATASETS_LISTOPS_TOKENS_H_
#define LRA_DATASETS_LISTOPS_TOKENS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace lra {
namespace listops {

// Token ids. 0 is padding; digits d = 0..9 are d + 1.
inline constexpr int32_t kPadId = 0;
inline constexpr int32_t kFirstDigitId = 1;
inline constexpr int32_t kMinId = 11;
inline constexpr int32_t kMaxId = 12;
inline constexpr int32_t kMedId = 13;
inline constexpr int32_t kSumModId = 14;
inline constexpr int32_t kCloseId = 15;
inline constexpr int kVocabSize = 16;
// Every expression evaluates to a digit.
inline constexpr int kNumClasses = 10;

inline constexpr bool IsDigitId(int32_t id) {
  return id >= kFirstDigitId && id < kFirstDigitId + 10;
}
inline constexpr bool IsOperatorId(int32_t id) {
  return id >= kMinId && id <= kSumModId;
}
inline constexpr int32_t DigitId(int digit) { return kFirstDigitId + digit; }
inline constexpr int DigitOf(int32_t id) { return id - kFirstDigitId; }

// The text of a token id as it appears in LRA's files ("[MAX", "7", "]"), or
// "<pad>" for 0 and "<invalid>" for ids outside the vocabulary.
absl::string_view TokenText(int32_t id);

// The id of one whitespace-free token, or -1 when it is not in the
// vocabulary. Parentheses are not tokens and also give -1.
int32_t TokenId(absl::string_view text);

// The allowed token texts, for error messages.
absl::string_view AllowedTokensText();

// Splits an LRA Source string on whitespace, drops "(" and ")", and maps the
// rest to ids. Errors name the offending token, its position (1-based, among
// the whitespace-separated pieces) and the allowed tokens.
absl::StatusOr<std::vector<int32_t>> TokenizeSource(absl::string_view source);

// A list of examples: unpadded token ids (one byte each, since every id is
// below kVocabSize) and labels, in index order.
struct ListOpsExamples {
  std::vector<std::vector<uint8_t>> ids;  // [size][length]
  std::vector<int32_t> labels;            // [size]
};

// Writes exactly `seq_len` ids to `out`: `ids` truncated to seq_len, then
// padding (kPadId).
void PadOrTruncate(absl::Span<const int32_t> ids, int seq_len, int32_t* out);

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_TOKENS_H_
