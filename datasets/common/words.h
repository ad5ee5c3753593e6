// Filler text for the byte-level stand-ins (text and retrieval): neutral
// review-like words with spaces, commas, full stops and IMDb's
// "<br /><br />" breaks, and a writer that spreads "marker" words (the
// evidence a label depends on) over a whole document, one marker in each
// equal share of it, so that no part of the document decides the label on
// its own.
#ifndef LRA_DATASETS_COMMON_WORDS_H_
#define LRA_DATASETS_COMMON_WORDS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "datasets/common/random.h"

namespace lra {

// The neutral filler lexicon: lowercase words without brackets, none of
// which contains a stand-in's cue word (tests check this).
absl::Span<const absl::string_view> FillerWords();

// Bytes of the longest filler word plus the longest separator after it.
int LongestFillerStep();

// Longest marker WriteSpreadDocument accepts.
inline constexpr int kMaxMarkerLength = 16;
// Bytes a marker may land after its target position (a filler word and its
// separator still being written) plus the marker and its space; each share
// of the document must be longer than this.
inline constexpr int kMarkerSlack = 48;

// Fewest bytes a document with `num_markers` markers needs.
inline int MinSpreadDocumentLength(int num_markers) {
  return num_markers * (kMarkerSlack + 1);
}

// OK when the shortest document, `shortest` bytes (min(min_length,
// seq_len)), holds `num_markers` markers; otherwise the error of config
// field `field` (whose value is num_markers), saying that each `what`
// ("cue", "marker") needs kMarkerSlack + 1 bytes.
absl::Status CheckMarkersFit(absl::string_view field, int num_markers,
                             int shortest, absl::string_view what);

// Writes a document of exactly `length` bytes, as ids byte + 1, into
// `ids[0, length)`: filler words, with markers[s] written as a whole word
// (followed by a space) at a random word boundary inside the s-th of
// markers.size() equal shares. The last filler word may be cut at the end.
// With at_share_start, each marker goes at the first word boundary at or
// after the start of its share instead (the first one at byte 0).
// Requires length >= MinSpreadDocumentLength(markers.size()) and markers of
// 1..kMaxMarkerLength bytes.
void WriteSpreadDocument(Rng& rng, absl::Span<const absl::string_view> markers,
                         int length, int32_t* ids, bool at_share_start = false);

// Whether a byte ends a word: a space, or the '>' that closes an HTML
// break, after which IMDb (and the filler) go on without a space.
inline bool IsWordBoundary(char c) { return c == ' ' || c == '>'; }

// The whole words of a document given as ids (byte + 1; 0 ends it): the
// maximal runs of bytes that are not word boundaries, in order. Calls
// fn(word) for each; words are views into `scratch`, which must hold
// ids.size() bytes.
template <typename Fn>
void ForEachWord(absl::Span<const int32_t> ids, char* scratch, Fn fn) {
  size_t n = 0;
  while (n < ids.size() && ids[n] != 0) {
    scratch[n] = static_cast<char>(ids[n] - 1);
    ++n;
  }
  size_t start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i == n || IsWordBoundary(scratch[i])) {
      if (i > start) fn(absl::string_view(scratch + start, i - start));
      start = i + 1;
    }
  }
}

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_WORDS_H_
