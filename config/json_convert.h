// Internals of json_model.cc shared with json_acl.cc (the port ACL kinds):
// the typed conversion of a normalized object, and the ACL kinds' fields and
// value forms. Not for other users: json_model.h is the interface.
// Thread: any; pure.
#pragma once

#include <exception>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "config/json_model.h"

namespace hnv::config::json_detail {

// Normalizes `j` as `kind` (NormalizeObject), then `fill(normalized, &value,
// &error)` reads it into a T; false from fill is an error it has set.
template <typename T, typename Fill>
FromJsonResult<T> Convert(Kind kind, const nlohmann::json& j, const FromJsonOptions& options,
                          Fill fill) {
  FromJsonResult<T> r;
  FromJsonResult<nlohmann::json> n = NormalizeObject(kind, j, options);
  r.present = std::move(n.present);
  if (n.error) {
    r.error = std::move(n.error);
    return r;
  }
  T value{};
  // NormalizeObject checked every form, so only json's own invariants could
  // throw here; keep the promise anyway.
  try {
    if (!fill(*n.value, &value, &r.error)) return r;
  } catch (const std::exception& e) {
    r.error = JsonError{"", std::string("internal error: ") + e.what()};
    return r;
  }
  r.value = std::move(value);
  return r;
}

// json_acl.cc: the fields of kPortAcl / kPortExtendedAcl, and the forms of
// kTrueFalse and the kAcl* field types.
std::span<const FieldSpec> AclFields(Kind kind);
FieldResult NormalizeAclField(FieldType type, const nlohmann::json& v);

}  // namespace hnv::config::json_detail
