// The Retrieval task as the registry in //datasets:dataset sees it: LRA's
// AAN document matching, read from new_aan_pairs.*.tsv when
// task.retrieval.data_dir is set and otherwise the synthetic stand-in of
// generator.h. task.seq_len is the length of ONE document (LRA: 4000); an
// example is both documents, [doc 1 | doc 2], each padded on its own, so
// the Dataset's seq_len() is 2 * task.seq_len and num_segments() is 2.
// Tokens are byte + 1 (vocabulary 257); label 1 = related.
//
// kTaskEntry.resolve_params fills zero fields of task.retrieval with the
// stand-in's defaults (min_length 2000, max_length 4000, num_refs 8,
// changed_refs 4, num_codes 120) and, when no data_dir is set, validates
// them; errors name the field as "task.retrieval.FIELD". kTaskEntry.make
// builds one split of a resolved config: the first `size` rows of
// DATA_DIR/new_aan_pairs.{train,eval,test}.tsv (val reads eval), or the
// stand-in. Relative data_dir is resolved against `workspace_dir`.
#ifndef LRA_DATASETS_RETRIEVAL_TASK_H_
#define LRA_DATASETS_RETRIEVAL_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace retrieval {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace retrieval
}  // namespace lra

#endif  // LRA_DATASETS_RETRIEVAL_TASK_H_
