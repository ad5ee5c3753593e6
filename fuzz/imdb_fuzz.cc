// Fuzz target: IMDb review folders (datasets/text/imdb.h), file names and
// contents. Each input line is one file of DATA_DIR/train: its first byte
// picks pos/ (odd) or neg/ (even), the bytes up to a tab are the file name,
// the rest its text. Names that cannot be one file name (empty, ".", "..",
// with '/' or NUL, over 200 bytes) are skipped; at most 16 files.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "datasets/text/imdb.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string root = lra::fuzz::ScratchDir() + "/imdb";
  lra::fuzz::RemoveTree(root);
  lra::fuzz::MakeDir(root + "/train/pos");
  lra::fuzz::MakeDir(root + "/train/neg");
  const std::string text(reinterpret_cast<const char*>(data), size);
  int files = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || files == 16) continue;
    const bool pos = line[0] & 1;
    line.remove_prefix(1);
    const std::vector<absl::string_view> name_text =
        absl::StrSplit(line, absl::MaxSplits('\t', 1));
    const std::string name(name_text[0]);
    if (name.empty() || name == "." || name == ".." || name.size() > 200 ||
        name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      continue;
    }
    const std::string body =
        name_text.size() > 1 ? std::string(name_text[1]) : "";
    lra::fuzz::WriteBytes(root + (pos ? "/train/pos/" : "/train/neg/") + name,
                          body);
    ++files;
  }
  auto reviews = lra::text::ListImdbReviews(root, "train");
  if (!reviews.ok()) return 0;
  for (const auto& review : *reviews) {
    const bool fits = review.label == 1
                          ? review.rating >= 7 && review.rating <= 10
                          : review.rating >= 1 && review.rating <= 4;
    if (!fits) std::abort();
  }
  auto texts = lra::text::ReadImdbTexts(*reviews, 8);
  if (texts.ok()) {
    if (texts->size() != reviews->size()) std::abort();
    for (const auto& t : *texts) {
      if (t.size() > 8) std::abort();
    }
  }
  return 0;
}
