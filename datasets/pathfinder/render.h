// `lra data render`: Pathfinder images as PNG files and a contact sheet, so
// people can look at what the model sees.
#ifndef LRA_DATASETS_PATHFINDER_RENDER_H_
#define LRA_DATASETS_PATHFINDER_RENDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace pathfinder {

// Images shown on a contact sheet at most; later ones are written as PNGs
// only.
inline constexpr int64_t kMaxContactSheetImages = 256;

// Writes the first `count` images of `split` of `task` (defaults are
// resolved here, so a config with just a name and a resolution works; the
// images come from official_dir when set, else from the generator, never
// from or into the cache) into `out_dir` (created if needed):
//  - sample_<i>.png: the image, 8-bit grayscale, as the model sees it
//    (token - 1).
//  - labels.txt: "sample_<i>.png <label>" per line.
//  - contact_sheet.png: the first images in a grid, each enlarged to at
//    least 128 pixels and framed by its label: blue for 1 (connected),
//    orange for 0 (not connected).
// `workspace_dir` resolves a relative official_dir.
absl::Status WritePathfinderPngs(const TaskConfig& task, Split split,
                                 int64_t count, const std::string& out_dir,
                                 const std::string& workspace_dir = "");

// Writes a contact sheet of images ([resolution, resolution] each) framed
// by label as above.
absl::Status WriteContactSheet(const std::string& path, int resolution,
                               const std::vector<std::vector<uint8_t>>& images,
                               const std::vector<int32_t>& labels);

}  // namespace pathfinder
}  // namespace lra

#endif  // LRA_DATASETS_PATHFINDER_RENDER_H_
