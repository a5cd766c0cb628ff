#include "config/policy/validate.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "config/policy/validate_internal.h"

namespace hnv {
namespace validate_internal {

std::vector<PolicyError> Errors::Take() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.section, a.index, a.rank, a.sub, a.seq) <
           std::tie(b.section, b.index, b.rank, b.sub, b.seq);
  });
  std::vector<PolicyError> out;
  out.reserve(entries_.size());
  for (Entry& e : entries_) {
    std::string path = kSectionNames[static_cast<int>(e.section)];
    if (e.section != Section::kSettings) path += "[" + std::to_string(e.index) + "]";
    path += ".";
    path += e.field;
    if (e.sub >= 0) path += "[" + std::to_string(e.sub) + "]";
    out.push_back(PolicyError{std::move(path), std::move(e.message)});
  }
  entries_.clear();
  return out;
}

std::string Ref(Section s, size_t index) {
  return std::string(kSectionNames[static_cast<int>(s)]) + "[" + std::to_string(index) + "]";
}

// ---------------------------------------------------------------------------
// Address helpers.

// Why `a` cannot be a host's own (unicast) address, or nullptr when it can.
const char* NotUnicastReason(const IpAddr& a) {
  if (a.IsUnspecified()) return "is unspecified";
  if (a.is_v4()) {
    const uint8_t first = a.b[0];
    if (first == 0) return "is in 0.0.0.0/8 (this network)";
    if (first == 127) return "is a loopback address";
    if (first >= 224 && first < 240) return "is a multicast address";
    if (a.v4_host() == 0xffffffffu) return "is the broadcast address";
    if (first >= 240) return "is in the reserved range 240.0.0.0/4";
    return nullptr;
  }
  if (a.b[0] == 0xff) return "is a multicast address";
  bool zero_head = true;  // ::/80
  for (int i = 0; i < 10; ++i) zero_head = zero_head && a.b[i] == 0;
  if (zero_head && a.b[10] == 0 && a.b[11] == 0 && a.b[12] == 0 && a.b[13] == 0 && a.b[14] == 0 &&
      a.b[15] == 1)
    return "is the loopback address";
  if (zero_head && a.b[10] == 0xff && a.b[11] == 0xff) return "is an IPv4-mapped address";
  return nullptr;
}

// Why `m` cannot be a station's MAC, or nullptr.
const char* MacProblem(const MacAddr& m) {
  if (m.IsZero()) return "is the zero MAC";
  if (m.IsBroadcast()) return "is the broadcast MAC";
  if (m.IsMulticast()) return "is a multicast MAC";
  return nullptr;
}

std::string MacMessage(const MacAddr& m, const char* problem) {
  return m.ToCompactString() + " " + problem + "; a unicast MAC is required";
}

// Why `p` is not a well-formed prefix (length fits, host bits clear), or "".
std::string PrefixShapeError(const IpPrefix& p) {
  if (p.len > p.addr.bits()) {
    return p.addr.ToString() + "/" + std::to_string(p.len) + ": length " + std::to_string(p.len) +
           " is longer than an " + FamilyName(p.addr.family) + " address";
  }
  const IpAddr masked = p.addr.Masked(p.len);
  if (masked != p.addr) {
    return p.ToString() + " has host bits set (did you mean " + IpPrefix{masked, p.len}.ToString() +
           "?)";
  }
  return {};
}

IpAddr FirstHost(const IpPrefix& p) {
  IpAddr a = p.addr;
  a.b[a.bits() / 8 - 1] |= 1;
  return a;
}

IpAddr LastAddr(const IpPrefix& p) {
  IpAddr a = p.addr;
  for (int i = p.len; i < a.bits(); ++i) a.b[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return a;
}

std::string RangeMessage(uint64_t v, uint64_t lo, uint64_t hi) {
  return std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi);
}

std::string VsidRangeMessage(uint32_t vsid) { return RangeMessage(vsid, kVsidMin, kVsidMax); }

std::vector<PolicyError> Validator::Run() {
  LearnShape();
  CheckRecords();
  CheckVmPorts();
  CheckPortAcls();
  CheckGatewaySubnets();
  return errors_.Take();
}

// Records depend on this shape, never the other way round; the sections'
// errors sort by section, so the order of the passes only matters inside one.
void Validator::LearnShape() {
  CheckSettings();
  CheckRoutingDomains();
  CheckSubnets();
  CheckProviderAddresses();
  CheckProviderRoutes();
  CheckCustomerRoutes();
  for (size_t rd = 0; rd < rds_.size(); ++rd)
    if (rds_[rd].has_gateway) gateway_vsids_.emplace(rds_[rd].gateway_vsid, static_cast<int>(rd));
}

void Validator::CheckSettings() {
  const HostSettings& s = p_.settings;
  // 1280 is IPv6's minimum link MTU, so IPv6 PAs are covered too.
  if (s.underlay_mtu < 1280 || s.underlay_mtu > 9216)
    errors_.Add(Section::kSettings, 0, settings_f::kUnderlayMtu,
                RangeMessage(s.underlay_mtu, 1280, 9216));
  if (s.outer_ttl < 1)
    errors_.Add(Section::kSettings, 0, settings_f::kOuterTtl,
                "0 is outside 1..255: encapsulated packets would never leave the host");
  if (s.icmp_errors_per_second > kMaxIcmpErrorsPerSecond)
    errors_.Add(Section::kSettings, 0, settings_f::kIcmpErrorsPerSecond,
                RangeMessage(s.icmp_errors_per_second, 0, kMaxIcmpErrorsPerSecond));
  if (s.icmp_errors_burst < 1 || s.icmp_errors_burst > kMaxIcmpErrorsBurst)
    errors_.Add(Section::kSettings, 0, settings_f::kIcmpErrorsBurst,
                RangeMessage(s.icmp_errors_burst, 1, kMaxIcmpErrorsBurst));
}

void Validator::CheckRoutingDomains() {
  rds_.resize(p_.routing_domains.size());
  for (size_t i = 0; i < p_.routing_domains.size(); ++i) {
    const Guid& id = p_.routing_domains[i].rdid;
    if (id == Guid{})
      errors_.Add(Section::kRoutingDomains, i, rd_f::kRdid,
                  id.ToString() + " is the nil GUID, not a routing domain ID");
    auto [it, inserted] = rd_index_.emplace(id, static_cast<int>(i));
    if (!inserted)
      errors_.Add(Section::kRoutingDomains, i, rd_f::kRdid,
                  id.ToString() + " is already the ID of " +
                      Ref(Section::kRoutingDomains, it->second) + "; RDIDs are unique");
  }
}

void Validator::CheckSubnets() {
  subnets_.resize(p_.subnets.size());
  vsid_subnet_.reserve(p_.subnets.size());
  for (size_t i = 0; i < p_.subnets.size(); ++i) {
    const VirtualSubnet& s = p_.subnets[i];
    SubnetInfo& si = subnets_[i];
    if (!IsValidVsid(s.vsid)) {
      errors_.Add(Section::kSubnets, i, subnet_f::kVsid, VsidRangeMessage(s.vsid));
    } else if (auto [it, inserted] = vsid_subnet_.emplace(s.vsid, static_cast<uint32_t>(i));
               !inserted) {
      errors_.Add(Section::kSubnets, i, subnet_f::kVsid,
                  std::to_string(s.vsid) + " is already the VSID of " +
                      Ref(Section::kSubnets, it->second) + "; VSIDs are unique");
    }
    si.rd = FindRd(s.rdid);
    if (si.rd < 0)
      errors_.Add(Section::kSubnets, i, subnet_f::kRdid,
                  s.rdid.ToString() + " is not a routing domain of this policy");
    if (s.prefixes.empty())
      errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes,
                  "a virtual subnet needs a prefix (its first address is the default gateway)");
    for (size_t j = 0; j < s.prefixes.size(); ++j) {
      const IpPrefix& pf = s.prefixes[j];
      const int sub = static_cast<int>(j);
      if (std::string e = PrefixShapeError(pf); !e.empty()) {
        errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes, std::move(e), sub);
        si.prefix_error = true;
        continue;
      }
      const int lo = pf.addr.is_v4() ? 8 : 16;
      const int hi = pf.addr.is_v4() ? 30 : 126;
      if (pf.len < lo || pf.len > hi) {
        errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes,
                    pf.ToString() + ": length " + std::to_string(pf.len) + " is outside " +
                        std::to_string(lo) + ".." + std::to_string(hi) + " for an " +
                        FamilyName(pf.addr.family) + " virtual subnet",
                    sub);
        si.prefix_error = true;
        continue;
      }
      const IpAddr first = FirstHost(pf);
      if (const char* why = NotUnicastReason(first)) {
        errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes,
                    pf.ToString() + " is not a unicast range: its first address " +
                        first.ToString() + " " + why,
                    sub);
        si.prefix_error = true;
        continue;
      }
      const int f = Fam(pf.addr.family);
      if (si.has[f]) {
        errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes,
                    pf.ToString() + ": a virtual subnet has at most one " +
                        FamilyName(pf.addr.family) + " prefix, and it already has " +
                        si.prefix[f].ToString(),
                    sub);
        continue;
      }
      if (si.rd >= 0) {
        RdInfo& rd = rds_[si.rd];
        if (!rd.has_family) {
          rd.has_family = true;
          rd.family = pf.addr.family;
          rd.family_subnet = static_cast<uint32_t>(i);
          rd.family_prefix = static_cast<uint32_t>(j);
        } else if (rd.family != pf.addr.family) {
          errors_.Add(Section::kSubnets, i, subnet_f::kPrefixes,
                      FamilyMismatch(pf.ToString(), pf.addr.family, si.rd), sub);
          si.prefix_error = true;
          continue;
        }
        rd.subnets.Add(pf, static_cast<uint32_t>(i));
      }
      si.has[f] = true;
      si.prefix_index[f] = static_cast<uint32_t>(j);
      si.prefix[f] = pf;
      si.dfgw[f] = first;
      si.last[f] = LastAddr(pf);
    }
  }
  for (RdInfo& rd : rds_) rd.subnets.Build();
  CheckSubnetOverlaps();
}

// Two prefixes of one routing domain may not overlap: a CA would belong to two
// subnets. Sorted by address (shorter first on a tie), a prefix overlaps an
// earlier one exactly when the earlier prefix reaching furthest holds it.
void Validator::CheckSubnetOverlaps() {
  struct Item {
    int rd;
    IpAddr addr;
    uint8_t len;
    uint32_t subnet;
    uint32_t prefix;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < subnets_.size(); ++i) {
    const SubnetInfo& si = subnets_[i];
    if (si.rd < 0) continue;
    for (size_t j = 0; j < p_.subnets[i].prefixes.size(); ++j) {
      const IpPrefix& pf = p_.subnets[i].prefixes[j];
      const int f = Fam(pf.addr.family);
      if (si.has[f] && si.prefix_index[f] == j)
        items.push_back(
            Item{si.rd, pf.addr, pf.len, static_cast<uint32_t>(i), static_cast<uint32_t>(j)});
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.rd, a.addr, a.len, a.subnet) < std::tie(b.rd, b.addr, b.len, b.subnet);
  });
  size_t reach = 0;  // the earlier item of the same rd and family that ends last
  IpAddr reach_end;
  for (size_t k = 0; k < items.size(); ++k) {
    const Item& it = items[k];
    const IpPrefix pf{it.addr, it.len};
    const bool same_group =
        k > 0 && items[reach].rd == it.rd && items[reach].addr.family == it.addr.family;
    if (same_group && IpPrefix{items[reach].addr, items[reach].len}.Contains(it.addr)) {
      const Item& other = items[reach];
      const bool it_later = std::tie(it.subnet, it.prefix) > std::tie(other.subnet, other.prefix);
      const Item& later = it_later ? it : other;
      const Item& earlier = it_later ? other : it;
      errors_.Add(Section::kSubnets, later.subnet, subnet_f::kPrefixes,
                  IpPrefix{later.addr, later.len}.ToString() + " overlaps " +
                      IpPrefix{earlier.addr, earlier.len}.ToString() + " of " +
                      Ref(Section::kSubnets, earlier.subnet) + " (" + SubnetName(earlier.subnet) +
                      ") in routing domain " + RdName(it.rd),
                  static_cast<int>(later.prefix));
    }
    const IpAddr end = LastAddr(pf);
    if (!same_group || reach_end < end) {
      reach = k;
      reach_end = end;
    }
  }
}

void Validator::CheckRecords() {
  dfgw_record_.assign(p_.records.size(), false);
  record_rd_.assign(p_.records.size(), -1);
  for (size_t i = 0; i < p_.records.size(); ++i) {
    bool is_dfgw = false;
    CheckRecord(i, p_.records[i], &record_rd_[i], &is_dfgw);
    dfgw_record_[i] = is_dfgw;
  }
  CheckRecordUniqueness();
}

void Validator::CheckRecord(size_t i, const LookupRecord& r, int* rd, bool* is_dfgw) {
  std::optional<uint32_t> subnet;
  if (!IsValidVsid(r.vsid)) {
    errors_.Add(Section::kRecords, i, record_f::kVsid, VsidRangeMessage(r.vsid));
  } else if (subnet = SubnetOf(r.vsid); !subnet) {
    errors_.Add(Section::kRecords, i, record_f::kVsid,
                std::to_string(r.vsid) + " is not a virtual subnet of this policy");
  }
  if (const char* why = MacProblem(r.mac))
    errors_.Add(Section::kRecords, i, record_f::kMac, MacMessage(r.mac, why));
  if (r.rule != TranslationRule::kEncap && r.rule != TranslationRule::kNone)
    errors_.Add(Section::kRecords, i, record_f::kRule,
                std::to_string(static_cast<int>(r.rule)) + " is not a translation rule");
  *rd = subnet ? subnets_[*subnet].rd : -1;
  *is_dfgw = false;
  CheckRecordCa(i, r, subnet, is_dfgw);

  if (const char* why = NotUnicastReason(r.pa)) {
    errors_.Add(Section::kRecords, i, record_f::kPa,
                r.pa.ToString() + " " + why + "; a lookup record needs a unicast provider address");
  } else if (*is_dfgw && !IsLocalPa(r.pa)) {
    errors_.Add(Section::kRecords, i, record_f::kPa,
                r.pa.ToString() + " is not a provider address of this host; the default " +
                    "gateway record (" + r.ca.ToString() + ") carries the local PA");
  } else if (r.rule == TranslationRule::kEncap && !reach_.Find(r.pa)) {
    const Family f = r.pa.family;
    errors_.Add(Section::kRecords, i, record_f::kPa,
                has_pa_family_[Fam(f)]
                    ? r.pa.ToString() + " is unreachable: not on the subnet of a provider " +
                          "address of this host and no provider route covers it"
                    : r.pa.ToString() + " is " + FamilyName(f) + " but this host has no " +
                          FamilyName(f) + " provider address to encapsulate from");
  }
}

void Validator::CheckRecordCa(size_t i, const LookupRecord& r,
                              const std::optional<uint32_t>& subnet, bool* is_dfgw) {
  const SubnetInfo* si = subnet ? &subnets_[*subnet] : nullptr;
  const int rd = si ? si->rd : -1;
  const bool rd_family = rd >= 0 && rds_[rd].has_family;
  switch (r.type) {
    case RecordType::kStatic:
    case RecordType::kDynamic: {
      const char* type = r.type == RecordType::kStatic ? "a Static" : "a Dynamic";
      if (r.ca.IsUnspecified()) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    r.ca.ToString() + " is unspecified, but " + type +
                        " record needs a customer address (only L2Only and GatewayWildcard "
                        "records have none)");
        return;
      }
      if (rd_family && r.ca.family != rds_[rd].family) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    FamilyMismatch(r.ca.ToString(), r.ca.family, rd));
        return;
      }
      if (si == nullptr || si->prefix_error) return;
      const int f = Fam(r.ca.family);
      if (!si->has[f]) return;  // the subnet has no prefix at all: reported there
      const IpPrefix& pf = si->prefix[f];
      const std::string where = SubnetName(*subnet) + " (" + pf.ToString() + ")";
      if (!pf.Contains(r.ca)) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    r.ca.ToString() + " is outside the prefix of " + where);
      } else if (r.ca == pf.addr) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    r.ca.ToString() + " is the network address of " + where);
      } else if (r.ca.is_v4() && r.ca == si->last[f]) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    r.ca.ToString() + " is the broadcast address of " + where);
      } else if (r.ca == si->dfgw[f]) {
        if (r.type == RecordType::kStatic) {
          *is_dfgw = true;
        } else {
          errors_.Add(Section::kRecords, i, record_f::kCa,
                      r.ca.ToString() + " is the default gateway of " + where +
                          ", reserved: only a Static record (the DFGW record) may hold it");
        }
      }
      return;
    }
    case RecordType::kL2Only:
    case RecordType::kGatewayWildcard: {
      const char* type = r.type == RecordType::kL2Only ? "an L2Only" : "a GatewayWildcard";
      if (!r.ca.IsUnspecified()) {
        errors_.Add(
            Section::kRecords, i, record_f::kCa,
            r.ca.ToString() + " must be unspecified (0.0.0.0 or ::) on " + type + " record");
      } else if (rd_family && r.ca.family != rds_[rd].family) {
        errors_.Add(Section::kRecords, i, record_f::kCa,
                    FamilyMismatch(r.ca.ToString(), r.ca.family, rd));
      }
      return;
    }
  }
  errors_.Add(Section::kRecords, i, record_f::kType,
              std::to_string(static_cast<int>(r.type)) + " is not a record type");
}

// CA and MAC uniqueness inside a routing domain, by sorting (rd, key, index):
// each run of equal keys is one address, its first record the owner.
void Validator::CheckRecordUniqueness() {
  struct CaKey {
    int rd;
    IpAddr ca;
    uint32_t index;
  };
  struct MacKey {
    int rd;
    uint64_t mac;
    uint32_t index;
  };
  std::vector<CaKey> cas;
  std::vector<MacKey> macs;
  cas.reserve(p_.records.size());
  macs.reserve(p_.records.size());
  for (size_t i = 0; i < p_.records.size(); ++i) {
    const LookupRecord& r = p_.records[i];
    const int rd = record_rd_[i];
    if (rd < 0) continue;
    const uint32_t index = static_cast<uint32_t>(i);
    if (!r.ca.IsUnspecified()) cas.push_back(CaKey{rd, r.ca, index});
    macs.push_back(MacKey{rd, r.mac.AsU64(), index});
  }

  std::sort(cas.begin(), cas.end(), [](const CaKey& a, const CaKey& b) {
    if (a.rd != b.rd) return a.rd < b.rd;
    if (a.ca != b.ca) return a.ca < b.ca;
    return a.index < b.index;
  });
  std::vector<uint32_t> run;
  for (size_t k = 0; k < cas.size(); ++k) {
    run.push_back(cas[k].index);
    if (k + 1 < cas.size() && cas[k + 1].rd == cas[k].rd && cas[k + 1].ca == cas[k].ca) continue;
    if (run.size() > 1) CheckCaRun(cas[k].rd, cas[k].ca, run);
    run.clear();
  }

  std::sort(macs.begin(), macs.end(), [](const MacKey& a, const MacKey& b) {
    return std::tie(a.rd, a.mac, a.index) < std::tie(b.rd, b.mac, b.index);
  });
  std::vector<MacMember> members;
  for (size_t k = 0; k < macs.size(); ++k) {
    members.push_back(MacMember{macs[k].index, &p_.records[macs[k].index]});
    if (k + 1 < macs.size() && macs[k + 1].rd == macs[k].rd && macs[k + 1].mac == macs[k].mac)
      continue;
    if (members.size() > 1) CheckMacRun(macs[k].rd, members);
    members.clear();
  }
}

void Validator::CheckCaRun(int rd, const IpAddr& ca, const std::vector<uint32_t>& indexes) {
  for (size_t k = 1; k < indexes.size(); ++k)
    errors_.Add(Section::kRecords, indexes[k], record_f::kCa,
                ca.ToString() + " is already used by " + Ref(Section::kRecords, indexes[0]) +
                    " in routing domain " + RdName(rd) +
                    "; a CA is unique inside its routing domain");
}

// A MAC is one VM's NIC: unique in its routing domain, except that dynamic
// learning adds Dynamic records beside the L2Only record of the same NIC.
void Validator::CheckMacRun(int rd, const std::vector<MacMember>& members) {
  auto learnable = [](RecordType t) {
    return t == RecordType::kL2Only || t == RecordType::kDynamic;
  };
  constexpr uint32_t kNone = UINT32_MAX;
  const LookupRecord& first = *members[0].record;
  const std::string owner_ref = Ref(Section::kRecords, members[0].index);
  uint32_t l2only = first.type == RecordType::kL2Only ? members[0].index : kNone;
  for (size_t k = 1; k < members.size(); ++k) {
    const LookupRecord& r = *members[k].record;
    const uint32_t index = members[k].index;
    const std::string mac = r.mac.ToCompactString();
    if (!learnable(r.type) || !learnable(first.type)) {
      errors_.Add(Section::kRecords, index, record_f::kMac,
                  mac + " is already used by " + owner_ref + " in routing domain " + RdName(rd) +
                      "; a MAC is unique inside its routing domain (only an L2Only record and "
                      "its Dynamic records share one)");
    } else if (r.type == RecordType::kL2Only && l2only != kNone) {
      errors_.Add(Section::kRecords, index, record_f::kMac,
                  mac + " already has an L2Only record, " + Ref(Section::kRecords, l2only) +
                      "; one L2Only record per MAC");
    } else if (r.vsid != first.vsid) {
      errors_.Add(Section::kRecords, index, record_f::kVsid,
                  std::to_string(r.vsid) + " differs from " + std::to_string(first.vsid) + " of " +
                      owner_ref + ", which has the same MAC " + mac +
                      "; an L2Only record and its Dynamic records share VSID and PA");
    } else if (r.pa != first.pa) {
      errors_.Add(Section::kRecords, index, record_f::kPa,
                  r.pa.ToString() + " differs from " + first.pa.ToString() + " of " + owner_ref +
                      ", which has the same MAC " + mac +
                      "; an L2Only record and its Dynamic records share VSID and PA");
    } else if (r.type == RecordType::kL2Only) {
      l2only = index;
    }
  }
}

}  // namespace validate_internal

std::string PolicyError::ToString() const { return path + ": " + message; }

std::vector<PolicyError> ValidatePolicy(const Policy& p) {
  return validate_internal::Validator(p).Run();
}

}  // namespace hnv
