// The Text task as the registry in //datasets:dataset sees it: LRA's
// byte-level IMDb classification, read from aclImdb's files when
// task.text.data_dir is set and otherwise the synthetic stand-in of
// generator.h. Tokens are byte + 1 (vocabulary 257, 0 = padding); labels
// are 1 = positive, 0 = negative.
//
// kTaskEntry.resolve_params fills zero fields of task.text with the
// stand-in's defaults (min_length 1000, max_length 4000, num_cues 15,
// max_margin 5) and, when no data_dir is set, validates them against
// task.seq_len; errors name the field as "task.text.FIELD". kTaskEntry.make
// builds one split of a resolved config. With data_dir, train reads
// DATA_DIR/train and both val and test read DATA_DIR/test, as LRA does; a
// split of n examples takes the first n reviews of the directory in an
// order shuffled by data_seed (so val and test are the same reviews when
// their sizes are equal). Relative data_dir is resolved against
// `workspace_dir`.
#ifndef LRA_DATASETS_TEXT_TASK_H_
#define LRA_DATASETS_TEXT_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace text {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace text
}  // namespace lra

#endif  // LRA_DATASETS_TEXT_TASK_H_
