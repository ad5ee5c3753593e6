#include "datasets/text/imdb.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace lra {
namespace text {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kLayout =
    "expected aclImdb's layout DATA_DIR/{train,test}/{pos,neg}/"
    "<id>_<rating>.txt";

// Parses "<id>_<rating>.txt".
bool ParseName(absl::string_view name, int64_t* id, int* rating) {
  if (!absl::ConsumeSuffix(&name, ".txt")) return false;
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '_');
  if (parts.size() != 2) return false;
  return absl::SimpleAtoi(parts[0], id) && absl::SimpleAtoi(parts[1], rating);
}

}  // namespace

absl::StatusOr<std::vector<ImdbReview>> ListImdbReviews(
    const std::string& data_dir, absl::string_view subset) {
  std::vector<ImdbReview> reviews;
  for (const int32_t label : {0, 1}) {
    const std::string dir =
        absl::StrCat(data_dir, "/", subset, label == 1 ? "/pos" : "/neg");
    std::error_code error;
    if (!fs::is_directory(dir, error)) {
      return absl::NotFoundError(absl::StrCat(
          "IMDb directory '", dir, "' does not exist (", kLayout, ")"));
    }
    fs::directory_iterator it(dir, error);
    if (error) {
      return absl::NotFoundError(absl::StrCat("cannot list IMDb directory '",
                                              dir, "': ", error.message()));
    }
    for (const fs::directory_entry& entry : it) {
      const std::string name = entry.path().filename().string();
      if (absl::StartsWith(name, ".")) continue;
      ImdbReview review;
      review.path = entry.path().string();
      review.label = label;
      if (!entry.is_regular_file(error) ||
          !ParseName(name, &review.id, &review.rating)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected IMDb entry '", review.path,
            "' (allowed: files named <id>_<rating>.txt; ", kLayout, ")"));
      }
      const bool fits = label == 1 ? review.rating >= 7 && review.rating <= 10
                                   : review.rating >= 1 && review.rating <= 4;
      if (!fits) {
        return absl::InvalidArgumentError(absl::StrCat(
            "IMDb review '", review.path, "' has rating ", review.rating,
            " (allowed: 7..10 in pos/, 1..4 in neg/)"));
      }
      reviews.push_back(std::move(review));
    }
  }
  std::sort(reviews.begin(), reviews.end(),
            [](const ImdbReview& a, const ImdbReview& b) {
              return std::tie(a.label, a.id, a.path) <
                     std::tie(b.label, b.id, b.path);
            });
  return reviews;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadImdbTexts(
    absl::Span<const ImdbReview> reviews, int max_bytes) {
  std::vector<std::vector<uint8_t>> texts(reviews.size());
  for (size_t i = 0; i < reviews.size(); ++i) {
    std::ifstream in(reviews[i].path, std::ios::binary);
    if (!in) {
      return absl::NotFoundError(
          absl::StrCat("cannot open IMDb review '", reviews[i].path, "'"));
    }
    std::vector<uint8_t>& text = texts[i];
    text.resize(max_bytes);
    in.read(reinterpret_cast<char*>(text.data()), max_bytes);
    if (in.bad()) {
      return absl::DataLossError(
          absl::StrCat("error reading IMDb review '", reviews[i].path, "'"));
    }
    text.resize(in.gcount());
    text.shrink_to_fit();
  }
  return texts;
}

}  // namespace text
}  // namespace lra
