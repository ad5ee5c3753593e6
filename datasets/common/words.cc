#include "datasets/common/words.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "datasets/common/task_config.h"

namespace lra {
namespace {

// Common words of film reviews that carry no sentiment. Changing this list
// changes every generated text and retrieval example.
constexpr absl::string_view kFiller[] = {
    "the",      "a",         "an",        "and",        "but",      "or",
    "of",       "to",        "in",        "on",         "at",       "for",
    "with",     "from",      "by",        "as",         "is",       "was",
    "were",     "be",        "been",      "has",        "had",      "have",
    "this",     "that",      "these",     "those",      "it",       "its",
    "he",       "she",       "they",      "we",         "you",      "i",
    "his",      "her",       "their",     "our",        "my",       "me",
    "him",      "them",      "who",       "which",      "what",     "when",
    "where",    "how",       "why",       "all",        "some",     "many",
    "much",     "more",      "most",      "other",      "another",  "such",
    "only",     "also",      "just",      "even",       "still",    "then",
    "than",     "very",      "quite",     "rather",     "really",   "almost",
    "often",    "never",     "always",    "again",      "here",     "there",
    "now",      "film",      "movie",     "story",      "plot",     "scene",
    "scenes",   "actor",     "actors",    "actress",    "cast",     "role",
    "director", "camera",    "music",     "score",      "script",   "dialogue",
    "ending",   "beginning", "character", "characters", "audience", "screen",
    "picture",  "series",    "episode",   "part",       "time",     "year",
    "years",    "day",       "night",     "house",      "city",     "family",
    "friend",   "friends",   "man",       "woman",      "people",   "world",
    "way",      "thing",     "things",    "moment",     "minute",   "minutes",
    "hour",     "book",      "version",   "sequel",     "budget",   "effects",
    "sound",    "light",     "color",     "seems",      "looks",    "makes",
    "takes",    "goes",      "comes",     "gets",       "gives",    "shows",
    "plays",    "tells",     "watch",     "watched",    "seen",     "saw",
    "made",     "went",      "came",      "got",        "gave",     "played",
    "told",     "first",     "second",    "last",       "next",     "new",
    "old",      "young",     "long",      "short",      "big",      "small",
    "whole",    "own",       "same",      "different",  "early",    "late",
    "real",     "final",     "main",      "local",      "original", "one",
    "two",      "three",     "four",      "five",       "ten",
};

// Separators after a filler word, with cumulative probabilities in 1/100.
struct Separator {
  absl::string_view text;
  int cumulative;
};
constexpr Separator kSeparators[] = {
    {" ", 80}, {", ", 90}, {". ", 98}, {". <br /><br />", 100}};

// Copies `word` to ids[pos, ...) as byte + 1, cut at `length`.
int Put(absl::string_view word, int pos, int length, int32_t* ids) {
  for (char c : word) {
    if (pos >= length) break;
    ids[pos++] = static_cast<int32_t>(static_cast<uint8_t>(c)) + 1;
  }
  return pos;
}

}  // namespace

int LongestFillerStep() {
  size_t word = 0;
  size_t separator = 0;
  for (absl::string_view w : kFiller) word = std::max(word, w.size());
  for (const Separator& s : kSeparators) {
    separator = std::max(separator, s.text.size());
  }
  return static_cast<int>(word + separator);
}

absl::Span<const absl::string_view> FillerWords() {
  return absl::MakeConstSpan(kFiller);
}

void WriteSpreadDocument(Rng& rng, absl::Span<const absl::string_view> markers,
                         int length, int32_t* ids, bool at_share_start) {
  constexpr int kNumFiller = sizeof(kFiller) / sizeof(kFiller[0]);
  const int num_markers = static_cast<int>(markers.size());
  int pos = 0;
  int next = 0;  // Index of the next marker to write.
  // Target of the next marker: a uniform position in its share, early
  // enough that the marker ends inside the share (see kMarkerSlack).
  auto target = [&](int s) -> int64_t {
    const int64_t begin = int64_t{s} * length / num_markers;
    const int64_t end = int64_t{s + 1} * length / num_markers;
    if (at_share_start) return begin;
    return rng.UniformInt(begin, end - kMarkerSlack);
  };
  int64_t next_target = num_markers > 0 ? target(0) : length;
  while (pos < length) {
    if (next < num_markers && pos >= next_target) {
      pos = Put(markers[next], pos, length, ids);
      pos = Put(" ", pos, length, ids);
      ++next;
      if (next < num_markers) next_target = target(next);
      continue;
    }
    pos = Put(kFiller[rng.UniformInt(0, kNumFiller - 1)], pos, length, ids);
    const int64_t roll = rng.UniformInt(0, 99);
    for (const Separator& separator : kSeparators) {
      if (roll < separator.cumulative) {
        pos = Put(separator.text, pos, length, ids);
        break;
      }
    }
  }
}

absl::Status CheckMarkersFit(absl::string_view field, int num_markers,
                             int shortest, absl::string_view what) {
  if (shortest >= MinSpreadDocumentLength(num_markers)) {
    return absl::OkStatus();
  }
  return FieldError(
      field, absl::StrCat(num_markers),
      absl::StrCat("at most ", shortest / (kMarkerSlack + 1), ", since each ",
                   what, " needs ", kMarkerSlack + 1,
                   " bytes and the shortest document has ", shortest,
                   " = min(min_length, seq_len) bytes"));
}

}  // namespace lra
