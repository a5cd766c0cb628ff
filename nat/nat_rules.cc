#include "nat/nat_rules.h"

#include <algorithm>
#include <utility>

#include "nat/napt_table.h"

namespace hnv::nat {
namespace {

uint32_t Raw(const IpAddr& a) { return Load32(a.b.data()); }
uint16_t RawPort(uint16_t host) { return Be16::FromHost(host).raw(); }

bool ProtoOf(uint8_t ip_proto, Proto* p) {
  if (ip_proto == kIpProtoTcp) *p = Proto::kTcp;
  else if (ip_proto == kIpProtoUdp) *p = Proto::kUdp;
  else return false;
  return true;
}

}  // namespace

std::unique_ptr<NatRules> NatRules::Build(const NatSpec& spec,
                                          const std::vector<IpAddr>& local_addresses,
                                          std::string* error) {
  auto r = std::unique_ptr<NatRules>(new NatRules());
  r->spec_ = spec;
  r->timeouts_ = TimeoutsMs::From(spec.timeouts);
  if (spec.addresses.size() > kMaxPoolAddresses) {
    *error = "at most " + std::to_string(kMaxPoolAddresses) + " pool addresses";
    return nullptr;
  }
  auto v4 = [&](const IpAddr& a, const char* what) {
    if (a.is_v4()) return true;
    *error = std::string(what) + " " + a.ToString() + " is not IPv4";
    return false;
  };
  std::vector<std::pair<uint32_t, uint32_t>> pool_index, nat_address;
  for (const IpAddr& a : spec.addresses) {
    if (!v4(a, "pool address")) return nullptr;
    pool_index.emplace_back(Raw(a), static_cast<uint32_t>(r->pool_.size()));
    nat_address.emplace_back(Raw(a), 0);
    r->pool_.push_back(Raw(a));
    r->pool_local_.push_back(std::find(local_addresses.begin(), local_addresses.end(), a) !=
                             local_addresses.end());
  }
  for (const IpPrefix& p : spec.internal) {
    if (!v4(p.addr, "internal prefix")) return nullptr;
    const uint32_t mask = p.len == 0 ? 0 : Be32::FromHost(~0u << (32 - p.len)).raw();
    r->internal_.push_back(Net{Raw(p.addr) & mask, mask});
  }
  std::vector<std::pair<uint32_t, uint32_t>> out, in;
  for (const StaticNat& s : spec.static_nat) {
    if (!v4(s.external, "static external") || !v4(s.internal, "static internal")) return nullptr;
    const auto i = static_cast<uint32_t>(r->static_ext_.size());
    r->static_ext_.push_back(Raw(s.external));
    r->static_int_.push_back(Raw(s.internal));
    out.emplace_back(Raw(s.internal), i);
    in.emplace_back(Raw(s.external), i);
    nat_address.emplace_back(Raw(s.external), 0);
  }
  r->static_out_ = FlatU32Map(out);
  r->static_in_ = FlatU32Map(in);
  std::vector<std::pair<uint64_t, uint32_t>> fout, fin;
  for (const PortForward& f : spec.port_forwards) {
    Proto p;
    if (!ProtoOf(f.protocol, &p)) {
      *error = "port forward protocol " + std::to_string(f.protocol) + " is not TCP or UDP";
      return nullptr;
    }
    if (!v4(f.external, "port forward external") || !v4(f.internal, "port forward internal"))
      return nullptr;
    const Forward fw{Endpoint{Raw(f.external), RawPort(f.external_port)},
                     Endpoint{Raw(f.internal), RawPort(f.internal_port)}};
    const auto i = static_cast<uint32_t>(r->forwards_.size());
    r->forwards_.push_back(fw);
    fout.emplace_back(Key(p, fw.in), i);
    fin.emplace_back(Key(p, fw.ext), i);
    nat_address.emplace_back(fw.ext.addr, 0);
  }
  r->forward_out_ = FlatU64Map(fout);
  r->forward_in_ = FlatU64Map(fin);
  r->pool_index_ = FlatU32Map(pool_index);
  r->nat_address_ = FlatU32Map(nat_address);
  for (const auto& [addr, unused] : nat_address) r->nat_filter_ |= FilterBit(addr);
  return r;
}

}  // namespace hnv::nat
