// Reads the golden files of attention plugins (made by
// tools/make_learnable_golden.py from an independent PyTorch implementation)
// and compares a plugin's outputs and gradients with them. Tests only.
//
// Format, line based ('#' starts a comment line):
//   scalar <name> <number>
//   text <name> <word>
//   tensor <name> <d0,d1,...>     followed by one line of row-major values
#ifndef LRA_MODELS_ATTENTION_TESTING_GOLDEN_FILE_H_
#define LRA_MODELS_ATTENTION_TESTING_GOLDEN_FILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lra {

struct GoldenTensor {
  std::vector<int64_t> shape;
  std::vector<double> values;
};

struct GoldenFile {
  std::string path;
  std::map<std::string, double> scalars;
  std::map<std::string, std::string> texts;
  std::map<std::string, GoldenTensor> tensors;

  // The tensor or scalar called `name`, or an error naming the file.
  absl::StatusOr<const GoldenTensor*> Tensor(const std::string& name) const;
  absl::StatusOr<double> Scalar(const std::string& name) const;
};

// `relative` (a workspace-relative path) as the test can open it: under the
// test's runfiles with `bazel test`, else as given (from the workspace root).
std::string GoldenDataPath(const std::string& relative);

// The tensor of a "tensor <name> <d0,d1,...>" line at `line` of `path`:
// `shape_text` is its shape and `values_text` the line of values after it.
// Errors name the file and line.
absl::StatusOr<GoldenTensor> ParseGoldenTensor(const std::string& path,
                                               int line,
                                               const std::string& shape_text,
                                               const std::string& values_text);

// Reads `relative` (a workspace-relative path), found through the test's
// runfiles under `bazel test` and from the workspace root otherwise.
absl::StatusOr<GoldenFile> ReadGoldenFile(const std::string& relative);

// Compares `got` (as many values as want holds) with `want`:
// |got - want| <= rtol * (|want| + scale), scale = the largest |want| in the
// tensor (float32 rounding grows with the magnitudes summed into an element,
// not with the element). Returns "" or a report of the first mismatches.
std::string CompareWithGolden(const std::string& name, const float* got,
                              const GoldenTensor& want, double rtol);

// The values as float32 (golden inputs are float32-representable).
std::vector<float> ToFloats(const GoldenTensor& t);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_TESTING_GOLDEN_FILE_H_
