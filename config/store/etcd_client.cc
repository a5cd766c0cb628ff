#include "config/store/etcd_client.h"

#include <fstream>
#include <sstream>

#include "config/store/etcd_grpc.h"

namespace hnv::store {
namespace {

using Code = EtcdStatus::Code;

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool IsIpv4HostPort(const std::string& hp) {
  const size_t colon = hp.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  return hp.find_first_not_of("0123456789.") == colon;
}

bool IsIpv6HostPort(const std::string& hp) { return !hp.empty() && hp[0] == '['; }

// The gRPC target for the endpoints: a list of literal addresses (pick_first
// tries them in order), or the first endpoint by DNS name.
std::string Target(const std::vector<std::string>& endpoints) {
  bool all_v4 = true, all_v6 = true;
  for (const std::string& e : endpoints) {
    all_v4 = all_v4 && IsIpv4HostPort(e);
    all_v6 = all_v6 && IsIpv6HostPort(e);
  }
  if (all_v4 || all_v6) {
    std::string t = all_v4 ? "ipv4:" : "ipv6:";
    for (size_t i = 0; i < endpoints.size(); ++i) t += (i ? "," : "") + endpoints[i];
    return t;
  }
  return "dns:///" + endpoints.front();
}

std::string HostOf(const std::string& host_port) {
  if (IsIpv6HostPort(host_port)) return host_port.substr(1, host_port.find(']') - 1);
  return host_port.substr(0, host_port.rfind(':'));
}

void FillRange(RangeResult* r, const etcdserverpb::RangeResponse& resp) {
  r->revision = resp.header().revision();
  r->more = resp.more();
  r->count = resp.count();
  r->kvs.reserve(r->kvs.size() + static_cast<size_t>(resp.kvs_size()));
  for (const mvccpb::KeyValue& kv : resp.kvs()) r->kvs.push_back(FromProto(kv));
}

void ToProto(const Compare& c, etcdserverpb::Compare* p) {
  p->set_key(c.key);
  switch (c.result) {
    case Compare::Result::kEqual: p->set_result(etcdserverpb::Compare::EQUAL); break;
    case Compare::Result::kGreater: p->set_result(etcdserverpb::Compare::GREATER); break;
    case Compare::Result::kLess: p->set_result(etcdserverpb::Compare::LESS); break;
    case Compare::Result::kNotEqual: p->set_result(etcdserverpb::Compare::NOT_EQUAL); break;
  }
  switch (c.target) {
    case Compare::Target::kVersion:
      p->set_target(etcdserverpb::Compare::VERSION);
      p->set_version(c.number);
      break;
    case Compare::Target::kCreateRevision:
      p->set_target(etcdserverpb::Compare::CREATE);
      p->set_create_revision(c.number);
      break;
    case Compare::Target::kModRevision:
      p->set_target(etcdserverpb::Compare::MOD);
      p->set_mod_revision(c.number);
      break;
    case Compare::Target::kValue:
      p->set_target(etcdserverpb::Compare::VALUE);
      p->set_value(c.value);
      break;
  }
}

void ToProto(const TxnOp& op, etcdserverpb::RequestOp* p) {
  switch (op.kind) {
    case TxnOp::Kind::kPut: {
      etcdserverpb::PutRequest* put = p->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::kDelete: {
      etcdserverpb::DeleteRangeRequest* del = p->mutable_request_delete_range();
      del->set_key(op.key);
      del->set_range_end(op.range_end);
      break;
    }
    case TxnOp::Kind::kRange: {
      etcdserverpb::RangeRequest* range = p->mutable_request_range();
      range->set_key(op.key);
      range->set_range_end(op.range_end);
      break;
    }
  }
}

}  // namespace

std::string EtcdStatus::ToString() const {
  static constexpr const char* kNames[] = {"ok",          "unavailable",     "compacted",
                                           "permission denied", "unauthenticated", "not found",
                                           "invalid",     "failed"};
  const char* name = kNames[static_cast<int>(code)];
  return message.empty() ? name : std::string(name) + ": " + message;
}

EtcdStatus FromGrpc(const grpc::Status& s) {
  if (s.ok()) return {};
  EtcdStatus st;
  st.message = s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      st.code = Code::kUnavailable;
      break;
    case grpc::StatusCode::OUT_OF_RANGE:
      st.code = st.message.find("compacted") != std::string::npos ? Code::kCompacted
                                                                   : Code::kInvalid;
      break;
    case grpc::StatusCode::PERMISSION_DENIED: st.code = Code::kPermissionDenied; break;
    case grpc::StatusCode::UNAUTHENTICATED: st.code = Code::kUnauthenticated; break;
    case grpc::StatusCode::NOT_FOUND: st.code = Code::kNotFound; break;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
      // etcd says "user name is empty" or "invalid auth token" with
      // InvalidArgument in some paths: both mean the token is the problem.
      st.code = st.message.find("auth token") != std::string::npos ||
                        st.message.find("user name is empty") != std::string::npos
                    ? Code::kUnauthenticated
                    : Code::kInvalid;
      break;
    default: st.code = Code::kFailed; break;
  }
  return st;
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(),     kv.value(),   kv.create_revision(),
                  kv.mod_revision(), kv.version(), kv.lease()};
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

std::optional<EtcdOptions> ParseEndpoints(const std::string& urls, std::string* error) {
  EtcdOptions o;
  int https = 0;
  size_t start = 0;
  while (start <= urls.size()) {
    size_t comma = urls.find(',', start);
    if (comma == std::string::npos) comma = urls.size();
    std::string u = urls.substr(start, comma - start);
    start = comma + 1;
    if (u.empty()) continue;
    if (u.rfind("https://", 0) == 0) {
      ++https;
      u = u.substr(8);
    } else if (u.rfind("http://", 0) == 0) {
      u = u.substr(7);
    } else if (u.find("://") != std::string::npos) {
      *error = u + ": not an etcd endpoint (http://HOST:PORT or https://HOST:PORT)";
      return std::nullopt;
    }
    while (!u.empty() && u.back() == '/') u.pop_back();
    const size_t colon = u.rfind(':');
    const bool has_port = colon != std::string::npos && colon + 1 < u.size() &&
                          u.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
                          (u[0] != '[' || u[colon - 1] == ']');
    if (u.empty() || !has_port) {
      *error = u + ": not HOST:PORT";
      return std::nullopt;
    }
    o.endpoints.push_back(u);
  }
  if (o.endpoints.empty()) {
    *error = "no etcd endpoint in \"" + urls + "\"";
    return std::nullopt;
  }
  if (https != 0 && https != static_cast<int>(o.endpoints.size())) {
    *error = "\"" + urls + "\" mixes http:// and https:// endpoints";
    return std::nullopt;
  }
  o.tls = https != 0;
  return o;
}

// ---------------------------------------------------------------------------

void EtcdClient::Impl::Prepare(grpc::ClientContext* ctx, bool deadline) {
  // Wait for a connection (up to the deadline) rather than fail at once
  // while the channel reconnects: a waiting call is also what makes gRPC
  // drive the reconnection (without one, only its backup poller does, every
  // 5 s).
  ctx->set_wait_for_ready(true);
  if (deadline)
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(options.timeout_ms));
  std::lock_guard<std::mutex> lock(token_mu);
  if (!token.empty()) ctx->AddMetadata("token", token);
}

std::string EtcdClient::Impl::Authenticate() {
  etcdserverpb::AuthenticateRequest req;
  req.set_name(options.user);
  req.set_password(options.password);
  etcdserverpb::AuthenticateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(options.timeout_ms));
  const EtcdStatus st = FromGrpc(auth->Authenticate(&ctx, req, &resp));
  if (!st.ok()) return "etcd authentication as " + options.user + ": " + st.ToString();
  std::lock_guard<std::mutex> lock(token_mu);
  token = resp.token();
  return "";
}

EtcdClient::EtcdClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdClient::~EtcdClient() = default;

const EtcdOptions& EtcdClient::options() const { return impl_->options; }

std::unique_ptr<EtcdClient> EtcdClient::Connect(const EtcdOptions& options, std::string* error) {
  if (options.endpoints.empty()) {
    *error = "no etcd endpoint";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  grpc::ChannelArguments args;
  // Whole-store reads are paged (RangePrefix) but one tenant's bundle can be
  // large; etcd's own request limit is 1.5 MiB by default.
  args.SetMaxReceiveMessageSize(64 << 20);
  // Notice a dead member of a quiet channel (watches only) within seconds.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Reconnect quickly after the store comes back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Each client its own connection, as separate hosts would have.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  const bool tls = options.tls || !options.ca_file.empty();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty() && !ReadFile(options.ca_file, &ssl.pem_root_certs, error))
      return nullptr;
    if (!options.cert_file.empty() || !options.key_file.empty()) {
      if (options.cert_file.empty() || options.key_file.empty()) {
        *error = "a client certificate needs both a certificate and a key file";
        return nullptr;
      }
      if (!ReadFile(options.cert_file, &ssl.pem_cert_chain, error) ||
          !ReadFile(options.key_file, &ssl.pem_private_key, error))
        return nullptr;
    }
    creds = grpc::SslCredentials(ssl);
    // A list of literal addresses has no authority of its own: check the
    // server's certificate against the first endpoint's host.
    args.SetSslTargetNameOverride(HostOf(options.endpoints.front()));
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  impl->channel = grpc::CreateCustomChannel(Target(options.endpoints), creds, args);
  impl->kv = etcdserverpb::KV::NewStub(impl->channel);
  impl->watch = etcdserverpb::Watch::NewStub(impl->channel);
  impl->lease = etcdserverpb::Lease::NewStub(impl->channel);
  impl->auth = etcdserverpb::Auth::NewStub(impl->channel);
  if (!options.user.empty()) {
    *error = impl->Authenticate();
    if (!error->empty()) return nullptr;
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(impl)));
}

RangeResult EtcdClient::Get(const std::string& key, int64_t revision) {
  return Range(key, "", revision, 0);
}

RangeResult EtcdClient::Range(const std::string& key, const std::string& range_end,
                              int64_t revision, int64_t limit) {
  etcdserverpb::RangeRequest req;
  req.set_key(key);
  req.set_range_end(range_end);
  req.set_revision(revision);
  req.set_limit(limit);
  etcdserverpb::RangeResponse resp;
  RangeResult r;
  r.status = impl_->Call([&](grpc::ClientContext* ctx) { return impl_->kv->Range(ctx, req, &resp); });
  if (r.status.ok()) FillRange(&r, resp);
  return r;
}

RangeResult EtcdClient::RangePrefix(const std::string& prefix, int64_t revision, int64_t page) {
  const std::string end = PrefixEnd(prefix);
  RangeResult all;
  std::string from = prefix;
  for (;;) {
    RangeResult r = Range(from, end, revision, page);
    if (!r.status.ok()) return r;
    // Every page at the revision of the first, so the whole is one snapshot.
    if (revision == 0) revision = r.revision;
    all.revision = revision;
    const bool more = r.more && !r.kvs.empty();
    if (more) from = r.kvs.back().key + std::string(1, '\0');
    for (KeyValue& kv : r.kvs) all.kvs.push_back(std::move(kv));
    if (!more) break;
  }
  all.count = static_cast<int64_t>(all.kvs.size());
  return all;
}

TxnResult EtcdClient::Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                          const std::vector<TxnOp>& failure) {
  etcdserverpb::TxnRequest req;
  for (const Compare& c : compares) ToProto(c, req.add_compare());
  for (const TxnOp& op : success) ToProto(op, req.add_success());
  for (const TxnOp& op : failure) ToProto(op, req.add_failure());
  etcdserverpb::TxnResponse resp;
  TxnResult r;
  r.status = impl_->Call([&](grpc::ClientContext* ctx) { return impl_->kv->Txn(ctx, req, &resp); });
  if (!r.status.ok()) return r;
  r.succeeded = resp.succeeded();
  r.revision = resp.header().revision();
  for (const etcdserverpb::ResponseOp& op : resp.responses()) {
    if (!op.has_response_range()) continue;
    RangeResult range;
    FillRange(&range, op.response_range());
    r.ranges.push_back(std::move(range));
  }
  return r;
}

EtcdStatus EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease,
                           int64_t* revision) {
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  etcdserverpb::PutResponse resp;
  EtcdStatus st =
      impl_->Call([&](grpc::ClientContext* ctx) { return impl_->kv->Put(ctx, req, &resp); });
  if (st.ok() && revision != nullptr) *revision = resp.header().revision();
  return st;
}

EtcdStatus EtcdClient::Delete(const std::string& key, const std::string& range_end,
                              int64_t* revision) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(key);
  req.set_range_end(range_end);
  etcdserverpb::DeleteRangeResponse resp;
  EtcdStatus st = impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->kv->DeleteRange(ctx, req, &resp); });
  if (st.ok() && revision != nullptr) *revision = resp.header().revision();
  return st;
}

EtcdStatus EtcdClient::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  etcdserverpb::CompactionResponse resp;
  return impl_->Call([&](grpc::ClientContext* ctx) { return impl_->kv->Compact(ctx, req, &resp); });
}

LeaseResult EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse resp;
  LeaseResult r;
  r.status = impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->lease->LeaseGrant(ctx, req, &resp); });
  if (r.status.ok() && !resp.error().empty()) r.status = {Code::kFailed, resp.error()};
  if (r.status.ok()) {
    r.id = resp.id();
    r.ttl = resp.ttl();
  }
  return r;
}

EtcdStatus EtcdClient::LeaseRevoke(int64_t id, int timeout_ms) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(id);
  etcdserverpb::LeaseRevokeResponse resp;
  return impl_->Call([&](grpc::ClientContext* ctx) {
    if (timeout_ms > 0)
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    return impl_->lease->LeaseRevoke(ctx, req, &resp);
  });
}

LeaseResult EtcdClient::LeaseTimeToLive(int64_t id) {
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(id);
  etcdserverpb::LeaseTimeToLiveResponse resp;
  LeaseResult r;
  r.status = impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->lease->LeaseTimeToLive(ctx, req, &resp); });
  if (r.status.ok()) {
    r.id = resp.id();
    r.ttl = resp.ttl();
  }
  return r;
}

EtcdStatus EtcdClient::UserAdd(const std::string& name, const std::string& password) {
  etcdserverpb::AuthUserAddRequest req;
  req.set_name(name);
  req.set_password(password);
  // No password: the user signs in only by a client certificate's CN.
  if (password.empty()) req.mutable_options()->set_no_password(true);
  etcdserverpb::AuthUserAddResponse resp;
  return impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->auth->UserAdd(ctx, req, &resp); });
}

EtcdStatus EtcdClient::RoleAdd(const std::string& name) {
  etcdserverpb::AuthRoleAddRequest req;
  req.set_name(name);
  etcdserverpb::AuthRoleAddResponse resp;
  return impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->auth->RoleAdd(ctx, req, &resp); });
}

EtcdStatus EtcdClient::RoleGrantPermission(const std::string& role, const std::string& key,
                                           const std::string& range_end, Permission permission) {
  etcdserverpb::AuthRoleGrantPermissionRequest req;
  req.set_name(role);
  authpb::Permission* p = req.mutable_perm();
  p->set_key(key);
  p->set_range_end(range_end);
  p->set_permtype(permission == Permission::kRead    ? authpb::Permission::READ
                  : permission == Permission::kWrite ? authpb::Permission::WRITE
                                                     : authpb::Permission::READWRITE);
  etcdserverpb::AuthRoleGrantPermissionResponse resp;
  return impl_->Call([&](grpc::ClientContext* ctx) {
    return impl_->auth->RoleGrantPermission(ctx, req, &resp);
  });
}

EtcdStatus EtcdClient::UserGrantRole(const std::string& user, const std::string& role) {
  etcdserverpb::AuthUserGrantRoleRequest req;
  req.set_user(user);
  req.set_role(role);
  etcdserverpb::AuthUserGrantRoleResponse resp;
  return impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->auth->UserGrantRole(ctx, req, &resp); });
}

EtcdStatus EtcdClient::AuthEnable() {
  etcdserverpb::AuthEnableRequest req;
  etcdserverpb::AuthEnableResponse resp;
  return impl_->Call(
      [&](grpc::ClientContext* ctx) { return impl_->auth->AuthEnable(ctx, req, &resp); });
}

}  // namespace hnv::store
