#include "daemon/store_binding.h"

#include <set>

#include "daemon/log.h"

namespace hnv::daemon {

using config::Response;
using nlohmann::json;

namespace {

// How long a status and learned records outlive a host that stopped
// refreshing its lease (a dead host leaves `hnvctl status` after this).
constexpr int64_t kStatusTtlSeconds = 10;
constexpr int kStoreCallTimeoutMs = 2000;

}  // namespace

StoreBinding::StoreBinding(StoreOptions options) : options_(std::move(options)) {}

StoreBinding::~StoreBinding() {
  // A crash-like end (no Stop): the lease lives out its TTL.
  if (follower_) follower_->Stop(/*revoke=*/false);
}

std::string StoreBinding::Describe() const {
  return "store " + options_.url + " as host " + options_.host;
}

void StoreBinding::RegisterOperations(Operations& ops) {
  ops.Add<NoArgs>("store", [this](const NoArgs&) {
    if (!follower_) return Response::Error("store: not connected yet");
    const store::StoreFollower::Health h = follower_->health();
    return Response{true,
                    {{"store", options_.url},
                     {"host", options_.host},
                     {"connected", h.connected},
                     {"generation", h.generation},
                     {"revision", h.revision},
                     {"applied_generation", h.applied_generation},
                     {"applied_revision", h.applied_revision},
                     {"policies", h.policies},
                     {"incomplete", h.incomplete},
                     {"resyncs", h.resyncs},
                     {"disconnects", h.disconnects},
                     {"lease", h.lease},
                     {"last_error", h.last_error}},
                    {}};
  });
  const std::string why = "this host follows the policy store (" + options_.url +
                          "): change the policy there with `hnvctl --store " + options_.url + " ...`";
  for (const char* op : {"new", "set", "remove", "apply"}) ops.Refuse(op, std::string(op) + ": " + why);
}

std::optional<store::FollowedPolicy> StoreBinding::Start(std::chrono::milliseconds wait,
                                                         std::string* error) {
  std::optional<store::EtcdOptions> eo = store::ParseEndpoints(options_.url, error);
  if (!eo) {
    *error = "--store: " + *error;
    return std::nullopt;
  }
  eo->ca_file = options_.ca_file;
  eo->cert_file = options_.cert_file;
  eo->key_file = options_.key_file;
  if (!eo->ca_file.empty()) eo->tls = true;
  // A reachable store answers in milliseconds; an unreachable one must not
  // hold the follower (or a stopping daemon) for long.
  eo->timeout_ms = kStoreCallTimeoutMs;
  client_ = store::EtcdClient::Connect(*eo, error);
  if (!client_) {
    *error = "--store " + options_.url + ": " + *error;
    return std::nullopt;
  }
  store::FollowerOptions fo;
  fo.host = options_.host;
  fo.layout = options_.root.empty() ? store::Layout() : store::Layout(options_.root);
  fo.status_ttl_s = kStatusTtlSeconds;
  follower_ = std::make_unique<store::StoreFollower>(client_.get(), std::move(fo));
  follower_->Start();
  const auto end = std::chrono::steady_clock::now() + wait;
  auto next_note = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    std::optional<store::FollowedPolicy> p = follower_->Take(std::chrono::milliseconds(200));
    if (p) return p;
    if (std::chrono::steady_clock::now() >= next_note) {
      Log("waiting for the %s: %s", Describe().c_str(), follower_->health().last_error.c_str());
      next_note += std::chrono::seconds(5);
    }
  }
  const std::string last = follower_->health().last_error;
  *error = "no policy from the " + Describe() + " within " +
           std::to_string(wait.count() / 1000) + " s" + (last.empty() ? "" : ": " + last);
  return std::nullopt;
}

std::optional<store::FollowedPolicy> StoreBinding::Next() { return follower_->Take(); }

void StoreBinding::Applied(const store::FollowedPolicy& p, bool applied,
                           std::vector<std::string> errors, size_t records) {
  for (const std::string& e : p.policy.errors) Log("store: %s (left out)", e.c_str());
  if (!p.incomplete.empty()) Log("store: policy %s", p.incomplete.c_str());
  if (applied)
    Log("store generation %llu applied (revision %lld, %zu lookup records, %zu tenants)%s",
        static_cast<unsigned long long>(p.generation), static_cast<long long>(p.revision), records,
        p.policy.tenants.size(), errors.empty() ? "" : " with errors");
  for (const std::string& e : errors) Log("store generation %llu: %s",
                                          static_cast<unsigned long long>(p.generation), e.c_str());
  follower_->Applied(p, applied, std::move(errors), records);
}

void StoreBinding::Learned(const LookupRecord& record) { follower_->Learned(record); }

void StoreBinding::PortsGone(const std::vector<VmPort>& before, const std::vector<VmPort>& after) {
  std::set<std::pair<uint32_t, MacAddr>> kept;
  for (const VmPort& v : after) kept.emplace(v.vsid, v.mac);
  for (const VmPort& v : before)
    if (!kept.count({v.vsid, v.mac})) follower_->PortGone(v.vsid, v.mac);
}

void StoreBinding::Stop() {
  if (follower_) follower_->Stop(/*revoke=*/true);
}

config::HostConfig StoreBinding::HostConfigOf(const store::FollowedPolicy& p) {
  config::HostConfig c;
  c.host_name = p.host.name;
  c.control_socket = "/run/hnv/" + p.host.name + ".sock";
  c.ports = p.policy.ports;
  c.policy = p.policy.policy;
  return c;
}

config::GatewayConfig StoreBinding::GatewayConfigOf(const store::FollowedPolicy& p) {
  config::GatewayConfig g;
  g.host = HostConfigOf(p);
  g.namespace_prefix = p.host.namespace_prefix;
  g.state_dir = p.host.state_dir.empty() ? "/var/lib/hnv/" + p.host.name : p.host.state_dir;
  g.compartments = p.policy.compartments;
  return g;
}

}  // namespace hnv::daemon
