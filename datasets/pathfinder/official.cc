#include "datasets/pathfinder/official.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "datasets/pathfinder/generator.h"
#include "datasets/pathfinder/png_io.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace pathfinder {
namespace {

namespace fs = std::filesystem;

// Sort key of a metadata file: numeric names ("2.npy" before "10.npy")
// first, in numeric order, then the others by name.
struct MetadataFile {
  bool numeric = false;
  int64_t number = 0;
  std::string name;
  bool operator<(const MetadataFile& other) const {
    if (numeric != other.numeric) return numeric;
    if (numeric && number != other.number) return number < other.number;
    return name < other.name;
  }
};

absl::Status Malformed(const std::string& path, int line,
                       absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
}

// An image's subfolder or file name from a metadata line must stay inside
// the difficulty folder: a downloaded metadata file must not make the loader
// read "/etc/passwd" or "../../elsewhere". Returns what is wrong, or "" when
// `field` is a relative path without "..", "." or empty components.
std::string UnsafePathReason(absl::string_view field) {
  if (absl::StartsWith(field, "/")) return "is an absolute path";
  for (absl::string_view part : absl::StrSplit(field, '/')) {
    if (part == "..") return "has a '..' component";
    if (part.empty() || part == ".") return "has an empty or '.' component";
  }
  if (field.find('\0') != absl::string_view::npos) return "has a NUL byte";
  return "";
}

absl::Status ParseMetadataFile(const std::string& folder,
                               const std::string& path,
                               std::vector<OfficialEntry>* entries) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  if (data.rfind("\x93NUMPY", 0) == 0) {
    return Malformed(path, 1,
                     "a binary NumPy file (allowed: LRA's text metadata, one "
                     "image per line)");
  }
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (fields.size() < 4) {
      return Malformed(path, line_number,
                       absl::StrCat("has ", fields.size(),
                                    " fields (allowed: at least 4: subfolder, "
                                    "file name, index, label, ...)"));
    }
    int label = 0;
    if (!absl::SimpleAtoi(fields[3], &label) || (label != 0 && label != 1)) {
      return Malformed(path, line_number,
                       absl::StrCat("label (field 4) = '", fields[3],
                                    "' (allowed: 0 or 1)"));
    }
    for (int f = 0; f < 2; ++f) {
      const std::string reason = UnsafePathReason(fields[f]);
      if (!reason.empty()) {
        return Malformed(path, line_number,
                         absl::StrCat(f == 0 ? "image subfolder (field 1) = '"
                                             : "image file name (field 2) = '",
                                      fields[f], "' ", reason,
                                      " (allowed: a relative path inside ",
                                      folder, ", like imgs/0 sample_0.png)"));
      }
    }
    OfficialEntry entry;
    entry.path = absl::StrCat(folder, "/", fields[0], "/", fields[1]);
    entry.label = label;
    entry.origin = absl::StrCat(path, ":", line_number);
    entries->push_back(std::move(entry));
  }
  return absl::OkStatus();
}

// Writes one PNG under a temporary name beside `path` and renames it into
// place, so a run killed or failing mid-write leaves no truncated image under
// a listed name; on an error the temporary file is removed.
absl::Status WriteGrayPngAtomic(const std::string& path, int resolution,
                                const uint8_t* pixels) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  absl::Status status = WriteGrayPng(temporary, resolution, resolution, pixels);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(
        absl::StrCat(path, ": cannot move the image into place (",
                     std::strerror(errno), ")"));
  }
  if (!status.ok()) std::remove(temporary.c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::string> FindOfficialFolder(const std::string& dir,
                                               int contour_length) {
  std::error_code error;
  if (fs::is_directory(fs::path(dir) / "metadata", error)) return dir;
  const std::string difficulty = DifficultyFolder(contour_length);
  if (!difficulty.empty()) {
    const std::string nested = absl::StrCat(dir, "/", difficulty);
    if (fs::is_directory(fs::path(nested) / "metadata", error)) return nested;
    return absl::NotFoundError(absl::StrCat(
        "task.pathfinder.official_dir = '", dir, "': neither ", dir,
        "/metadata nor ", nested,
        "/metadata is a folder (allowed: a difficulty folder of LRA's "
        "release, or its parent)"));
  }
  return absl::NotFoundError(absl::StrCat(
      "task.pathfinder.official_dir = '", dir, "': ", dir,
      "/metadata is not a folder, and contour_length = ", contour_length,
      " has no folder in LRA's release (allowed: a folder with metadata/, "
      "or the parent of curv_baseline/ (6), curv_contour_length_9/ (9), "
      "curv_contour_length_14/ (14))"));
}

absl::StatusOr<std::vector<OfficialEntry>> ReadOfficialMetadata(
    const std::string& folder) {
  const fs::path metadata = fs::path(folder) / "metadata";
  std::vector<MetadataFile> files;
  std::error_code error;
  for (fs::directory_iterator it(metadata, error), end; !error && it != end;
       it.increment(error)) {
    if (!it->is_regular_file() || it->path().extension() != ".npy") continue;
    MetadataFile file;
    file.name = it->path().filename().string();
    file.numeric = absl::SimpleAtoi(it->path().stem().string(), &file.number);
    files.push_back(std::move(file));
  }
  if (error) {
    return absl::NotFoundError(absl::StrCat(
        metadata.string(), ": cannot list (", error.message(), ")"));
  }
  if (files.empty()) {
    return absl::NotFoundError(
        absl::StrCat(metadata.string(), ": no *.npy metadata files"));
  }
  std::sort(files.begin(), files.end());
  std::vector<OfficialEntry> entries;
  for (const MetadataFile& file : files) {
    RETURN_IF_ERROR(
        ParseMetadataFile(folder, (metadata / file.name).string(), &entries));
  }
  return entries;
}

std::pair<int64_t, int64_t> OfficialSplitRange(int64_t total, Split split) {
  const int64_t train_end = total * 8 / 10;
  const int64_t val_end = total * 9 / 10;
  switch (split) {
    case Split::kTrain:
      return {0, train_end};
    case Split::kVal:
      return {train_end, val_end};
    case Split::kTest:
      return {val_end, total};
  }
  return {0, 0};
}

absl::Status LoadOfficialImages(const std::vector<OfficialEntry>& entries,
                                int64_t begin, int64_t count, int resolution,
                                ImageStore* store) {
  const int64_t image_bytes = int64_t{resolution} * resolution;
  // The error of the lowest failing index is reported, so the message does
  // not depend on thread timing.
  std::atomic<int64_t> first_failure{count};
  std::vector<absl::Status> errors(count);
#pragma omp parallel
  {
    std::vector<uint8_t> pixels(image_bytes);  // [resolution, resolution]
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < count; ++i) {
      if (first_failure.load(std::memory_order_relaxed) < i) continue;
      const OfficialEntry& entry = entries[begin + i];
      absl::Status status =
          ReadGrayPngInto(entry.path, resolution, resolution, pixels.data());
      if (!status.ok()) {
        errors[i] = absl::Status(
            status.code(),
            absl::StrCat(status.message(), " (listed at ", entry.origin, ")"));
        int64_t seen = first_failure.load();
        while (i < seen && !first_failure.compare_exchange_weak(seen, i)) {
        }
        continue;
      }
      store->Put(i, pixels.data(), entry.label);
    }
  }
  if (first_failure.load() < count) return errors[first_failure.load()];
  return absl::OkStatus();
}

absl::Status WriteOfficialFolder(const PathfinderParams& params,
                                 uint64_t data_seed, int64_t count,
                                 int64_t images_per_batch,
                                 const std::string& folder) {
  if (images_per_batch <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "images_per_batch = ", images_per_batch, " (allowed: > 0)"));
  }
  const PathfinderGenerator generator(params);
  const int resolution = generator.resolution();
  const int64_t batches = (count + images_per_batch - 1) / images_per_batch;
  std::error_code error;
  fs::create_directories(fs::path(folder) / "metadata", error);
  for (int64_t b = 0; !error && b < batches; ++b) {
    fs::create_directories(fs::path(folder) / "imgs" / std::to_string(b),
                           error);
  }
  if (error) {
    return absl::InternalError(absl::StrCat(
        folder, ": cannot create the folders (", error.message(), ")"));
  }
  std::vector<int32_t> labels(count);
  std::vector<int> margins(count);
  std::atomic<int64_t> first_failure{count};
  std::vector<absl::Status> errors(count);
#pragma omp parallel
  {
    GeneratorScratch scratch;
    std::vector<uint8_t> pixels(generator.image_size());
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < count; ++i) {
      labels[i] = generator.Generate(data_seed, Split::kTrain, i, &scratch,
                                     pixels.data());
      margins[i] = scratch.scene.margin;
      const std::string path =
          absl::StrCat(folder, "/imgs/", i / images_per_batch, "/sample_",
                       i % images_per_batch, ".png");
      absl::Status status = WriteGrayPngAtomic(path, resolution, pixels.data());
      if (!status.ok()) {
        errors[i] = status;
        int64_t seen = first_failure.load();
        while (i < seen && !first_failure.compare_exchange_weak(seen, i)) {
        }
      }
    }
  }
  if (first_failure.load() < count) return errors[first_failure.load()];
  // The metadata comes last, each file written atomically: a folder whose
  // export was interrupted lists only complete images (or none).
  for (int64_t b = 0; b < batches; ++b) {
    const std::string path = absl::StrCat(folder, "/metadata/", b, ".npy");
    std::ostringstream out;
    for (int64_t i = b * images_per_batch;
         i < std::min(count, (b + 1) * images_per_batch); ++i) {
      const int64_t j = i % images_per_batch;
      // The reference's fields: subfolder, file, index, label, continuity,
      // contour length, distractor length, paddle length, thickness,
      // margin, number of contrasts.
      out << "imgs/" << b << " sample_" << j << ".png " << j << " " << labels[i]
          << " " << params.style.continuity << " " << params.contour_length
          << " " << params.distractor_length << " "
          << params.style.paddle_length << " " << params.style.thickness << " "
          << margins[i] << " 1\n";
    }
    RETURN_IF_ERROR(WriteFileAtomic(path, out.str()));
  }
  return absl::OkStatus();
}

}  // namespace pathfinder
}  // namespace lra
