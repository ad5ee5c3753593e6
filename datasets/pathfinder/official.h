// LRA's official Pathfinder files: reading them, and writing generated
// images in the same layout.
//
// A difficulty folder (e.g. lra_release/pathfinder32/curv_contour_length_14)
// holds metadata/<n>.npy, which despite the name are text files with one
// line per image, fields separated by spaces: [0] the image's subfolder
// (imgs/<n>), [1] its file name (sample_<i>.png), [2] its index, [3] the
// label (0 or 1), then generator settings. Images are 8-bit grayscale PNGs.
// LRA splits each difficulty 80/10/10 into train/val/test; here the order
// is the metadata files by number, then their lines (LRA's own order came
// from its input pipeline and is not reproducible).
#ifndef LRA_DATASETS_PATHFINDER_OFFICIAL_H_
#define LRA_DATASETS_PATHFINDER_OFFICIAL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/dataset_base.h"
#include "datasets/pathfinder/image_store.h"
#include "datasets/pathfinder/params.h"

namespace lra {
namespace pathfinder {

// One image listed in the metadata.
struct OfficialEntry {
  std::string path;  // folder/subfolder/file name
  int32_t label = 0;
  std::string origin;  // "metadata file:line", for errors
};

// The difficulty folder to read: `dir` itself when it has a metadata/
// folder, else `dir`/<DifficultyFolder(contour_length)>. NotFound names
// the folders tried.
absl::StatusOr<std::string> FindOfficialFolder(const std::string& dir,
                                               int contour_length);

// Reads every metadata/*.npy of a difficulty folder, files in numeric order
// of their names (then by name), lines in order. Malformed lines are
// InvalidArgument "FILE:LINE: ..." naming what is wrong; so is a subfolder
// or file name that would leave `folder` (absolute, or with a ".."
// component).
absl::StatusOr<std::vector<OfficialEntry>> ReadOfficialMetadata(
    const std::string& folder);

// The [begin, end) range of `split` among `total` entries: the first 80%
// train, the next 10% val, the rest test.
std::pair<int64_t, int64_t> OfficialSplitRange(int64_t total, Split split);

// Decodes entries[begin, begin + count) into store[0, count) in parallel.
// Each image must be resolution x resolution; errors name the PNG and the
// metadata line that lists it.
absl::Status LoadOfficialImages(const std::vector<OfficialEntry>& entries,
                                int64_t begin, int64_t count, int resolution,
                                ImageStore* store);

// Writes `count` generated images (the train stream of `data_seed`) in the
// official layout under `folder`: imgs/<b>/sample_<i>.png and
// metadata/<b>.npy with `images_per_batch` images per batch b, with
// metadata lines like the reference generator's.
absl::Status WriteOfficialFolder(const PathfinderParams& params,
                                 uint64_t data_seed, int64_t count,
                                 int64_t images_per_batch,
                                 const std::string& folder);

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_OFFICIAL_H_
