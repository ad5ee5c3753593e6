#include "datasets/common/file_errors.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace lra {

absl::Status LineError(absl::string_view path, int64_t line,
                       absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

std::string Excerpt(absl::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = absl::CHexEscape(text.substr(0, kMax));
  if (text.size() > kMax) absl::StrAppend(&out, "...");
  return out;
}

}  // namespace lra
