// Internals of the etcd client shared by etcd_client.cc, etcd_watch.cc and
// etcd_lease.cc: the gRPC channel and stubs, call contexts (deadline and auth
// token), and the mapping of gRPC statuses and etcd messages to EtcdStatus.
// Not an API: include etcd_client.h. Only .cc files include this (it pulls
// in gRPC's and the generated headers).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "config/store/etcd_client.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace hnv::store {

EtcdStatus FromGrpc(const grpc::Status& s);
KeyValue FromProto(const mvccpb::KeyValue& kv);

struct EtcdClient::Impl {
  EtcdOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;

  std::mutex token_mu;
  std::string token;  // empty: none

  // A context for one unary call: deadline and token. `deadline` false for
  // streams, which live until cancelled.
  void Prepare(grpc::ClientContext* ctx, bool deadline = true);
  // Authenticate with the options' user; sets the token. "" or the error.
  std::string Authenticate();

  // Runs a unary call, authenticating again and retrying once when etcd says
  // the token is not (or no longer) valid.
  template <typename F>
  EtcdStatus Call(F&& f) {
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext ctx;
      Prepare(&ctx);
      EtcdStatus st = FromGrpc(f(&ctx));
      if (st.code == EtcdStatus::Code::kUnauthenticated && attempt == 0 &&
          !options.user.empty() && Authenticate().empty())
        continue;
      return st;
    }
  }
};

}  // namespace hnv::store
