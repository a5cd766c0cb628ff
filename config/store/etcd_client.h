// An etcd v3 client: the key-value, lease and auth calls the policy store
// needs, over etcd's own gRPC API (the .proto files in proto/, compiled at
// build time). Watches are etcd_watch.h, lease keep-alive etcd_lease.h.
//
// Connection: one gRPC channel to the endpoints given ("127.0.0.1:2379",
// "http://a:2379,http://b:2379", "https://..."); gRPC reconnects by itself
// and picks the first member that answers. TLS when the URL says https or a
// CA file is given, with a client certificate and key when given (etcd's
// --client-cert-auth). With a user name, the client authenticates
// (etcd's Authenticate) and sends the token with every call, and
// authenticates again once when etcd says the token is no longer valid.
//
// Every call has a deadline (EtcdOptions::timeout_ms) and returns an
// EtcdStatus; nothing throws. The headers here carry no gRPC or protobuf
// types, so users do not compile gRPC's headers.
//
// Thread: a client may be used from several threads at once (gRPC stubs are
// thread-safe; the token is under a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hnv::store {

struct EtcdOptions {
  // host:port, or URLs with http:// or https://; at least one.
  std::vector<std::string> endpoints;
  bool tls = false;       // set by an https:// endpoint too
  std::string ca_file;    // PEM; TLS without it trusts the system's roots
  std::string cert_file;  // PEM client certificate (with key_file)
  std::string key_file;
  std::string user;  // etcd auth; empty: no Authenticate (or the certificate's CN)
  std::string password;
  int timeout_ms = 5000;  // per call
};

// "http://127.0.0.1:2379,http://10.0.0.2:2379" -> endpoints (TLS when every
// one is https://). Errors name the offending part.
std::optional<EtcdOptions> ParseEndpoints(const std::string& urls, std::string* error);

struct EtcdStatus {
  enum class Code : uint8_t {
    kOk,
    kUnavailable,       // no member answered (down, unreachable, deadline)
    kCompacted,         // the revision asked for was compacted
    kPermissionDenied,  // etcd auth refused the call
    kUnauthenticated,   // bad user or password, or no token
    kNotFound,          // e.g. a lease that expired
    kInvalid,           // a request etcd refused (too many ops, duplicate key in a txn, ...)
    kFailed,            // anything else
  };
  Code code = Code::kOk;
  std::string message;  // etcd's own words, for the user

  bool ok() const { return code == Code::kOk; }
  std::string ToString() const;
  static EtcdStatus Ok() { return {}; }
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  EtcdStatus status;
  int64_t revision = 0;  // the store's revision the result is of
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
};

// A condition of a transaction: `target` of `key` compared with a number or
// a value.
struct Compare {
  enum class Target : uint8_t { kVersion, kCreateRevision, kModRevision, kValue };
  enum class Result : uint8_t { kEqual, kGreater, kLess, kNotEqual };
  Target target = Target::kModRevision;
  Result result = Result::kEqual;
  std::string key;
  int64_t number = 0;
  std::string value;

  // The key's mod revision is `revision` (0: the key does not exist).
  static Compare ModRevision(std::string key, int64_t revision) {
    return {Target::kModRevision, Result::kEqual, std::move(key), revision, {}};
  }
  // The key does not exist.
  static Compare Absent(std::string key) {
    return {Target::kVersion, Result::kEqual, std::move(key), 0, {}};
  }
  static Compare Value(std::string key, std::string value) {
    return {Target::kValue, Result::kEqual, std::move(key), 0, std::move(value)};
  }
};

// One operation of a transaction.
struct TxnOp {
  enum class Kind : uint8_t { kPut, kDelete, kRange };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  std::string range_end;  // kDelete, kRange: empty = the key alone
  int64_t lease = 0;      // kPut

  static TxnOp Put(std::string key, std::string value, int64_t lease = 0) {
    return {Kind::kPut, std::move(key), std::move(value), {}, lease};
  }
  static TxnOp Delete(std::string key, std::string range_end = {}) {
    return {Kind::kDelete, std::move(key), {}, std::move(range_end), 0};
  }
  static TxnOp Get(std::string key, std::string range_end = {}) {
    return {Kind::kRange, std::move(key), {}, std::move(range_end), 0};
  }
};

struct TxnResult {
  EtcdStatus status;
  bool succeeded = false;  // the comparisons held and `success` ran
  int64_t revision = 0;    // the store's revision after the transaction
  // The results of the branch's kRange ops, in order.
  std::vector<RangeResult> ranges;
};

struct LeaseResult {
  EtcdStatus status;
  int64_t id = 0;
  int64_t ttl = 0;  // seconds; <= 0: the lease is gone
};

// The end of the range of every key that starts with `prefix` (etcd's
// "range_end" for a prefix): the prefix with its last byte incremented.
std::string PrefixEnd(const std::string& prefix);

class EtcdClient {
 public:
  // Builds the channel (gRPC connects lazily) and, with a user, authenticates.
  // nullptr and *error when the options are unusable (unreadable certificate
  // files) or authentication is refused; an unreachable store is not an
  // error here: calls report it.
  static std::unique_ptr<EtcdClient> Connect(const EtcdOptions& options, std::string* error);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const EtcdOptions& options() const;

  // One key (kvs empty when absent), at `revision` (0: the latest).
  RangeResult Get(const std::string& key, int64_t revision = 0);
  // [key, range_end), at most `limit` keys (0: no limit), sorted by key.
  RangeResult Range(const std::string& key, const std::string& range_end, int64_t revision = 0,
                    int64_t limit = 0);
  // Every key with this prefix at one revision (the latest when 0), fetched
  // in pages of `page` keys so that no response exceeds gRPC's message size.
  RangeResult RangePrefix(const std::string& prefix, int64_t revision = 0, int64_t page = 2000);

  TxnResult Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                const std::vector<TxnOp>& failure = {});
  EtcdStatus Put(const std::string& key, const std::string& value, int64_t lease = 0,
                 int64_t* revision = nullptr);
  EtcdStatus Delete(const std::string& key, const std::string& range_end = {},
                    int64_t* revision = nullptr);
  // Compacts the history up to `revision` and waits until it is done.
  EtcdStatus Compact(int64_t revision);

  LeaseResult LeaseGrant(int64_t ttl_seconds);
  // timeout_ms > 0: wait no longer than that (a stopping host does not wait
  // for an unreachable store; the lease then lives out its TTL).
  EtcdStatus LeaseRevoke(int64_t id, int timeout_ms = 0);
  // The lease's remaining time to live (ttl <= 0 or kNotFound: expired).
  LeaseResult LeaseTimeToLive(int64_t id);

  // etcd auth administration (for `hnvctl store init` and tests).
  enum class Permission : uint8_t { kRead, kWrite, kReadWrite };
  // An empty password: the user has none and signs in only by a client
  // certificate whose CN is its name.
  EtcdStatus UserAdd(const std::string& name, const std::string& password);
  EtcdStatus RoleAdd(const std::string& name);
  EtcdStatus RoleGrantPermission(const std::string& role, const std::string& key,
                                 const std::string& range_end, Permission permission);
  EtcdStatus UserGrantRole(const std::string& user, const std::string& role);
  EtcdStatus AuthEnable();

  struct Impl;
  Impl& impl() { return *impl_; }  // for etcd_watch.cc and etcd_lease.cc

 private:
  explicit EtcdClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hnv::store
