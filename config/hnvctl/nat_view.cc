#include "config/hnvctl/nat_view.h"

#include <cstdio>
#include <string>
#include <vector>

namespace hnv::ctl {
namespace {

using nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

std::string Text(const json& o, const char* key) {
  if (!o.is_object()) return "-";
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

const json& Sub(const json& o, const char* key) {
  static const json kNull;
  if (!o.is_object()) return kNull;
  const auto it = o.find(key);
  return it == o.end() ? kNull : *it;
}

// "name value" lines of an object of numbers.
std::string Numbers(const char* title, const json& o) {
  if (!o.is_object() || o.empty()) return std::string(title) + ": none\n";
  Rows rows;
  for (const auto& [k, v] : o.items()) rows.push_back({k, Text(o, k.c_str())});
  return std::string(title) + ":\n" + Table(rows, 1);
}

}  // namespace

Rendered RenderNat(const json& r) {
  Rendered out;
  if (!r.is_object()) {
    out.error = "unexpected answer: " + r.dump();
    return out;
  }
  std::string t = "Tenant: " + Text(r, "name") + "\n";
  if (!Sub(r, "enabled").is_boolean() || !r["enabled"].get<bool>()) {
    out.text = t + "NAT: not configured\n";
    return out;
  }
  std::string addrs;
  for (const json& a : Sub(r, "addresses"))
    if (a.is_string()) addrs += (addrs.empty() ? "" : ", ") + a.get<std::string>();
  t += "Addresses: " + (addrs.empty() ? std::string("- (static rules only)") : addrs) + "\n";
  t += "Sessions: " + Text(r, "sessions_live") + " of " + Text(r, "sessions_capacity") +
       ", mappings " + Text(r, "mappings") + ", inside hosts " + Text(r, "hosts") + "\n";
  t += Numbers("Counters", Sub(r, "counters"));
  t += Numbers("Dropped", Sub(r, "dropped"));
  const json& s = Sub(r, "sessions");
  if (s.is_array() && !s.empty()) {
    Rows rows = {{"PROTO", "INSIDE", "OUTSIDE", "REMOTE", "WORKER", "EXPIRES(s)"}};
    for (const json& e : s)
      rows.push_back({Text(e, "protocol"), Text(e, "inside"), Text(e, "outside"),
                      Text(e, "remote"), Text(e, "worker"), Text(e, "expires_in_s")});
    t += Table(rows, 4);
  } else {
    t += "no sessions\n";
  }
  out.text = std::move(t);
  return out;
}

Rendered RenderLb(const json& r) {
  Rendered out;
  if (!r.is_object()) {
    out.error = "unexpected answer: " + r.dump();
    return out;
  }
  std::string t = "Tenant: " + Text(r, "name") + "\n";
  const json& lbs = Sub(r, "load_balancers");
  if (!lbs.is_array() || lbs.empty()) {
    out.text = t + "no load balancers\n";
    return out;
  }
  for (const json& lb : lbs) {
    t += "\nLoad balancer " + Text(lb, "name") + ": " + Text(lb, "protocol") + " " +
         Text(lb, "vip") + ":" + Text(lb, "port") + ", table " + Text(lb, "table_size") +
         ", health check " + Text(lb, "health") + "\n";
    Rows rows = {{"BACKEND", "HEALTHY", "WEIGHT", "ENTRIES", "SHARE", "CHECKS", "LAST ERROR"}};
    for (const json& b : Sub(lb, "backends")) {
      char share[32] = "-";
      if (Sub(b, "table_share").is_number())
        std::snprintf(share, sizeof share, "%.1f%%", 100.0 * b["table_share"].get<double>());
      rows.push_back({Text(b, "address") + ":" + Text(b, "port"), Text(b, "healthy"),
                      Text(b, "weight"), Text(b, "table_entries"), share, Text(b, "checks"),
                      Text(b, "last_error")});
    }
    t += Table(rows, 2);
  }
  t += "\nTracked connections: " + Text(r, "connections") + "\n";
  t += Numbers("Counters", Sub(r, "counters"));
  t += Numbers("Dropped", Sub(r, "dropped"));
  out.text = std::move(t);
  return out;
}

}  // namespace hnv::ctl
