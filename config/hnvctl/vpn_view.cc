#include "config/hnvctl/vpn_view.h"

#include <string>
#include <vector>

namespace hnv::ctl {
namespace {

using nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

const json& Object(const json& o, const char* key) {
  static const json kNull;
  return o.is_object() && o.contains(key) && o[key].is_object() ? o[key] : kNull;
}

std::string Joined(const json& list) {
  std::string s;
  if (list.is_array())
    for (const json& x : list) s += (s.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
  return s.empty() ? "-" : s;
}

// {"encryption": "AES_GCM_16-256", "prf": ..., "dh_group": ...} as "AES_GCM_16-256/PRF_.../ECP_384".
std::string Algorithms(const json& sa) {
  std::string s;
  const json& a = Object(sa, "algorithms");
  for (const char* k : {"encryption", "integrity", "prf", "dh_group"})
    if (a.is_object() && a.contains(k)) s += (s.empty() ? "" : "/") + Field(a, k);
  return s.empty() ? "-" : s;
}

void IkeSas(const json& sas, const std::string& indent, std::string* out) {
  for (const json& sa : sas) {
    *out += indent + "IKE SA " + Field(sa, "state") + "  " + Field(sa, "local") + " (" +
            Field(sa, "local_id") + ") <-> " + Field(sa, "remote") + " (" + Field(sa, "remote_id") +
            ")\n";
    *out += indent + "  " + Algorithms(sa) + ", established " +
            Field(sa, "established_since") + ", rekey in " + Field(sa, "rekey_in_seconds") + " s";
    if (sa.is_object() && sa.contains("virtual_ips")) *out += ", virtual IP " + Joined(sa["virtual_ips"]);
    *out += "\n";
    for (const json& c : Array(sa, "child_sas")) {
      *out += indent + "  CHILD SA " + Field(c, "state") + " " + Field(c, "mode") +
              (c.value("udp_encapsulation", false) ? " ESP-in-UDP" : "") + ", SPIs " +
              Field(c, "spi_in") + "/" + Field(c, "spi_out") + ", " + Algorithms(c) +
              ", installed " + Field(c, "installed_since") + "\n";
      *out += indent + "    in " + Field(c, "bytes_in") + " B / " + Field(c, "packets_in") +
              " packets, out " + Field(c, "bytes_out") + " B / " + Field(c, "packets_out") +
              " packets; " + Joined(c.value("local_ts", json())) + " === " +
              Joined(c.value("remote_ts", json())) + "\n";
    }
  }
}

}  // namespace

// "SAs as of 2026-12-07T20:40:01.123Z (350 ms ago)": how old the daemon's
// answer is (the gateway never waits for it: s2s/status_refresher.h).
static std::string AsOf(const json& j, const char* what, const char* error_key) {
  std::string s = "  " + std::string(what) + " ";
  if (!j.is_object() || !j.contains("as_of") || !j["as_of"].is_string())
    s += "not known yet (no answer from the daemon so far)";
  else
    s += "as of " + Field(j, "as_of") + " (" + Field(j, "age_ms") + " ms ago)";
  if (j.is_object() && j.contains(error_key)) s += "; last query failed: " + Field(j, error_key);
  return s + "\n";
}

Rendered RenderVpn(const json& result) {
  Rendered r;
  if (!result.is_object() || !result.contains("tenant")) {
    r.error = "unexpected result from the server: " +
              result.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 80);
    return r;
  }
  std::string& out = r.text;
  out += "VPN of tenant " + Field(result, "tenant") + "\n";

  const json& charon = Object(result, "charon");
  if (charon.is_null()) {
    out += "\nNo site-to-site connections or point-to-site\n";
  } else {
    const json& d = Object(charon, "daemon");
    out += "\ncharon: " + Field(d, "state") + " (pid " + Field(d, "pid") + ", restarts " +
           Field(d, "restarts") + ")\n";
    out += AsOf(charon, "SAs", "vici_error");
    out += "\nConnections\n";
    if (Array(charon, "connections").empty()) out += "none\n";
    for (const json& k : Array(charon, "connections")) {
      out += Field(k, "name") + "  " + Field(k, "state") + "  " + Field(k, "local") + " -> " +
             Field(k, "peer") + " (" + Field(k, "mode") + "-based)";
      const json& rk = Object(k, "rekeys");
      if (!rk.is_null()) out += ", rekeys IKE " + Field(rk, "ike") + ", CHILD " + Field(rk, "child");
      out += "\n";
      if (k.is_object() && k.contains("last_error")) out += "  last error: " + Field(k, "last_error") + "\n";
      IkeSas(Array(k, "ike_sas"), "  ", &out);
    }
    const json& p2s = Object(charon, "point_to_site");
    if (!p2s.is_null()) {
      out += "\nPoint-to-site (pool " + Field(p2s, "pool") + ")\n";
      if (Array(p2s, "clients").empty()) out += "no clients\n";
      IkeSas(Array(p2s, "clients"), "  ", &out);
    }
  }

  const json& frr = Object(result, "frr");
  if (frr.is_null()) {
    out += "\nNo BGP\n";
  } else {
    out += "\nBGP AS " + Field(frr, "asn") + ", router id " + Field(frr, "router_id");
    const json& ds = Object(frr, "daemons");
    for (const char* name : {"zebra", "bgpd"})
      out += std::string(", ") + name + " " + Field(Object(ds, name), "state");
    out += "\n" + AsOf(frr, "neighbours and table", "vtysh_error");
    Rows n = {{"NEIGHBOR", "AS", "CONNECTION", "STATE", "UP (s)", "RECEIVED", "SENT"}};
    for (const json& x : Array(frr, "neighbors"))
      n.push_back({Field(x, "address"), Field(x, "remote_asn"), Field(x, "connection"),
                   Field(x, "state"), Field(x, "up_seconds"), Field(x, "prefixes_received"),
                   Field(x, "prefixes_sent")});
    out += "\nNeighbors\n" + (n.size() == 1 ? std::string("none\n") : Table(n, 4));
    Rows t = {{"PREFIX", "NEXT HOP", "FROM", "AS PATH", "BEST"}};
    for (const json& x : Array(frr, "routes"))
      t.push_back({Field(x, "prefix"), Field(x, "next_hop"), Field(x, "from"), Field(x, "as_path"),
                   x.value("best", false) ? "yes" : "no"});
    out += "\nBGP table\n" + (t.size() == 1 ? std::string("empty\n") : Table(t, 5));
  }

  Rows routes = {{"DESTINATION", "NEXT HOP", "INTERFACE", "ORIGIN", "FAST PATH"}};
  for (const json& x : Array(result, "routes"))
    routes.push_back({Field(x, "destination"), Field(x, "next_hop"), Field(x, "interface"),
                      Field(x, "origin"), Field(x, "fast_path")});
  out += "\nRoutes in the compartment\n" +
         (routes.size() == 1 ? std::string("none\n") : Table(routes, 5));
  return r;
}

}  // namespace hnv::ctl
