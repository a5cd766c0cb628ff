#include "dataplane/packet/parse.h"

namespace hnv {

const char* ParseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTruncatedEth:
      return "truncated-eth";
    case ParseError::kTruncatedVlan:
      return "truncated-vlan";
    case ParseError::kDoubleVlan:
      return "double-vlan";
    case ParseError::kTruncatedArp:
      return "truncated-arp";
    case ParseError::kBadArp:
      return "bad-arp";
    case ParseError::kTruncatedIpv4:
      return "truncated-ipv4";
    case ParseError::kBadIpv4Version:
      return "bad-ipv4-version";
    case ParseError::kBadIpv4Ihl:
      return "bad-ipv4-ihl";
    case ParseError::kBadIpv4Length:
      return "bad-ipv4-length";
    case ParseError::kTruncatedIpv6:
      return "truncated-ipv6";
    case ParseError::kBadIpv6Version:
      return "bad-ipv6-version";
    case ParseError::kBadIpv6Length:
      return "bad-ipv6-length";
    case ParseError::kTruncatedL4:
      return "truncated-l4";
    case ParseError::kCount:
      break;
  }
  return "unknown";
}

}  // namespace hnv
