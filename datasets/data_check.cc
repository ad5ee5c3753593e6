#include "datasets/data_check.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "datasets/common/random.h"
#include "datasets/common/task_config.h"
#include "datasets/image/cifar.h"
#include "datasets/listops/check.h"
#include "datasets/pathfinder/image_store.h"
#include "datasets/pathfinder/official.h"
#include "datasets/pathfinder/params.h"
#include "datasets/retrieval/aan.h"
#include "datasets/text/imdb.h"
#include "util/files.h"
#include "util/status_macros.h"

namespace lra {
namespace {

namespace fs = std::filesystem;

// Min, mean and max of document lengths, and how many exceed seq_len.
class Lengths {
 public:
  explicit Lengths(int seq_len) : seq_len_(seq_len) {}
  void Add(int64_t length) {
    if (count_ == 0) min_ = max_ = length;
    min_ = std::min(min_, length);
    max_ = std::max(max_, length);
    total_ += length;
    truncated_ += length > seq_len_;
    ++count_;
  }
  void Fill(SplitCheck* split) const {
    split->documents = count_;
    split->min_tokens = min_;
    split->max_tokens = max_;
    split->mean_tokens = count_ > 0 ? static_cast<double>(total_) / count_ : 0;
    split->truncated = truncated_;
  }

 private:
  int seq_len_;
  int64_t count_ = 0, min_ = 0, max_ = 0, total_ = 0, truncated_ = 0;
};

// A split smaller than the config asks for is not malformed data, but a run
// with that config would fail when it builds the split.
void CheckSize(absl::string_view field, int64_t config_size,
               const SplitCheck& split, DataCheckReport* report) {
  if (config_size <= split.examples) return;
  report->warnings.push_back(
      absl::StrCat("task.", field, " = ", config_size, " but the ", split.name,
                   " split has ", split.examples,
                   " examples: a run with this config fails (allowed: ", field,
                   " <= ", split.examples, ")"));
}

std::string SizeField(Split split) {
  return absl::StrCat(SplitName(split), "_size");
}

absl::Status CheckListOps(const TaskConfig& task,
                          const std::string& workspace_dir,
                          DataCheckReport* report) {
  const ListOpsConfig& config = task.listops();
  const std::pair<Split, std::string> files[] = {
      {Split::kTrain, config.train_tsv()},
      {Split::kVal, config.val_tsv()},
      {Split::kTest, config.test_tsv()}};
  std::vector<std::string> named;
  // Fingerprints of the training rows, so that val and test rows also in
  // train (leakage) are counted.
  absl::flat_hash_set<uint64_t> train_rows;
  for (const auto& [split, file] : files) {
    if (file.empty()) continue;
    const std::string path = ResolvePath(workspace_dir, file);
    named.push_back(path);
    int64_t in_train = 0;
    // A copy: C++17 lambdas cannot capture a structured binding (clang
    // refuses it; gcc accepts it).
    const bool is_train = split == Split::kTrain;
    ASSIGN_OR_RETURN(
        ListOpsCheckReport tsv,
        CheckListOpsTsv(path, task.seq_len(), [&](const listops::TsvRow& row) {
          const uint64_t fingerprint = Fingerprint64(row.ids, /*seed=*/0);
          if (is_train) {
            train_rows.insert(fingerprint);
          } else {
            in_train += train_rows.contains(fingerprint);
          }
        }));
    ++report->files_read;
    SplitCheck check;
    check.name = std::string(SplitName(split));
    check.source = path;
    check.examples = tsv.rows;
    check.documents = tsv.rows;
    check.min_tokens = tsv.min_tokens;
    check.mean_tokens = tsv.mean_tokens;
    check.max_tokens = tsv.max_tokens;
    check.truncated = tsv.truncated_rows;
    check.label_histogram.assign(tsv.label_histogram.begin(),
                                 tsv.label_histogram.end());
    check.facts.push_back(absl::StrFormat("depth: min %d, mean %.2f, max %d",
                                          tsv.min_depth, tsv.mean_depth,
                                          tsv.max_depth));
    check.facts.push_back(absl::StrCat("duplicate rows: ", tsv.duplicate_rows));
    if (split != Split::kTrain && !config.train_tsv().empty()) {
      check.facts.push_back(absl::StrCat("rows also in train: ", in_train));
    }
    check.facts.push_back(absl::StrCat(
        "labels agree with our evaluator: ", tsv.labels_agree, "/", tsv.rows));
    if (tsv.first_disagreement_line > 0) {
      report->warnings.push_back(absl::StrCat(
          path, ": ", tsv.rows - tsv.labels_agree,
          " Target labels differ from our evaluator's, the first at line ",
          tsv.first_disagreement_line, " (Target ",
          tsv.first_disagreement_label, ", the expression evaluates to ",
          tsv.first_disagreement_value, ")"));
    }
    CheckSize(SizeField(split), SplitSize(task, split), check, report);
    report->splits.push_back(std::move(check));
  }
  if (named.empty()) {
    return absl::InvalidArgumentError(
        "data check: task 'listops' names no TSV files (allowed: "
        "--data_dir=DIR holding basic_{train,val,test}.tsv, --tsv=FILE, or a "
        "task file setting listops.train_tsv, val_tsv or test_tsv)");
  }
  report->data = absl::StrJoin(named, ", ");
  return absl::OkStatus();
}

absl::Status CheckText(const TaskConfig& task, const std::string& dir,
                       DataCheckReport* report) {
  report->data = dir;
  for (const bool train : {true, false}) {
    const absl::string_view subset = train ? "train" : "test";
    ASSIGN_OR_RETURN(std::vector<text::ImdbReview> reviews,
                     text::ListImdbReviews(dir, subset));
    SplitCheck check;
    check.name = train ? "train" : "val, test";
    check.source = absl::StrCat(dir, "/", subset, "/{pos,neg}");
    if (reviews.empty()) {
      return absl::NotFoundError(
          absl::StrCat(check.source,
                       ": no reviews (expected aclImdb's layout with "
                       "<id>_<rating>.txt files)"));
    }
    // The loader reads what a run reads (the first seq_len bytes); the
    // lengths before cutting come from the file sizes.
    ASSIGN_OR_RETURN(std::vector<std::vector<uint8_t>> texts,
                     text::ReadImdbTexts(reviews, task.seq_len()));
    report->files_read += reviews.size();
    check.examples = reviews.size();
    check.label_histogram.assign(2, 0);
    Lengths lengths(task.seq_len());
    for (const text::ImdbReview& review : reviews) {
      std::error_code error;
      const uintmax_t bytes = fs::file_size(review.path, error);
      if (error) {
        return absl::NotFoundError(
            absl::StrCat("IMDb review '", review.path, "': ", error.message()));
      }
      if (bytes == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("IMDb review '", review.path,
                         "' is empty (allowed: at least one byte; an empty "
                         "review would be all padding)"));
      }
      ++check.label_histogram[review.label];
      lengths.Add(static_cast<int64_t>(bytes));
    }
    lengths.Fill(&check);
    check.facts.push_back(absl::StrCat(
        "reviews: neg ", check.label_histogram[0], " (ratings 1-4), pos ",
        check.label_histogram[1], " (ratings 7-10)"));
    if (train) {
      CheckSize("train_size", task.train_size(), check, report);
    } else {
      CheckSize("val_size", task.val_size(), check, report);
      CheckSize("test_size", task.test_size(), check, report);
    }
    report->splits.push_back(std::move(check));
  }
  return absl::OkStatus();
}

absl::Status CheckRetrieval(const TaskConfig& task, const std::string& dir,
                            DataCheckReport* report) {
  report->data = dir;
  // The training pairs as "id1<TAB>id2", so that val and test pairs also in
  // train (leakage) are counted.
  absl::flat_hash_set<std::string> train_pairs;
  for (const Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    const std::string path = absl::StrCat(
        dir, "/",
        retrieval::AanFileName(split == Split::kTrain, split == Split::kVal));
    SplitCheck check;
    check.name = std::string(SplitName(split));
    check.source = path;
    check.label_histogram.assign(2, 0);
    Lengths lengths(task.seq_len());
    absl::flat_hash_set<std::string> ids;
    int64_t self_pairs = 0, in_train = 0;
    RETURN_IF_ERROR(retrieval::ForEachAanTsvRow(
        path, std::numeric_limits<int64_t>::max(),
        [&](const retrieval::AanRow& row) -> absl::Status {
          if (row.text1.empty() || row.text2.empty()) {
            return absl::InvalidArgumentError(absl::StrCat(
                path, ":", row.line, ": ",
                row.text1.empty() ? "text1 (field 4)" : "text2 (field 5)",
                " is empty (allowed: a non-empty document; an empty one "
                "would be all padding)"));
          }
          ++check.examples;
          ++check.label_histogram[row.label];
          lengths.Add(row.text1.size());
          lengths.Add(row.text2.size());
          ids.emplace(row.id1);
          ids.emplace(row.id2);
          self_pairs += row.id1 == row.id2;
          std::string pair = absl::StrCat(row.id1, "\t", row.id2);
          if (split == Split::kTrain) {
            train_pairs.insert(std::move(pair));
          } else {
            in_train += train_pairs.contains(pair);
          }
          return absl::OkStatus();
        }));
    ++report->files_read;
    if (check.examples == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": no rows (allowed: one pair per line, "
                       "label id1 id2 text1 text2)"));
    }
    lengths.Fill(&check);
    check.facts.push_back(
        absl::StrCat("distinct document ids: ", ids.size(),
                     "; pairs of a document with itself: ", self_pairs));
    if (split != Split::kTrain) {
      check.facts.push_back(
          absl::StrCat("pairs (id1, id2) also in train: ", in_train));
    }
    CheckSize(SizeField(split), SplitSize(task, split), check, report);
    report->splits.push_back(std::move(check));
  }
  return absl::OkStatus();
}

// Appends `images` to `check`: labels, pixel sum.
void AddCifarImages(const image::GrayImages& images, int64_t begin, int64_t end,
                    SplitCheck* check, double* pixel_sum) {
  for (int64_t i = begin; i < end; ++i) {
    ++check->label_histogram[images.labels[i]];
    const uint8_t* pixels = images.pixels.data() + i * image::kCifarPixels;
    int64_t sum = 0;
    for (int p = 0; p < image::kCifarPixels; ++p) sum += pixels[p];
    *pixel_sum += sum;
  }
  check->examples += end - begin;
}

absl::Status CheckImage(const TaskConfig& task, const std::string& dir,
                        DataCheckReport* report) {
  report->data = dir;
  image::GrayImages pool;
  std::vector<std::string> batches;
  for (int batch = 1; batch <= image::kCifarTrainBatches; ++batch) {
    const std::string path = image::CifarBatchPath(dir, batch);
    ASSIGN_OR_RETURN(image::GrayImages part, image::ReadCifarBatch(path));
    ++report->files_read;
    batches.push_back(
        absl::StrCat(fs::path(path).filename().string(), " ", part.size()));
    pool.pixels.insert(pool.pixels.end(), part.pixels.begin(),
                       part.pixels.end());
    pool.labels.insert(pool.labels.end(), part.labels.begin(),
                       part.labels.end());
  }
  const std::string test_path = image::CifarBatchPath(dir, 0);
  ASSIGN_OR_RETURN(image::GrayImages test, image::ReadCifarBatch(test_path));
  ++report->files_read;

  const int64_t train_end = image::CifarTrainImages(pool.size());
  struct Part {
    Split split;
    const image::GrayImages* images;
    int64_t begin, end;
    std::string source;
  };
  const std::string pool_files =
      absl::StrCat(dir, "/data_batch_{1..", image::kCifarTrainBatches, "}.bin");
  const Part parts[] = {{Split::kTrain, &pool, 0, train_end,
                         absl::StrCat(pool_files, ", first 90%")},
                        {Split::kVal, &pool, train_end, pool.size(),
                         absl::StrCat(pool_files, ", last 10%")},
                        {Split::kTest, &test, 0, test.size(), test_path}};
  for (const Part& part : parts) {
    SplitCheck check;
    check.name = std::string(SplitName(part.split));
    check.source = part.source;
    check.label_histogram.assign(image::kCifarClasses, 0);
    double pixel_sum = 0;
    AddCifarImages(*part.images, part.begin, part.end, &check, &pixel_sum);
    Lengths lengths(task.seq_len());
    for (int64_t i = 0; i < check.examples; ++i) {
      lengths.Add(image::kCifarPixels);
    }
    lengths.Fill(&check);
    if (part.split == Split::kTrain) {
      check.facts.push_back(
          absl::StrCat("records per batch: ", absl::StrJoin(batches, ", ")));
    } else if (part.split == Split::kTest) {
      check.facts.push_back(
          absl::StrCat("records: test_batch.bin ", test.size()));
    }
    check.facts.push_back(absl::StrFormat(
        "mean gray level: %.1f (LRA's grayscale, 0..255)",
        check.examples > 0
            ? pixel_sum / (check.examples * double{image::kCifarPixels})
            : 0.0));
    CheckSize(SizeField(part.split), SplitSize(task, part.split), check,
              report);
    report->splits.push_back(std::move(check));
  }
  return absl::OkStatus();
}

absl::Status CheckPathfinder(const TaskConfig& task, const std::string& dir,
                             DataCheckReport* report) {
  const PathfinderConfig& config = task.pathfinder();
  ASSIGN_OR_RETURN(std::string folder, pathfinder::FindOfficialFolder(
                                           dir, config.contour_length()));
  report->data = folder;
  ASSIGN_OR_RETURN(std::vector<pathfinder::OfficialEntry> entries,
                   pathfinder::ReadOfficialMetadata(folder));
  // Metadata files are counted from the entries' origins ("FILE:LINE").
  absl::flat_hash_set<std::string> metadata_files;
  for (const pathfinder::OfficialEntry& entry : entries) {
    metadata_files.insert(entry.origin.substr(0, entry.origin.rfind(':')));
  }
  report->files_read += metadata_files.size();
  const int resolution = config.resolution();
  const int64_t image_bytes = int64_t{resolution} * resolution;
  // Decoded in chunks through the loader, so Path-X's 200k images of 16 KiB
  // never need to be in memory at once.
  constexpr int64_t kChunk = 4096;
  pathfinder::ImageStore store(kChunk, image_bytes, /*compressed=*/false);
  std::vector<uint8_t> pixels(image_bytes);  // [resolution, resolution]
  for (const Split split : {Split::kTrain, Split::kVal, Split::kTest}) {
    const auto [begin, end] =
        pathfinder::OfficialSplitRange(entries.size(), split);
    SplitCheck check;
    check.name = std::string(SplitName(split));
    check.source = absl::StrCat(folder, ", metadata lines ", begin + 1, "-",
                                end, " of ", entries.size());
    check.label_histogram.assign(2, 0);
    double ink[2] = {0, 0};
    for (int64_t first = begin; first < end; first += kChunk) {
      const int64_t count = std::min(kChunk, end - first);
      RETURN_IF_ERROR(pathfinder::LoadOfficialImages(entries, first, count,
                                                     resolution, &store));
      for (int64_t i = 0; i < count; ++i) {
        store.Read(i, pixels.data());
        int64_t sum = 0;
        for (uint8_t p : pixels) sum += p;
        const int32_t label = store.label(i);
        ++check.label_histogram[label];
        ink[label] += sum / 255.0;
      }
    }
    check.examples = end - begin;
    report->files_read += check.examples;
    Lengths lengths(task.seq_len());
    for (int64_t i = 0; i < check.examples; ++i) lengths.Add(image_bytes);
    lengths.Fill(&check);
    check.facts.push_back(absl::StrCat("PNGs decoded: ", check.examples,
                                       ", all ", resolution, "x", resolution,
                                       " 8-bit grayscale"));
    check.facts.push_back(absl::StrFormat(
        "mean ink (pixel sum / 255): label 0 %.1f, label 1 %.1f",
        check.label_histogram[0] > 0 ? ink[0] / check.label_histogram[0] : 0.0,
        check.label_histogram[1] > 0 ? ink[1] / check.label_histogram[1]
                                     : 0.0));
    CheckSize(SizeField(split), SplitSize(task, split), check, report);
    report->splits.push_back(std::move(check));
  }
  return absl::OkStatus();
}

absl::Status NoData(const TaskConfig& task, absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(
      "data check: task '", task.name(), "' names no official data (allowed: ",
      "--data_dir=DIR, or a task file setting ", field,
      "); without it the task is generated and has no files to check"));
}

// How `lra data check` reaches one task's official data.
struct OfficialData {
  const char* task;
  // The config field naming the data's folder ("text.data_dir"), or nullptr
  // when the config names files (ListOps' TSVs) that `check` resolves
  // itself against the workspace.
  const char* dir_field;
  // The folder the config names.
  std::string (*dir)(const TaskConfig& task);
  // Points the config at official data in `dir`.
  void (*set_dir)(const std::string& dir, TaskConfig* task);
  // Reads the data in `dir` (the workspace when dir_field is nullptr).
  absl::Status (*check)(const TaskConfig& task, const std::string& dir,
                        DataCheckReport* report);
};

std::string PathfinderDir(const TaskConfig& task) {
  return task.pathfinder().official_dir();
}
void SetPathfinderDir(const std::string& dir, TaskConfig* task) {
  task->mutable_pathfinder()->set_official_dir(dir);
}

// Sorted by task name.
constexpr OfficialData kOfficialData[] = {
    {"image", "image.data_dir",
     [](const TaskConfig& task) { return task.image().data_dir(); },
     [](const std::string& dir, TaskConfig* task) {
       task->mutable_image()->set_data_dir(dir);
     },
     &CheckImage},
    {"listops", nullptr, [](const TaskConfig&) { return std::string(); },
     [](const std::string& dir, TaskConfig* task) {
       ListOpsConfig* config = task->mutable_listops();
       config->set_train_tsv(absl::StrCat(dir, "/basic_train.tsv"));
       config->set_val_tsv(absl::StrCat(dir, "/basic_val.tsv"));
       config->set_test_tsv(absl::StrCat(dir, "/basic_test.tsv"));
     },
     &CheckListOps},
    {"pathfinder", "pathfinder.official_dir", &PathfinderDir, &SetPathfinderDir,
     &CheckPathfinder},
    {"pathx", "pathfinder.official_dir", &PathfinderDir, &SetPathfinderDir,
     &CheckPathfinder},
    {"retrieval", "retrieval.data_dir",
     [](const TaskConfig& task) { return task.retrieval().data_dir(); },
     [](const std::string& dir, TaskConfig* task) {
       task->mutable_retrieval()->set_data_dir(dir);
     },
     &CheckRetrieval},
    {"text", "text.data_dir",
     [](const TaskConfig& task) { return task.text().data_dir(); },
     [](const std::string& dir, TaskConfig* task) {
       task->mutable_text()->set_data_dir(dir);
     },
     &CheckText},
};

const OfficialData* FindOfficialData(absl::string_view task) {
  for (const OfficialData& data : kOfficialData) {
    if (task == data.task) return &data;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> CheckableTaskNames() {
  std::vector<std::string> names;
  for (const OfficialData& data : kOfficialData) names.push_back(data.task);
  return names;
}

absl::Status SetOfficialDataDir(const std::string& dir, TaskConfig* task) {
  const OfficialData* data = FindOfficialData(task->name());
  if (data == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_dir: task '", task->name(),
                     "' has no official data files (allowed: ",
                     absl::StrJoin(CheckableTaskNames(), ", "), ")"));
  }
  data->set_dir(dir, task);
  return absl::OkStatus();
}

absl::StatusOr<DataCheckReport> CheckTaskData(
    const TaskConfig& task, const std::string& workspace_dir) {
  const OfficialData* data = FindOfficialData(task.name());
  if (data == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("data check: task '", task.name(),
                     "' is generated only and has no files to check (allowed: ",
                     absl::StrJoin(CheckableTaskNames(), ", "), ")"));
  }
  std::string dir = workspace_dir;
  if (data->dir_field != nullptr) {
    const std::string configured = data->dir(task);
    if (configured.empty()) return NoData(task, data->dir_field);
    dir = ResolvePath(workspace_dir, configured);
  }
  DataCheckReport report;
  report.task = task.name();
  report.seq_len = task.seq_len();
  RETURN_IF_ERROR(data->check(task, dir, &report));
  return report;
}

std::string FormatDataCheckReport(const DataCheckReport& report) {
  std::string out;
  absl::StrAppend(&out, "task: ", report.task, " (seq_len ", report.seq_len,
                  ")\n");
  absl::StrAppend(&out, "data: ", report.data, "\n");
  absl::StrAppend(&out, "files read: ", report.files_read, "\n");
  int64_t examples = 0;
  for (const SplitCheck& split : report.splits) {
    examples += split.examples;
    absl::StrAppend(&out, "== ", split.name, ": ", split.source, "\n");
    absl::StrAppend(&out, "examples: ", split.examples, "\n");
    absl::StrAppend(&out, "labels:");
    for (size_t label = 0; label < split.label_histogram.size(); ++label) {
      absl::StrAppend(&out, " ", label, "=", split.label_histogram[label]);
    }
    absl::StrAppend(&out, "\n");
    absl::StrAppendFormat(
        &out, "tokens%s: min %d, mean %.1f, max %d; %d of %d cut to seq_len\n",
        split.documents > split.examples ? " per document" : "",
        split.min_tokens, split.mean_tokens, split.max_tokens, split.truncated,
        split.documents);
    for (const std::string& fact : split.facts) {
      absl::StrAppend(&out, fact, "\n");
    }
  }
  for (const std::string& warning : report.warnings) {
    absl::StrAppend(&out, "warning: ", warning, "\n");
  }
  absl::StrAppend(&out, "verdict: OK: ", report.splits.size(), " split",
                  report.splits.size() == 1 ? "" : "s", ", ", examples,
                  " examples from ", report.files_read,
                  " files, all well-formed");
  if (!report.warnings.empty()) {
    absl::StrAppend(&out, "; ", report.warnings.size(), " warning",
                    report.warnings.size() == 1 ? "" : "s", " above");
  }
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace lra
