// Reader for the IMDb reviews in the layout of the original archive
// (aclImdb_v1.tar.gz): DATA_DIR/{train,test}/{pos,neg}/<id>_<rating>.txt,
// one review per file. LRA's Text task reads the same reviews through
// tfds imdb_reviews (label 1 = pos) and feeds their raw bytes, cut to
// seq_len, to the model.
#ifndef LRA_DATASETS_TEXT_IMDB_H_
#define LRA_DATASETS_TEXT_IMDB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace lra {
namespace text {

struct ImdbReview {
  std::string path;
  int32_t label = 0;  // 1 = pos, 0 = neg.
  int64_t id = 0;
  int rating = 0;  // 1..4 for neg, 7..10 for pos.
};

// Lists the reviews of DATA_DIR/`subset` ("train" or "test"), sorted by
// (label, id). Hidden files are skipped. A missing directory, a file not
// named <id>_<rating>.txt, or a rating that does not fit its folder is an
// error naming the path.
absl::StatusOr<std::vector<ImdbReview>> ListImdbReviews(
    const std::string& data_dir, absl::string_view subset);

// Reads the first `max_bytes` bytes of each review, in order.
absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadImdbTexts(
    absl::Span<const ImdbReview> reviews, int max_bytes);

}  // namespace text
}  // namespace lra

#endif  // LRA_DATASETS_TEXT_IMDB_H_
