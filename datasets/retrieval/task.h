// The Retrieval task as the registry in //datasets:dataset sees it: LRA's
// AAN document matching, read from new_aan_pairs.*.tsv when
// task.retrieval.data_dir is set and otherwise the synthetic stand-in of
// generator.h. task.seq_len is the length of ONE document (LRA: 4000); an
// example is both documents, [doc 1 | doc 2], each padded on its own, so
// the Dataset's seq_len() is 2 * task.seq_len and num_segments() is 2.
// Tokens are byte + 1 (vocabulary 257); label 1 = related.
#ifndef LRA_DATASETS_RETRIEVAL_TASK_H_
#define LRA_DATASETS_RETRIEVAL_TASK_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datasets/common/task_entry.h"
#include "datasets/dataset_base.h"
#include "proto/config.pb.h"

namespace lra {
namespace retrieval {

inline constexpr int kDefaultSeqLen = 4000;  // Per document.
// The rows of LRA's new_aan_pairs.{train,eval,test}.tsv.
inline constexpr int kDefaultTrainSize = 147086;
inline constexpr int kDefaultValSize = 18090;
inline constexpr int kDefaultTestSize = 17437;
inline constexpr int kVocabSize = 257;
inline constexpr int kNumClasses = 2;
// An example is a pair of documents, each seq_len tokens padded on its own.
inline constexpr int kNumSegments = 2;

// Fills zero fields of task.retrieval with the stand-in's defaults
// (min_length 2000, max_length 4000, num_refs 8, changed_refs 4, num_codes
// 120) and, when no data_dir is set, validates them. Errors name the field
// as "task.retrieval.FIELD".
absl::Status ResolveRetrievalParams(TaskConfig* task);

// Builds one split of a resolved config: the first `size` rows of
// DATA_DIR/new_aan_pairs.{train,eval,test}.tsv (val reads eval), or the
// stand-in. Relative data_dir is resolved against `workspace_dir`.
absl::StatusOr<std::unique_ptr<Dataset>> MakeRetrievalDataset(
    const TaskConfig& task, Split split, const std::string& workspace_dir);

// The task's entry in the registry.
inline constexpr TaskEntry kTaskEntry = {
    "retrieval",          kDefaultSeqLen,   kDefaultTrainSize,
    kDefaultValSize,      kDefaultTestSize, kVocabSize,
    kNumClasses,          kNumSegments,     &ResolveRetrievalParams,
    &MakeRetrievalDataset};

}  // namespace retrieval
}  // namespace lra

#endif  // LRA_DATASETS_RETRIEVAL_TASK_H_
