// The errors of the readers of official files (ListOps' and AAN's TSV,
// ...): "PATH:LINE: what", with a printable excerpt of the offending text.
#ifndef LRA_DATASETS_COMMON_FILE_ERRORS_H_
#define LRA_DATASETS_COMMON_FILE_ERRORS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lra {

// InvalidArgument "PATH:LINE: WHAT" (lines count from 1).
absl::Status LineError(absl::string_view path, int64_t line,
                       absl::string_view what);

// A short, printable excerpt of a piece of a line for error messages: the
// first 40 bytes, C-escaped, with "..." when there is more.
std::string Excerpt(absl::string_view text);

}  // namespace lra

#endif  // LRA_DATASETS_COMMON_FILE_ERRORS_H_
