#include "daemon/operations.h"

#include <chrono>

#include <limits>

namespace hnv::daemon {

using config::Response;
using nlohmann::json;

bool ArgReader::Fail(const char* field, std::string_view problem) {
  return FailWith(std::string(op_) + ": \"" + field + "\" " + std::string(problem));
}

bool ArgReader::FailWith(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

const json* ArgReader::Find(const char* field, Need need, std::string_view problem) {
  const auto it = args_.find(field);
  if (it != args_.end() && !it->is_null()) return &*it;
  if (need == Need::kRequired) Fail(field, problem);
  return nullptr;
}

bool ArgReader::String(const char* field, std::string* out, Need need, std::string_view problem) {
  const json* v = Find(field, need, problem);
  if (v == nullptr) return need == Need::kOptional;
  if (!v->is_string()) return Fail(field, problem);
  *out = v->get<std::string>();
  return true;
}

namespace {

// A non-negative integer (the parser makes those unsigned; a json built in
// code may hold them signed).
std::optional<uint64_t> AsUnsigned(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

}  // namespace

bool ArgReader::Unsigned(const char* field, uint64_t* out, Need need, std::string_view problem) {
  const json* v = Find(field, need, problem);
  if (v == nullptr) return need == Need::kOptional;
  const std::optional<uint64_t> n = AsUnsigned(*v);
  if (!n) return Fail(field, problem);
  *out = *n;
  return true;
}

bool ArgReader::Number(const char* field, double* out, Need need, std::string_view problem) {
  const json* v = Find(field, need, problem);
  if (v == nullptr) return need == Need::kOptional;
  if (!v->is_number()) return Fail(field, problem);
  *out = v->get<double>();
  return true;
}

bool ArgReader::Port(const char* field, uint16_t* out, Need need, std::string_view problem) {
  const json* v = Find(field, need, problem);
  if (v == nullptr) return need == Need::kOptional;
  if (const std::optional<uint64_t> n = AsUnsigned(*v)) {
    if (*n > std::numeric_limits<uint16_t>::max()) return Fail(field, problem);
    *out = static_cast<uint16_t>(*n);
    return true;
  }
  if (v->is_string() && port_by_name_ != nullptr && *port_by_name_) {
    if (const std::optional<uint16_t> p = (*port_by_name_)(v->get<std::string>())) {
      *out = *p;
      return true;
    }
  }
  return Fail(field, problem);
}

bool GetArgs::Parse(ArgReader& r, GetArgs* out) {
  const auto it = r.args().find("kind");
  if (it == r.args().end() || !it->is_string())
    return r.FailWith("get: needs \"kind\" (" + config::KindNames() + ")");
  const std::optional<config::Kind> kind = config::ParseKind(it->get<std::string>());
  if (!kind) return r.FailWith("get: unknown kind (" + config::KindNames() + ")");
  out->kind = *kind;
  return true;
}

void Operations::AddHandler(std::string name, Handler handler, bool offered) {
  for (Op& op : ops_) {
    if (op.name != name) continue;
    op = Op{std::move(name), std::move(handler), offered};
    return;
  }
  ops_.push_back(Op{std::move(name), std::move(handler), offered});
}

void Operations::Refuse(std::string name, std::string reason) {
  AddHandler(
      std::move(name), [reason = std::move(reason)](ArgReader&) { return Response::Error(reason); },
      false);
}

std::string Operations::Names() const {
  std::string names;
  for (const Op& op : ops_)
    if (op.offered) names += (names.empty() ? "" : ", ") + op.name;
  return names;
}

Response Operations::Handle(const config::Request& request) {
  for (const Op& op : ops_) {
    if (op.name != request.op) continue;
    ArgReader reader(request.op, request.args, &port_by_name_);
    if (request.op != "apply" && request.op != "new" && request.op != "set" && request.op != "remove")
      return op.handler(reader);
    const auto t0 = std::chrono::steady_clock::now();
    Response r = op.handler(reader);
    if (r.ok)
      last_apply_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
  return Response::Error("unknown operation \"" + request.op + "\" (" + Names() + ")");
}

}  // namespace hnv::daemon
