#include "datasets/text/imdb.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace text {
namespace {

using ::testing::HasSubstr;

TEST(ImdbTest, ListsBothFoldersSortedAndReadsCutTexts) {
  const std::string dir = EmptyTestDir("imdb_ok");
  WriteTestFile(dir + "/train/pos/10_9.txt", "Great film.");
  WriteTestFile(dir + "/train/pos/2_7.txt", "Fine<br />film");
  WriteTestFile(dir + "/train/neg/5_1.txt", "Bad\xff film");
  WriteTestFile(dir + "/train/neg/.DS_Store", "ignored");
  absl::StatusOr<std::vector<ImdbReview>> reviews =
      ListImdbReviews(dir, "train");
  ASSERT_TRUE(reviews.ok()) << reviews.status();
  ASSERT_EQ(reviews->size(), 3u);
  EXPECT_EQ((*reviews)[0].label, 0);
  EXPECT_EQ((*reviews)[0].id, 5);
  EXPECT_EQ((*reviews)[0].rating, 1);
  EXPECT_EQ((*reviews)[1].id, 2);  // Sorted by id, not by name.
  EXPECT_EQ((*reviews)[2].id, 10);
  EXPECT_EQ((*reviews)[2].label, 1);
  auto texts = ReadImdbTexts(*reviews, 6);
  ASSERT_TRUE(texts.ok()) << texts.status();
  EXPECT_EQ(std::string((*texts)[0].begin(), (*texts)[0].end()), "Bad\xff f");
  EXPECT_EQ(std::string((*texts)[2].begin(), (*texts)[2].end()), "Great ");
}

TEST(ImdbTest, ErrorsNameThePath) {
  const std::string dir = EmptyTestDir("imdb_bad");
  absl::StatusOr<std::vector<ImdbReview>> reviews =
      ListImdbReviews(dir, "test");
  ASSERT_FALSE(reviews.ok());
  EXPECT_THAT(std::string(reviews.status().message()),
              HasSubstr("IMDb directory '" + dir +
                        "/test/neg' does not exist (expected aclImdb's "
                        "layout"));

  WriteTestFile(dir + "/test/neg/1_2.txt", "x");
  WriteTestFile(dir + "/test/pos/notes.md", "x");
  reviews = ListImdbReviews(dir, "test");
  ASSERT_FALSE(reviews.ok());
  EXPECT_THAT(std::string(reviews.status().message()),
              HasSubstr("unexpected IMDb entry '" + dir +
                        "/test/pos/notes.md' (allowed: files named "
                        "<id>_<rating>.txt"));

  std::filesystem::remove(dir + "/test/pos/notes.md");
  WriteTestFile(dir + "/test/pos/3_2.txt", "x");
  reviews = ListImdbReviews(dir, "test");
  ASSERT_FALSE(reviews.ok());
  EXPECT_THAT(std::string(reviews.status().message()),
              HasSubstr("IMDb review '" + dir +
                        "/test/pos/3_2.txt' has rating 2 (allowed: 7..10 in "
                        "pos/, 1..4 in neg/)"));

  ImdbReview missing;
  missing.path = dir + "/gone.txt";
  auto texts = ReadImdbTexts(absl::MakeConstSpan(&missing, 1), 10);
  ASSERT_FALSE(texts.ok());
  EXPECT_THAT(std::string(texts.status().message()),
              HasSubstr("cannot open IMDb review '" + dir + "/gone.txt'"));
}

}  // namespace
}  // namespace text
}  // namespace lra
