// The etcd client against a real etcd: reads at a revision, conditional
// transactions, watches that resume after a cut without losing or repeating
// an event, compaction seen as such, leases that expire unless kept, TLS with
// client certificates, and etcd roles refusing what a user may not write.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/store/etcd_client.h"
#include "config/store/etcd_lease.h"
#include "config/store/etcd_watch.h"
#include "config/store/layout.h"
#include "config/store/roles.h"
#include "tests/unit/store/etcd_process.h"
#include "tests/unit/store/store_test_util.h"
#include "tests/unit/store/tcp_proxy.h"

namespace hnv::store {
namespace {

using test::WaitFor;

using test::EtcdProcess;
using test::TcpProxy;
using namespace std::chrono_literals;

// Collects what a WatchStream reports, for assertions from the test thread.
class Recorder {
 public:
  WatchStream::Callback Callback() {
    return [this](WatchUpdate& u) {
      std::lock_guard<std::mutex> lock(mu_);
      updates_.push_back(u);
      for (const WatchEvent& e : u.events)
        events_.push_back((e.is_delete ? "DEL " : "PUT ") + e.kv.key + "=" + e.kv.value + "@" +
                          std::to_string(e.kv.mod_revision));
    };
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  int Count(WatchUpdate::Kind kind) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const WatchUpdate& u : updates_) n += u.kind == kind;
    return n;
  }
  std::optional<WatchUpdate> Last(WatchUpdate::Kind kind) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = updates_.rbegin(); it != updates_.rend(); ++it)
      if (it->kind == kind) return *it;
    return std::nullopt;
  }

 private:
  std::mutex mu_;
  std::vector<WatchUpdate> updates_;
  std::vector<std::string> events_;
};

class EtcdClientTest : public test::EtcdSuite {
 protected:
  // Each test its own keys.
  std::string K(const std::string& k) const { return layout_.root() + k; }
};

TEST(EtcdEndpoints, Parse) {
  std::string error;
  auto o = ParseEndpoints("http://127.0.0.1:2379,http://127.0.0.2:2379/", &error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->endpoints, (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.2:2379"}));
  EXPECT_FALSE(o->tls);
  o = ParseEndpoints("https://etcd.example:2379", &error);
  ASSERT_TRUE(o) << error;
  EXPECT_TRUE(o->tls);
  EXPECT_FALSE(ParseEndpoints("http://a:1,https://b:2", &error));
  EXPECT_EQ(error, "\"http://a:1,https://b:2\" mixes http:// and https:// endpoints");
  EXPECT_FALSE(ParseEndpoints("etcd.example", &error));
  EXPECT_EQ(error, "etcd.example: not HOST:PORT");
  EXPECT_FALSE(ParseEndpoints("unix:///run/x", &error));
  EXPECT_EQ(PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
}

TEST_F(EtcdClientTest, ReadsAtARevisionAndInPages) {
  int64_t r1 = 0, r2 = 0;
  ASSERT_TRUE(client_->Put(K("a"), "1", 0, &r1).ok());
  ASSERT_TRUE(client_->Put(K("a"), "2", 0, &r2).ok());
  EXPECT_GT(r2, r1);
  RangeResult old = client_->Get(K("a"), r1);
  ASSERT_TRUE(old.status.ok()) << old.status.ToString();
  ASSERT_EQ(old.kvs.size(), 1u);
  EXPECT_EQ(old.kvs[0].value, "1");
  EXPECT_EQ(old.kvs[0].mod_revision, r1);
  RangeResult now = client_->Get(K("a"));
  ASSERT_EQ(now.kvs.size(), 1u);
  EXPECT_EQ(now.kvs[0].value, "2");
  EXPECT_EQ(now.kvs[0].version, 2);
  EXPECT_TRUE(client_->Get(K("missing")).kvs.empty());

  for (int i = 0; i < 25; ++i) ASSERT_TRUE(client_->Put(K("p/") + std::to_string(100 + i), "v").ok());
  int64_t before_more = 0;
  ASSERT_TRUE(client_->Put(K("q"), "outside", 0, &before_more).ok());
  ASSERT_TRUE(client_->Delete(K("p/100")).ok());
  // Pages of 4 at the revision before the delete: all 25, one snapshot.
  RangeResult all = client_->RangePrefix(K("p/"), before_more, 4);
  ASSERT_TRUE(all.status.ok());
  ASSERT_EQ(all.kvs.size(), 25u);
  EXPECT_EQ(all.kvs.front().key, K("p/100"));
  EXPECT_EQ(all.kvs.back().key, K("p/124"));
  EXPECT_EQ(all.revision, before_more);
  EXPECT_EQ(client_->RangePrefix(K("p/"), 0, 4).kvs.size(), 24u);
}

TEST_F(EtcdClientTest, TransactionsHoldOnlyWhenTheirComparisonsDo) {
  int64_t rev = 0;
  ASSERT_TRUE(client_->Put(K("gen"), "1", 0, &rev).ok());
  TxnResult ok = client_->Txn({Compare::ModRevision(K("gen"), rev), Compare::Absent(K("new"))},
                              {TxnOp::Put(K("gen"), "2"), TxnOp::Put(K("new"), "x")});
  ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
  EXPECT_TRUE(ok.succeeded);
  // The same comparisons again: gen moved on, so nothing happens, and the
  // failure branch tells what it is now.
  TxnResult stale = client_->Txn({Compare::ModRevision(K("gen"), rev)},
                                 {TxnOp::Put(K("gen"), "3")}, {TxnOp::Get(K("gen"))});
  ASSERT_TRUE(stale.status.ok());
  EXPECT_FALSE(stale.succeeded);
  ASSERT_EQ(stale.ranges.size(), 1u);
  ASSERT_EQ(stale.ranges[0].kvs.size(), 1u);
  EXPECT_EQ(stale.ranges[0].kvs[0].value, "2");
  EXPECT_EQ(client_->Get(K("gen")).kvs[0].value, "2");
  EXPECT_FALSE(client_->Txn({Compare::Absent(K("new"))}, {TxnOp::Delete(K("new"))}).succeeded);
  EXPECT_TRUE(client_->Txn({Compare::Value(K("new"), "x")}, {TxnOp::Delete(K("new"))}).succeeded);
  EXPECT_TRUE(client_->Get(K("new")).kvs.empty());
  // etcd refuses to write one key twice in a transaction.
  TxnResult twice = client_->Txn({}, {TxnOp::Put(K("d"), "1"), TxnOp::Put(K("d"), "2")});
  EXPECT_EQ(twice.status.code, EtcdStatus::Code::kInvalid) << twice.status.ToString();
}

TEST_F(EtcdClientTest, WatchResumesAfterACutWithoutLosingOrRepeating) {
  TcpProxy proxy(etcd_->client_port());
  std::unique_ptr<EtcdClient> via_proxy = ClientThrough(proxy, 5000);
  ASSERT_NE(via_proxy, nullptr);
  int64_t start = 0;
  ASSERT_TRUE(client_->Put(K("w/0"), "a", 0, &start).ok());
  Recorder rec;
  WatchStream stream(via_proxy.get(), rec.Callback());
  stream.Watch(7, K("w/"), PrefixEnd(K("w/")), start + 1);
  ASSERT_TRUE(WaitFor([&] { return rec.Count(WatchUpdate::Kind::kConnected) == 1; }));
  ASSERT_TRUE(client_->Put(K("w/1"), "b").ok());
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() == 1; }));

  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return rec.Count(WatchUpdate::Kind::kDisconnected) >= 1; }));
  // Written while the watcher cannot see the store.
  ASSERT_TRUE(client_->Put(K("w/2"), "c").ok());
  ASSERT_TRUE(client_->Put(K("w/1"), "b2").ok());
  ASSERT_TRUE(client_->Delete(K("w/0")).ok());
  ASSERT_TRUE(client_->Put(K("elsewhere"), "-").ok());
  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() == 4; })) << rec.events().size();
  ASSERT_TRUE(client_->Put(K("w/3"), "d").ok());
  ASSERT_TRUE(WaitFor([&] { return rec.events().size() == 5; }));
  std::this_thread::sleep_for(200ms);  // nothing repeated after
  const std::vector<std::string> ev = rec.events();
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0], "PUT " + K("w/1") + "=b@" + std::to_string(start + 1));
  EXPECT_EQ(ev[1], "PUT " + K("w/2") + "=c@" + std::to_string(start + 2));
  EXPECT_EQ(ev[2], "PUT " + K("w/1") + "=b2@" + std::to_string(start + 3));
  EXPECT_EQ(ev[3], "DEL " + K("w/0") + "=@" + std::to_string(start + 4));
  EXPECT_EQ(ev[4], "PUT " + K("w/3") + "=d@" + std::to_string(start + 6));
  EXPECT_GE(rec.Count(WatchUpdate::Kind::kConnected), 2);
  EXPECT_EQ(stream.NextRevision(7), start + 7);
}

TEST_F(EtcdClientTest, WatchReportsACompactionThatHappenedWhileCut) {
  TcpProxy proxy(etcd_->client_port());
  std::unique_ptr<EtcdClient> via_proxy = ClientThrough(proxy, 5000);
  ASSERT_NE(via_proxy, nullptr);
  Recorder rec;
  WatchStream stream(via_proxy.get(), rec.Callback());
  int64_t rev = 0;
  ASSERT_TRUE(client_->Put(K("c/0"), "a", 0, &rev).ok());
  stream.Watch(1, K("c/"), PrefixEnd(K("c/")), rev + 1);
  ASSERT_TRUE(WaitFor([&] { return rec.Count(WatchUpdate::Kind::kConnected) == 1; }));
  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return rec.Count(WatchUpdate::Kind::kDisconnected) >= 1; }));
  int64_t last = 0;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(client_->Put(K("c/") + std::to_string(i), "x", 0, &last).ok());
  ASSERT_TRUE(client_->Compact(last).ok());
  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return rec.Count(WatchUpdate::Kind::kCompacted) == 1; }));
  EXPECT_EQ(rec.Last(WatchUpdate::Kind::kCompacted)->compact_revision, last);
  EXPECT_EQ(rec.Last(WatchUpdate::Kind::kCompacted)->watch_id, 1);
  EXPECT_TRUE(rec.events().empty());
  EXPECT_EQ(stream.NextRevision(1), 0);  // gone: the owner reads whole and watches again
  // A read at a compacted revision says so too.
  EXPECT_EQ(client_->Get(K("c/1"), rev).status.code, EtcdStatus::Code::kCompacted);
}

TEST_F(EtcdClientTest, LeasesExpireUnlessKeptAlive) {
  const LeaseResult lease = client_->LeaseGrant(2);
  ASSERT_TRUE(lease.status.ok()) << lease.status.ToString();
  ASSERT_TRUE(client_->Put(K("gone"), "x", lease.id).ok());
  std::vector<int64_t> granted;
  std::mutex mu;
  LeaseKeeper keeper(client_.get(), 2, [&](int64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    granted.push_back(id);
    client_->Put(K("kept"), "x", id);
  });
  ASSERT_TRUE(WaitFor([&] { return keeper.id() != 0; }));
  // Twice the TTL: the unkept lease's key is gone, the kept one's is there.
  ASSERT_TRUE(WaitFor([&] { return client_->Get(K("gone")).kvs.empty(); }, 8s));
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(client_->Get(K("kept")).kvs.size(), 1u);
  EXPECT_EQ(client_->LeaseTimeToLive(lease.id).ttl, -1);
  EXPECT_EQ(keeper.grants(), 1);
  // Revoked under the keeper's feet: it grants a new lease and the owner
  // writes its key again.
  const int64_t first = keeper.id();
  ASSERT_TRUE(client_->LeaseRevoke(first).ok());
  ASSERT_TRUE(WaitFor([&] { return keeper.grants() == 2 && keeper.id() != first; }, 8s));
  ASSERT_TRUE(WaitFor([&] { return client_->Get(K("kept")).kvs.size() == 1; }));
  EXPECT_EQ(client_->Get(K("kept")).kvs[0].lease, keeper.id());
  keeper.Stop(/*revoke=*/true);
  EXPECT_TRUE(client_->Get(K("kept")).kvs.empty());
}

TEST_F(EtcdClientTest, ALeaseOutOfReachLongerThanItsTtlIsGrantedAnew) {
  TcpProxy proxy(etcd_->client_port());
  std::unique_ptr<EtcdClient> via_proxy = ClientThrough(proxy);
  ASSERT_NE(via_proxy, nullptr);
  LeaseKeeper keeper(via_proxy.get(), 2, [&](int64_t id) { via_proxy->Put(K("status"), "up", id); });
  ASSERT_TRUE(WaitFor([&] { return client_->Get(K("status")).kvs.size() == 1; }));
  const int64_t first = keeper.id();
  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return client_->Get(K("status")).kvs.empty(); }, 8s));
  proxy.Restore();
  ASSERT_TRUE(WaitFor([&] { return client_->Get(K("status")).kvs.size() == 1; }, 10s));
  EXPECT_NE(keeper.id(), first);
  EXPECT_EQ(keeper.grants(), 2);
}

TEST_F(EtcdClientTest, UnreachableStoreIsReportedAsSuch) {
  EtcdOptions o;
  o.endpoints = {"127.0.0.1:" + std::to_string(test::FreeLoopbackPort())};
  o.timeout_ms = 300;
  std::string error;
  std::unique_ptr<EtcdClient> c = EtcdClient::Connect(o, &error);
  ASSERT_NE(c, nullptr) << error;
  EXPECT_EQ(c->Get("/x").status.code, EtcdStatus::Code::kUnavailable);
}

// TLS with client certificates, and etcd's roles: a host's user may write its
// own status and nothing else.
TEST(EtcdTlsAuth, ClientCertificatesAndRoles) {
  EtcdProcess etcd(EtcdProcess::Options{.tls = true});
  ASSERT_TRUE(etcd.Start());
  std::unique_ptr<EtcdClient> root = etcd.Connect();
  ASSERT_NE(root, nullptr);
  ASSERT_TRUE(root->Put("/hnv/x", "1").ok());

  // Without a client certificate the TLS handshake fails.
  EtcdOptions no_cert = etcd.ClientOptions();
  no_cert.cert_file.clear();
  no_cert.key_file.clear();
  no_cert.timeout_ms = 1000;
  std::string error;
  std::unique_ptr<EtcdClient> c = EtcdClient::Connect(no_cert, &error);
  ASSERT_NE(c, nullptr) << error;
  EXPECT_EQ(c->Get("/hnv/x").status.code, EtcdStatus::Code::kUnavailable);
  // Nor does a client that does not trust the server's CA get through.
  EtcdOptions other_ca = etcd.ClientOptions();
  other_ca.ca_file = etcd.dir() + "/client-root.crt";
  other_ca.timeout_ms = 1000;
  c = EtcdClient::Connect(other_ca, &error);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Get("/hnv/x").status.code, EtcdStatus::Code::kUnavailable);
  EtcdOptions missing = etcd.ClientOptions();
  missing.key_file = etcd.dir() + "/nope.key";
  EXPECT_EQ(EtcdClient::Connect(missing, &error), nullptr);
  EXPECT_EQ(error, "cannot read " + etcd.dir() + "/nope.key");

  // Roles: root, and host1 who may write only under /hnv/status/host1.
  ASSERT_TRUE(root->UserAdd("root", "rootpw").ok());
  ASSERT_TRUE(root->RoleAdd("root").ok());
  ASSERT_TRUE(root->UserGrantRole("root", "root").ok());
  ASSERT_TRUE(root->UserAdd("host1", "pw1").ok());
  ASSERT_TRUE(root->RoleAdd("host1").ok());
  ASSERT_TRUE(root->RoleGrantPermission("host1", "/hnv/", PrefixEnd("/hnv/"),
                                        EtcdClient::Permission::kRead)
                  .ok());
  ASSERT_TRUE(root->RoleGrantPermission("host1", "/hnv/status/host1", "",
                                        EtcdClient::Permission::kReadWrite)
                  .ok());
  ASSERT_TRUE(root->UserGrantRole("host1", "host1").ok());
  ASSERT_TRUE(root->AuthEnable().ok());

  // host1 by password, over TLS with its own certificate.
  auto [crt, key] = etcd.MakeClientCert("host1");
  ASSERT_FALSE(crt.empty());
  EtcdOptions h1 = etcd.ClientOptions();
  h1.cert_file = crt;
  h1.key_file = key;
  h1.user = "host1";
  h1.password = "pw1";
  std::unique_ptr<EtcdClient> host1 = EtcdClient::Connect(h1, &error);
  ASSERT_NE(host1, nullptr) << error;
  EXPECT_TRUE(host1->Put("/hnv/status/host1", "ok").ok());
  EXPECT_EQ(host1->Get("/hnv/x").kvs.size(), 1u);
  EtcdStatus denied = host1->Put("/hnv/status/host2", "forged");
  EXPECT_EQ(denied.code, EtcdStatus::Code::kPermissionDenied) << denied.ToString();
  EXPECT_EQ(host1->Put("/hnv/x", "2").code, EtcdStatus::Code::kPermissionDenied);
  // A transaction that touches anything else is refused as a whole.
  TxnResult t = host1->Txn({}, {TxnOp::Put("/hnv/status/host1", "a"), TxnOp::Put("/hnv/y", "b")});
  EXPECT_EQ(t.status.code, EtcdStatus::Code::kPermissionDenied);
  // The same user without a password: by its certificate's CN (etcd's
  // --client-cert-auth, gRPC only).
  EtcdOptions by_cn = h1;
  by_cn.user.clear();
  by_cn.password.clear();
  std::unique_ptr<EtcdClient> cn = EtcdClient::Connect(by_cn, &error);
  ASSERT_NE(cn, nullptr) << error;
  EXPECT_TRUE(cn->Put("/hnv/status/host1", "by-cn").ok());
  EXPECT_EQ(cn->Put("/hnv/status/host2", "x").code, EtcdStatus::Code::kPermissionDenied);
  // A wrong password is refused at connect.
  h1.password = "wrong";
  EXPECT_EQ(EtcdClient::Connect(h1, &error), nullptr);
  EXPECT_NE(error.find("authentication"), std::string::npos) << error;
}

TEST(EtcdTlsAuth, InitRolesLetsEachHostWriteOnlyItsOwn) {
  EtcdProcess etcd(EtcdProcess::Options{.tls = true});
  ASSERT_TRUE(etcd.Start());
  std::unique_ptr<EtcdClient> root = etcd.Connect();
  ASSERT_NE(root, nullptr);
  const Layout L;
  std::vector<std::string> done;
  ASSERT_TRUE(InitRoles(*root, L, RolesPlan{{"host1", "host2"}}, &done).ok());
  EXPECT_EQ(done.back(), "auth enabled");
  EXPECT_NE(std::find(done.begin(), done.end(), "role hnv-host-host1: readwrite /hnv/v1/learned/host1/*"),
            done.end());
  // By certificate only (no passwords): CN = the user.
  auto as = [&](const std::string& cn) {
    auto [crt, key] = etcd.MakeClientCert(cn);
    EtcdOptions o = etcd.ClientOptions();
    o.cert_file = crt;
    o.key_file = key;
    std::string error;
    std::unique_ptr<EtcdClient> c = EtcdClient::Connect(o, &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  };
  std::unique_ptr<EtcdClient> writer = as("hnv-writer");
  std::unique_ptr<EtcdClient> host1 = as("host1");
  EXPECT_TRUE(writer->Put(L.TenantSpec("contoso"), "{}").ok());
  EXPECT_TRUE(host1->Put(L.Status("host1"), "{}").ok());
  EXPECT_TRUE(host1->Put(L.Learned("host1", 6000, *IpAddr::Parse("10.0.1.5")), "{}").ok());
  EXPECT_EQ(host1->Get(L.TenantSpec("contoso")).kvs.size(), 1u);  // reads everything
  EXPECT_EQ(host1->Put(L.Status("host2"), "{}").code, EtcdStatus::Code::kPermissionDenied);
  EXPECT_EQ(host1->Put(L.Learned("host2", 6000, *IpAddr::Parse("10.0.1.5")), "{}").code,
            EtcdStatus::Code::kPermissionDenied);
  EXPECT_EQ(host1->Put(L.TenantSpec("contoso"), "{}").code, EtcdStatus::Code::kPermissionDenied);
  EXPECT_EQ(host1->Put(L.Generation(), "9").code, EtcdStatus::Code::kPermissionDenied);
  // A host's lease, and its keys under it, are its own to revoke.
  LeaseResult lease = host1->LeaseGrant(10);
  ASSERT_TRUE(lease.status.ok()) << lease.status.ToString();
  EXPECT_TRUE(host1->Put(L.Status("host1"), "{}", lease.id).ok());
  EXPECT_TRUE(host1->LeaseRevoke(lease.id).ok());
  // Again: what exists stays; nothing fails.
  done.clear();
  EXPECT_TRUE(InitRoles(*root, L, RolesPlan{{"host1", "host2", "host3"}, {}, "", false}, &done).ok());
  auto made = [&](const std::string& what) {
    return std::find(done.begin(), done.end(), what) != done.end();
  };
  EXPECT_TRUE(made("role hnv-host-host3"));
  EXPECT_TRUE(made("user host3"));
  EXPECT_FALSE(made("user host1"));  // there already
}

}  // namespace
}  // namespace hnv::store
