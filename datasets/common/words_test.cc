#include "datasets/common/words.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

// The stand-ins' cue words are checked against the filler in their own
// tests (text/generator_test.cc).
TEST(WordsTest, FillerWordsHaveNoBracketOrSpace) {
  for (absl::string_view word : FillerWords()) {
    EXPECT_FALSE(word.empty());
    EXPECT_FALSE(absl::StrContains(word, "[")) << word;
    EXPECT_FALSE(absl::StrContains(word, "]")) << word;
    EXPECT_FALSE(absl::StrContains(word, " ")) << word;
  }
}

TEST(WordsTest, SlackCoversTheLongestOvershoot) {
  // A marker is written at the first word boundary at or after its target:
  // at most one filler step late, then it and its space must still fit.
  EXPECT_LE(LongestFillerStep() + kMaxMarkerLength + 1, kMarkerSlack);
}

TEST(WordsTest, SpreadsMarkersOnePerShare) {
  const std::vector<absl::string_view> markers = {"[m0]", "[m1]", "[m2]",
                                                  "[m3]", "[m4]"};
  for (int length : {MinSpreadDocumentLength(5), 400, 1001}) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      Rng rng(seed);
      std::vector<int32_t> ids(length + 1, -7);
      WriteSpreadDocument(rng, markers, length, ids.data());
      EXPECT_EQ(ids[length], -7) << "wrote past the end";
      std::string text;
      for (int i = 0; i < length; ++i) {
        ASSERT_GE(ids[i], 1);
        ASSERT_LE(ids[i], 256);
        text += static_cast<char>(ids[i] - 1);
      }
      for (int s = 0; s < 5; ++s) {
        const size_t at = text.find(std::string(markers[s]) + " ");
        ASSERT_NE(at, std::string::npos) << "marker " << s << " missing";
        EXPECT_TRUE(at == 0 || IsWordBoundary(text[at - 1])) << text;
        // Inside its share, whole.
        EXPECT_GE(at, static_cast<size_t>(int64_t{s} * length / 5));
        EXPECT_LE(at + markers[s].size() + 1,
                  static_cast<size_t>(int64_t{s + 1} * length / 5));
        EXPECT_EQ(text.find(std::string(markers[s]), at + 1),
                  std::string::npos);
      }
    }
  }
}

TEST(WordsTest, ForEachWordSplitsOnSpacesOnly) {
  std::vector<int32_t> ids;
  for (char c : std::string("a bc, d. <br />e  f")) ids.push_back(c + 1);
  ids.push_back(0);
  ids.push_back('z' + 1);  // After the end: ignored.
  std::vector<char> scratch(ids.size());
  std::vector<std::string> words;
  ForEachWord(ids, scratch.data(),
              [&](absl::string_view w) { words.emplace_back(w); });
  EXPECT_EQ(words,
            (std::vector<std::string>{"a", "bc,", "d.", "<br", "/", "e", "f"}));
}

TEST(WordsTest, CheckMarkersFitNamesFieldAndLimit) {
  EXPECT_TRUE(
      CheckMarkersFit("t.n", 2, MinSpreadDocumentLength(2), "cue").ok());
  const absl::Status status =
      CheckMarkersFit("t.n", 3, MinSpreadDocumentLength(3) - 1, "cue");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "t.n = 3 is invalid"))
      << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "at most 2, since each cue"))
      << status;
}

}  // namespace
}  // namespace lra
