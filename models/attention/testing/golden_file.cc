#include "models/attention/testing/golden_file.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace lra {
namespace {

absl::Status LineError(const std::string& path, int line,
                       const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

}  // namespace

std::string GoldenDataPath(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    std::string path = absl::StrCat(srcdir, "/", workspace, "/", relative);
    if (std::ifstream(path).good()) return path;
  }
  return relative;
}

absl::StatusOr<GoldenTensor> ParseGoldenTensor(const std::string& path,
                                               int line,
                                               const std::string& shape_text,
                                               const std::string& values_text) {
  GoldenTensor t;
  int64_t count = 1;
  for (absl::string_view dim : absl::StrSplit(shape_text, ',')) {
    int64_t d = 0;
    if (!absl::SimpleAtoi(dim, &d) || d <= 0) {
      return LineError(path, line,
                       absl::StrCat("bad dimension '", dim, "' in shape '",
                                    shape_text, "'; want positive integers"));
    }
    t.shape.push_back(d);
    count *= d;
  }
  for (absl::string_view v :
       absl::StrSplit(values_text, ' ', absl::SkipEmpty())) {
    double x = 0;
    if (!absl::SimpleAtod(v, &x)) {
      return LineError(path, line + 1, absl::StrCat("bad number '", v, "'"));
    }
    t.values.push_back(x);
  }
  if (static_cast<int64_t>(t.values.size()) != count) {
    return LineError(path, line + 1,
                     absl::StrCat("shape [", shape_text, "] needs ", count,
                                  " values, found ", t.values.size()));
  }
  return t;
}

absl::StatusOr<const GoldenTensor*> GoldenFile::Tensor(
    const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    return absl::NotFoundError(
        absl::StrCat(path, " has no tensor '", name, "'"));
  }
  return &it->second;
}

absl::StatusOr<double> GoldenFile::Scalar(const std::string& name) const {
  auto it = scalars.find(name);
  if (it == scalars.end()) {
    return absl::NotFoundError(
        absl::StrCat(path, " has no scalar '", name, "'"));
  }
  return it->second;
}

absl::StatusOr<GoldenFile> ReadGoldenFile(const std::string& relative) {
  GoldenFile golden;
  golden.path = GoldenDataPath(relative);
  std::ifstream in(golden.path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot open golden file ", golden.path));
  }
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() != 3) {
      return LineError(golden.path, line_no,
                       "want '<scalar|text|tensor> <name> <value or shape>'");
    }
    const std::string& name = words[1];
    if (words[0] == "scalar") {
      double value = 0;
      if (!absl::SimpleAtod(words[2], &value)) {
        return LineError(golden.path, line_no, "bad number");
      }
      golden.scalars[name] = value;
    } else if (words[0] == "text") {
      golden.texts[name] = words[2];
    } else if (words[0] == "tensor") {
      std::string values;
      if (!std::getline(in, values)) {
        return LineError(golden.path, line_no, "missing line of values");
      }
      absl::StatusOr<GoldenTensor> t =
          ParseGoldenTensor(golden.path, line_no, words[2], values);
      ++line_no;
      if (!t.ok()) return t.status();
      golden.tensors[name] = *std::move(t);
    } else {
      return LineError(golden.path, line_no,
                       absl::StrCat("unknown line kind '", words[0], "'"));
    }
  }
  return golden;
}

std::string CompareWithGolden(const std::string& name, const float* got,
                              const GoldenTensor& want, double rtol) {
  double scale = 0.0;
  for (double w : want.values) scale = std::max(scale, std::fabs(w));
  std::string report;
  int bad = 0;
  for (size_t e = 0; e < want.values.size(); ++e) {
    const double w = want.values[e];
    const double allowed = rtol * (std::fabs(w) + scale);
    if (!(std::fabs(double(got[e]) - w) <= allowed)) {
      if (++bad <= 5) {
        absl::StrAppend(&report,
                        absl::StrFormat("  %s[%d]: got %.9g, want %.9g "
                                        "(allowed error %.3g)\n",
                                        name, e, got[e], w, allowed));
      }
    }
  }
  if (bad > 5) absl::StrAppend(&report, "  ... ", bad, " mismatches\n");
  return report;
}

std::vector<float> ToFloats(const GoldenTensor& t) {
  std::vector<float> out;
  out.reserve(t.values.size());
  for (double v : t.values) out.push_back(static_cast<float>(v));
  return out;
}

}  // namespace lra
