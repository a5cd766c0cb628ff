#include "config/policy_ops.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

namespace hnv::config {
namespace {

using nlohmann::json;

bool IsUnspecified(const json& v) {
  return v.is_string() && (v.get<std::string>() == "0.0.0.0" || v.get<std::string>() == "::");
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Whether `e` (an object's JSON) has every field of `given` with its value.
bool HasFields(const json& e, const json& given) {
  for (auto it = given.begin(); it != given.end(); ++it)
    if (!e.contains(it.key()) || e[it.key()] != it.value()) return false;
  return true;
}

template <typename T, typename FromFn>
std::string ApplyTo(std::vector<T>* vec, const Change& c, FromFn from,
                    const FromJsonOptions& options) {
  FromJsonOptions partial = options;
  partial.mode = Mode::kPartial;
  auto norm = NormalizeObject(c.kind, c.object, partial);
  if (norm.error) return norm.error->ToString();
  const json& given = *norm.value;
  const std::vector<std::string> id = IdentityFields(c.kind, given);
  const std::string what = KindName(c.kind);
  auto same = [&](const json& a, const json& b, bool all_required) {
    for (const std::string& f : id) {
      if (!b.contains(f)) {
        if (all_required) return false;
        continue;
      }
      if (!a.contains(f) || a[f] != b[f]) return false;
    }
    return true;
  };

  if (c.op == "new") {
    FromJsonOptions full = options;
    full.mode = Mode::kFull;
    auto r = from(c.object, full);
    if (r.error) return r.error->ToString();
    const json obj = ToJson(*r.value);
    for (const T& e : *vec)
      if (same(ToJson(e), obj, false))
        return what + " " + Join(id) + " already exists (use set to change it)";
    vec->push_back(*r.value);
    return "";
  }
  if (c.op == "set" || c.op == "upsert") {
    for (const std::string& f : id)
      if (!given.contains(f)) return c.op + " " + what + " needs " + Join(id) + " to find it";
    std::vector<size_t> hits;
    for (size_t i = 0; i < vec->size(); ++i)
      if (same(ToJson((*vec)[i]), given, true)) hits.push_back(i);
    if (hits.empty()) {
      if (c.op == "upsert") return ApplyTo(vec, Change{"new", c.kind, c.object}, from, options);
      return "no " + what + " with that " + Join(id) + " (use new to create it)";
    }
    if (hits.size() > 1) return "several " + what + "s match; give more of " + Join(id);
    json merged = ToJson((*vec)[hits[0]]);
    for (auto it = given.begin(); it != given.end(); ++it) merged[it.key()] = it.value();
    FromJsonOptions full = options;
    full.mode = Mode::kFull;
    auto r = from(merged, full);
    if (r.error) return r.error->ToString();
    (*vec)[hits[0]] = *r.value;
    return "";
  }
  if (c.op == "remove") {
    bool any_id = false;
    for (const std::string& f : id) any_id |= given.contains(f);
    if (!any_id) return "remove " + what + " needs at least one of " + Join(id);
    const size_t before = vec->size();
    std::erase_if(*vec, [&](const T& e) { return HasFields(ToJson(e), given); });
    if (vec->size() == before) return "no " + what + " matches";
    return "";
  }
  return "unknown change '" + c.op + "' (new, set, remove)";
}

// Port ACLs as Hyper-V changes them: Remove-VMNetworkAdapterAcl -Direction
// Inbound (or Outbound) also takes that direction off the Both rules it
// otherwise names, which stay in place for the other direction (merged into
// such a rule when one exists already: a rule is kept once). The rest is
// ApplyTo's.
std::string ApplyToPortAcls(std::vector<PortAcl>* vec, const Change& c,
                            const FromJsonOptions& options) {
  FromJsonOptions partial = options;
  partial.mode = Mode::kPartial;
  auto norm = NormalizeObject(c.kind, c.object, partial);
  if (c.op != "remove" || norm.error || !norm.value->contains("direction") ||
      (*norm.value)["direction"] == "Both")
    return ApplyTo(vec, c, PortAclFromJson, options);
  json both = *norm.value;
  const AclDirection other =
      both["direction"] == "Inbound" ? AclDirection::kOutbound : AclDirection::kInbound;
  both["direction"] = "Both";
  std::vector<PortAcl> copy = *vec;
  bool split = false;
  for (PortAcl& a : copy) {
    if (!HasFields(ToJson(a), both)) continue;
    a.direction = other;
    split = true;
  }
  std::string err = ApplyTo(&copy, c, PortAclFromJson, options);  // the rules of that direction
  if (split && err == std::string("no ") + KindName(c.kind) + " matches") err.clear();
  if (!err.empty()) return err;
  std::vector<json> seen;
  std::erase_if(copy, [&](const PortAcl& a) {
    json aj = ToJson(a);
    if (std::find(seen.begin(), seen.end(), aj) != seen.end()) return true;
    seen.push_back(std::move(aj));
    return false;
  });
  *vec = std::move(copy);
  return "";
}

}  // namespace

std::vector<std::string> IdentityFields(Kind kind, const nlohmann::json& given) {
  switch (kind) {
    case Kind::kLookupRecord:
      if (given.contains("customer_address") && !IsUnspecified(given["customer_address"]))
        return {"vsid", "customer_address"};
      if (!given.contains("customer_address") && !given.contains("mac"))
        return {"vsid", "customer_address"};
      return {"vsid", "mac", "type"};
    case Kind::kCustomerRoute:
      return {"rdid", "destination"};
    case Kind::kProviderAddress:
      return {"address"};
    case Kind::kProviderRoute:
      return {"destination"};
    case Kind::kVmNetworkAdapter:
      return {"vm_name"};
    case Kind::kRoutingDomain:
      return {"rdid"};
    case Kind::kVirtualSubnet:
      return {"vsid"};
    case Kind::kPortAcl:  // every field: Hyper-V keeps the same rule once
      return {"vm_name", "direction", "action", "remote_ip_address", "remote_mac_address"};
    case Kind::kPortExtendedAcl:
      return {"vm_name", "direction", "weight"};
  }
  return {};
}

std::string ApplyChange(Policy* p, const Change& c, const FromJsonOptions& options) {
  Policy copy = *p;
  std::string err;
  switch (c.kind) {
    case Kind::kLookupRecord:
      err = ApplyTo(&copy.records, c, LookupRecordFromJson, options);
      break;
    case Kind::kCustomerRoute:
      err = ApplyTo(&copy.customer_routes, c, CustomerRouteFromJson, options);
      break;
    case Kind::kProviderAddress:
      err = ApplyTo(&copy.provider_addresses, c, ProviderAddressFromJson, options);
      break;
    case Kind::kProviderRoute:
      err = ApplyTo(&copy.provider_routes, c, ProviderRouteFromJson, options);
      break;
    case Kind::kVmNetworkAdapter:
      err = ApplyTo(&copy.vm_ports, c, VmPortFromJson, options);
      break;
    case Kind::kRoutingDomain:
      err = ApplyTo(&copy.routing_domains, c, RoutingDomainFromJson, options);
      break;
    case Kind::kVirtualSubnet:
      err = ApplyTo(&copy.subnets, c, VirtualSubnetFromJson, options);
      break;
    case Kind::kPortAcl:
      err = ApplyToPortAcls(&copy.port_acls, c, options);
      break;
    case Kind::kPortExtendedAcl:
      err = ApplyTo(&copy.port_extended_acls, c, PortExtendedAclFromJson, options);
      break;
  }
  if (err.empty()) *p = std::move(copy);
  return err;
}

RecordPlan PlanRecordChange(const RecordIndex& index, const Change& c,
                            const FromJsonOptions& options) {
  RecordPlan plan;
  if (c.kind != Kind::kLookupRecord) return plan;
  plan.handled = true;
  auto fail = [&](std::string e) {
    plan.error = std::move(e);
    return plan;
  };
  FromJsonOptions partial = options;
  partial.mode = Mode::kPartial;
  FromJsonOptions full = options;
  full.mode = Mode::kFull;
  auto norm = NormalizeObject(c.kind, c.object, partial);
  if (norm.error) return fail(norm.error->ToString());
  const json& given = *norm.value;
  const std::vector<std::string> id = IdentityFields(c.kind, given);
  const bool by_ca = id[1] == "customer_address";
  const std::string what = KindName(c.kind);
  // The records whose identity fields equal the key's (ApplyTo's `same`).
  auto hits = [&](const LookupRecord& key) {
    std::vector<uint32_t> out =
        by_ca ? index.FindByCa(key.vsid, key.ca) : index.FindByMac(key.vsid, key.mac);
    if (!by_ca) std::erase_if(out, [&](uint32_t s) { return index.record(s).type != key.type; });
    return out;
  };

  if (c.op == "new") {
    auto r = LookupRecordFromJson(c.object, full);
    if (r.error) return fail(r.error->ToString());
    if (!hits(*r.value).empty())
      return fail(what + " " + Join(id) + " already exists (use set to change it)");
    plan.edit = RecordEdit{RecordEdit::Op::kAppend, 0, *r.value};
    return plan;
  }
  if (c.op == "set" || c.op == "upsert") {
    for (const std::string& f : id)
      if (!given.contains(f)) return fail(c.op + " " + what + " needs " + Join(id) + " to find it");
    auto key = LookupRecordFromJson(given, partial);
    if (key.error) return fail(key.error->ToString());
    const std::vector<uint32_t> found = hits(*key.value);
    if (found.empty()) {
      if (c.op == "upsert")
        return PlanRecordChange(index, Change{"new", c.kind, c.object}, options);
      return fail("no " + what + " with that " + Join(id) + " (use new to create it)");
    }
    if (found.size() > 1) return fail("several " + what + "s match; give more of " + Join(id));
    json merged = ToJson(index.record(found[0]));
    for (auto it = given.begin(); it != given.end(); ++it) merged[it.key()] = it.value();
    auto r = LookupRecordFromJson(merged, full);
    if (r.error) return fail(r.error->ToString());
    plan.edit = RecordEdit{RecordEdit::Op::kReplace, found[0], *r.value};
    return plan;
  }
  if (c.op == "remove") {
    bool any_id = false;
    for (const std::string& f : id) any_id |= given.contains(f);
    if (!any_id) return fail("remove " + what + " needs at least one of " + Join(id));
    auto key = LookupRecordFromJson(given, partial);
    if (key.error) return fail(key.error->ToString());
    // Every record matching all the fields given has this VSID and this CA
    // (when specified) or this MAC.
    std::vector<uint32_t> candidates;
    if (given.contains("vsid") && given.contains("customer_address") &&
        !key.value->ca.IsUnspecified())
      candidates = index.FindByCa(key.value->vsid, key.value->ca);
    else if (given.contains("vsid") && given.contains("mac"))
      candidates = index.FindByMac(key.value->vsid, key.value->mac);
    else
      return RecordPlan{};
    std::erase_if(candidates, [&](uint32_t s) {
      const json ej = ToJson(index.record(s));
      for (auto it = given.begin(); it != given.end(); ++it)
        if (!ej.contains(it.key()) || ej[it.key()] != it.value()) return true;
      return false;
    });
    if (candidates.empty()) return fail("no " + what + " matches");
    if (candidates.size() > 1) return RecordPlan{};
    plan.edit = RecordEdit{RecordEdit::Op::kErase, candidates[0], {}};
    plan.edit.record = index.record(candidates[0]);
    return plan;
  }
  return fail("unknown change '" + c.op + "' (new, set, remove)");
}

std::string ParseChange(const std::string& op, const nlohmann::json& args, Change* out) {
  if (!args.is_object() || !args.contains("kind") || !args["kind"].is_string())
    return op + ": needs \"kind\" (" + KindNames() + ")";
  const auto kind = ParseKind(args["kind"].get<std::string>());
  if (!kind) return op + ": unknown kind \"" + args["kind"].get<std::string>() + "\" (" + KindNames() + ")";
  if (!args.contains("object") || !args["object"].is_object()) return op + ": needs \"object\"";
  *out = Change{op, *kind, args["object"]};
  return "";
}

nlohmann::json ChangeToJson(const Change& c) {
  return json{{"op", c.op}, {"kind", KindName(c.kind)}, {"object", c.object}};
}

std::string Journal::Append(const Change& c) {
  const std::string line = ChangeToJson(c).dump() + "\n";
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return "journal " + path_ + ": " + std::strerror(errno);
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  return ok ? "" : "journal " + path_ + ": " + std::strerror(saved);
}

std::vector<Change> Journal::Read(std::vector<std::string>* errors) const {
  std::vector<Change> out;
  std::ifstream in(path_);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    Change c;
    std::string err = j.is_discarded() || !j.contains("op") || !j["op"].is_string()
                          ? "not a change"
                          : ParseChange(j["op"].get<std::string>(), j, &c);
    if (!err.empty()) {
      errors->push_back(path_ + ":" + std::to_string(n) + ": " + err);
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string Journal::Rewrite(const std::vector<Change>& changes) {
  // Written and flushed to disk before it replaces the journal, and the
  // directory flushed after: a crash leaves the old journal or the new one.
  const std::string tmp = path_ + ".tmp";
  std::string text;
  for (const Change& c : changes) text += ChangeToJson(c).dump() + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return "journal " + tmp + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return "journal " + tmp + ": write failed: " + std::strerror(saved);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0)
    return "journal " + path_ + ": " + std::strerror(errno);
  const size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path_.substr(0, slash);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return "";
}

}  // namespace hnv::config
