#include "nat/steering.h"

#include "nat/packet.h"

namespace hnv::nat {

uint32_t OwnerWorker(const uint8_t* frame, uint32_t len, Direction d, uint32_t workers) noexcept {
  if (workers <= 1) return 0;
  PacketView v;
  // ViewPacket keeps writable pointers for the rewrites; nothing here writes.
  const Drop why = ViewPacket(const_cast<uint8_t*>(frame), len, &v);
  if (v.ip == nullptr) return 0;
  const bool usable = why == Drop::kNone;
  const bool error = usable && v.kind == Kind::kIcmpError;
  switch (d) {
    case Direction::kFromInside:
      return HostWorker(error ? v.inner_dst.addr : v.src.addr, workers);
    case Direction::kToNatAddress: {
      uint16_t port_raw = 0;
      if (error)
        port_raw = v.inner_src.port;
      else if (usable && (v.kind == Kind::kTcp || v.kind == Kind::kUdp || v.kind == Kind::kIcmpQuery))
        port_raw = v.dst.port;
      else
        return HostWorker(v.src.addr, workers);
      return Be16::FromRaw(port_raw).ToHost() % workers;
    }
    case Direction::kFromOutside:
      return HostWorker(error ? v.inner_dst.addr : v.src.addr, workers);
  }
  return 0;
}

}  // namespace hnv::nat
