#include "datasets/listops/tokens.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace lra {
namespace listops {
namespace {

// Indexed by id; ids 1..10 are the digits.
constexpr absl::string_view kTokenTexts[kVocabSize] = {
    "<pad>", "0", "1", "2",    "3",    "4",    "5",   "6",
    "7",     "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]"};

}  // namespace

absl::string_view TokenText(int32_t id) {
  if (id < 0 || id >= kVocabSize) return "<invalid>";
  return kTokenTexts[id];
}

int32_t TokenId(absl::string_view text) {
  // Id 0 (padding) is never spelled out in a file.
  for (int32_t id = 1; id < kVocabSize; ++id) {
    if (kTokenTexts[id] == text) return id;
  }
  return -1;
}

absl::string_view AllowedTokensText() {
  return "0-9, [MIN, [MAX, [MED, [SM, ], and the ignored ( )";
}

absl::StatusOr<std::vector<int32_t>> TokenizeSource(absl::string_view source) {
  std::vector<int32_t> ids;
  int position = 0;
  for (absl::string_view piece :
       absl::StrSplit(source, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    ++position;
    if (piece == "(" || piece == ")") continue;
    const int32_t id = TokenId(piece);
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown token '", absl::CEscape(piece), "' at token ",
                       position, " (allowed: ", AllowedTokensText(), ")"));
    }
    ids.push_back(id);
  }
  return ids;
}

void PadOrTruncate(absl::Span<const int32_t> ids, int seq_len, int32_t* out) {
  const size_t kept = std::min<size_t>(ids.size(), seq_len);
  std::copy(ids.begin(), ids.begin() + kept, out);
  std::fill(out + kept, out + seq_len, kPadId);
}

}  // namespace listops
}  // namespace lra
