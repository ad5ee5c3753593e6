// RETURN_IF_ERROR and ASSIGN_OR_RETURN: the two lines every function that
// passes an absl::Status along would otherwise write by hand.
//
//   RETURN_IF_ERROR(WriteFileAtomic(path, text));
//   ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
//   ASSIGN_OR_RETURN(auto dataset, MakeDataset(task, split, dir));
#ifndef LRA_UTIL_STATUS_MACROS_H_
#define LRA_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once and returns it from the enclosing
// function unless it is OK.
#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    ::absl::Status lra_status_macro_status_ = (expr); \
    if (!lra_status_macro_status_.ok()) {             \
      return lra_status_macro_status_;                \
    }                                                 \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status from the
// enclosing function unless it is OK, otherwise moves its value into `lhs`,
// which may declare a variable ("auto x", "const std::string& y" is not
// allowed: the value is a temporary).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  LRA_ASSIGN_OR_RETURN_IMPL_(        \
      LRA_STATUS_MACROS_CONCAT_(lra_status_or_value_, __LINE__), lhs, rexpr)

#define LRA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)   \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#define LRA_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define LRA_STATUS_MACROS_CONCAT_(x, y) LRA_STATUS_MACROS_CONCAT_INNER_(x, y)

#endif  // LRA_UTIL_STATUS_MACROS_H_
