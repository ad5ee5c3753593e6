#include "datasets/retrieval/generator.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "datasets/common/random.h"
#include "datasets/common/split_draw.h"
#include "datasets/common/task_config.h"
#include "datasets/common/words.h"
#include "util/status_macros.h"

namespace lra {
namespace retrieval {
namespace {

// Keeps this generator's streams apart from every other task's (an
// arbitrary constant; changing it changes every generated example).
constexpr uint64_t kStreamTag = 0x5265747253746e64ULL;  // "RetrStnd"

constexpr char kLetters[] = "bkqxz";
constexpr int kMarkerLength = 7;  // "[" + 5 letters + "]"
using Marker = std::array<char, kMarkerLength>;

// Code c is the permutation with rank (c * 77) mod 120 in lexicographic
// order; 77 is prime to 120, so codes stay distinct, and a pool of the
// first num_codes codes spreads over all letter orders.
Marker MakeMarker(int code) {
  int rank = (code * 77) % kMaxCodes;
  std::array<char, 5> letters = {'b', 'k', 'q', 'x', 'z'};
  int remaining = 5;
  Marker marker;
  marker[0] = '[';
  static constexpr int kFactorial[] = {1, 1, 2, 6, 24};
  for (int i = 0; i < 5; ++i) {
    const int f = kFactorial[remaining - 1];
    const int pick = rank / f;
    rank %= f;
    marker[1 + i] = letters[pick];
    std::copy(letters.begin() + pick + 1, letters.begin() + remaining,
              letters.begin() + pick);
    --remaining;
  }
  marker[6] = ']';
  return marker;
}

bool IsMarker(absl::string_view word) {
  if (word.size() != kMarkerLength || word.front() != '[' ||
      word.back() != ']') {
    return false;
  }
  std::array<char, 5> letters;
  std::copy(word.begin() + 1, word.end() - 1, letters.begin());
  std::sort(letters.begin(), letters.end());
  return absl::string_view(letters.data(), 5) == kLetters;
}

// Writes one document of `length` visible bytes with the markers of
// `codes`, then pads to seq_len.
void WriteDocument(Rng& rng, const int* codes, int num_codes, int length,
                   int seq_len, bool fixed_places, int32_t* tokens) {
  std::array<Marker, kMaxRefs> markers;
  std::array<absl::string_view, kMaxRefs> views;
  for (int i = 0; i < num_codes; ++i) {
    markers[i] = MakeMarker(codes[i]);
    views[i] = absl::string_view(markers[i].data(), kMarkerLength);
  }
  WriteSpreadDocument(rng, absl::MakeConstSpan(views.data(), num_codes), length,
                      tokens, fixed_places);
  std::fill(tokens + length, tokens + seq_len, 0);
}

}  // namespace

std::string CodeMarker(int code) {
  const Marker marker = MakeMarker(code);
  return std::string(marker.data(), marker.size());
}

absl::Status ValidateRetrievalStandIn(const RetrievalConfig& config,
                                      int seq_len,
                                      const std::string& field_prefix) {
  const std::string p = field_prefix;
  RETURN_IF_ERROR(
      CheckLengthRange(config.min_length(), config.max_length(), p));
  const int refs = config.num_refs();
  if (refs < 1 || refs > kMaxRefs) {
    return FieldError(p + "num_refs", absl::StrCat(refs),
                      absl::StrCat("1..", kMaxRefs));
  }
  if (config.changed_refs() < 1 || config.changed_refs() > refs) {
    return FieldError(p + "changed_refs", absl::StrCat(config.changed_refs()),
                      absl::StrCat("1..num_refs = ", refs));
  }
  const int needed = refs + config.changed_refs();
  if (config.num_codes() < needed || config.num_codes() > kMaxCodes) {
    return FieldError(p + "num_codes", absl::StrCat(config.num_codes()),
                      absl::StrCat(needed, "..", kMaxCodes,
                                   ", since an unrelated pair uses num_refs + "
                                   "changed_refs distinct codes"));
  }
  return CheckMarkersFit(p + "num_refs", refs,
                         std::min(config.min_length(), seq_len), "marker");
}

int32_t GenerateRetrievalExample(const RetrievalConfig& config, int seq_len,
                                 uint64_t data_seed, Split split, int64_t index,
                                 int32_t* tokens) {
  Rng rng(ExampleSeed(kStreamTag, data_seed, split, index));
  const int32_t label = static_cast<int32_t>(rng.UniformInt(0, 1));
  const int refs = config.num_refs();
  const int changed = config.changed_refs();
  // A partial Fisher-Yates shuffle of the pool: its first refs codes are
  // document 1's, the next `changed` the replacements.
  std::array<int, kMaxCodes> pool;
  for (int i = 0; i < config.num_codes(); ++i) pool[i] = i;
  for (int i = 0; i < refs + changed; ++i) {
    std::swap(pool[i], pool[rng.UniformInt(i, config.num_codes() - 1)]);
  }
  std::array<int, kMaxRefs> second;
  std::copy(pool.begin(), pool.begin() + refs, second.begin());
  if (label == 0) {
    // Replaces `changed` codes at distinct random places.
    for (int i = 0; i < changed; ++i) {
      std::swap(second[i], second[rng.UniformInt(i, refs - 1)]);
      second[i] = pool[refs + i];
    }
  }
  for (int i = refs - 1; i > 0; --i) {
    std::swap(second[i], second[rng.UniformInt(0, i)]);
  }
  for (int d = 0; d < 2; ++d) {
    const int length = static_cast<int>(
        rng.UniformInt(config.min_length(), config.max_length()));
    WriteDocument(rng, d == 0 ? pool.data() : second.data(), refs,
                  std::min(length, seq_len), seq_len, config.fixed_places(),
                  tokens + int64_t{d} * seq_len);
  }
  return label;
}

std::vector<std::string> FindMarkers(absl::Span<const int32_t> document) {
  std::vector<std::string> found;
  std::vector<char> scratch(document.size());
  ForEachWord(document, scratch.data(), [&](absl::string_view word) {
    if (IsMarker(word)) found.emplace_back(word);
  });
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace retrieval
}  // namespace lra
