// Pathfinder data without the `lra` binary:
//   pathfinder_tool render --resolution=32 --count=16 --out=DIR
//       sample_<i>.png, labels.txt and contact_sheet.png of a split.
//   pathfinder_tool export --resolution=32 --count=1000 --out=DIR
//       generated images in LRA's official layout (imgs/, metadata/).
//   pathfinder_tool bench --resolution=128 --count=2000
//       generation speed.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "datasets/pathfinder/official.h"
#include "datasets/pathfinder/params.h"
#include "datasets/pathfinder/render.h"
#include "datasets/pathfinder/task.h"
#include "proto/config.pb.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, task, "pathfinder", "pathfinder or pathx");
ABSL_FLAG(int, resolution, 0, "20, 32, 64, 128 or 256; 0 = the task's default");
ABSL_FLAG(int, contour_length, 0, "paddles per target contour; 0 = 14");
ABSL_FLAG(int, distractors, 0, "distractor contours; 0 = reference, -1 = none");
ABSL_FLAG(std::string, official_dir, "", "read LRA's files instead");
ABSL_FLAG(std::string, split, "train", "train, val or test");
ABSL_FLAG(int64_t, count, 16, "images");
ABSL_FLAG(uint64_t, data_seed, 0, "generator seed");
ABSL_FLAG(std::string, out, "", "output folder (render, export)");
ABSL_FLAG(int64_t, images_per_batch, 1000, "export: images per imgs/<b>");
ABSL_FLAG(int, threads, 0, "bench: threads, 0 = all");

namespace lra {
namespace pathfinder {
namespace {

absl::Status Run(const std::string& command) {
  TaskConfig task;
  task.set_name(absl::GetFlag(FLAGS_task));
  task.set_data_seed(absl::GetFlag(FLAGS_data_seed));
  PathfinderConfig* config = task.mutable_pathfinder();
  config->set_resolution(absl::GetFlag(FLAGS_resolution));
  config->set_contour_length(absl::GetFlag(FLAGS_contour_length));
  config->set_distractors(absl::GetFlag(FLAGS_distractors));
  config->set_official_dir(absl::GetFlag(FLAGS_official_dir));
  const std::string split_name = absl::GetFlag(FLAGS_split);
  Split split = Split::kTrain;
  if (split_name == "val") {
    split = Split::kVal;
  } else if (split_name == "test") {
    split = Split::kTest;
  } else if (split_name != "train") {
    return absl::InvalidArgumentError(
        absl::StrCat("--split=", split_name, " (allowed: train, val, test)"));
  }
  const int64_t count = absl::GetFlag(FLAGS_count);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (command == "render") {
    if (out.empty()) return absl::InvalidArgumentError("render needs --out");
    return WritePathfinderPngs(task, split, count, out);
  }
  if (command == "export") {
    if (out.empty()) return absl::InvalidArgumentError("export needs --out");
    RETURN_IF_ERROR(task.name() == "pathx" ? ResolvePathXParams(&task)
                                           : ResolvePathfinderParams(&task));
    ASSIGN_OR_RETURN(PathfinderParams params,
                     MakePathfinderParams(task.pathfinder()));
    return WriteOfficialFolder(params, task.data_seed(), count,
                               absl::GetFlag(FLAGS_images_per_batch), out);
  }
  if (command == "bench") {
    ASSIGN_OR_RETURN(
        GenerationSpeed speed,
        MeasureGenerationSpeed(task, count, absl::GetFlag(FLAGS_threads)));
    std::cout << FormatGenerationSpeed(speed);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown command '", command, "' (allowed: render, export, bench)"));
}

}  // namespace
}  // namespace pathfinder
}  // namespace lra

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: pathfinder_tool render|export|bench [--flags]\n";
    return 2;
  }
  absl::Status status = lra::pathfinder::Run(args[1]);
  if (!status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
