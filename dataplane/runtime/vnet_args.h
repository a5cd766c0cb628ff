// The device string of a VnetPort (vnet_port.h), parsed where the port is
// opened and where the host's YAML is checked (config/yaml_loader.cc), so
// that a wrong argument is refused with the file and line of the `device`
// field instead of when the daemon starts. No DPDK, no I/O.
//
//   "hnv_vnet<N>,iface=<name>[,rx_frames=512][,tx_frames=256][,gso=1]"
#pragma once

#include <net/if.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace hnv {

struct VnetArgs {
  static constexpr const char* kPrefix = "hnv_vnet";
  static constexpr uint32_t kMaxFrames = 1u << 16;
  std::string iface;
  uint32_t rx_frames = 512;
  uint32_t tx_frames = 256;
  bool gso = true;  // the VM takes large segments

  // Whether a device string names a VnetPort.
  static bool Names(const std::string& device) {
    return device.compare(0, std::char_traits<char>::length(kPrefix), kPrefix) == 0;
  }
  // The "key=value" pairs after the device name; false with *error.
  bool Parse(const std::string& device, std::string* error) {
    size_t pos = device.find(',');
    while (pos != std::string::npos) {
      const size_t next = device.find(',', pos + 1);
      const std::string kv =
          device.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
      pos = next;
      const size_t eq = kv.find('=');
      const std::string key = kv.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      auto number = [&](uint32_t* out, uint32_t lo, uint32_t hi) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || v < lo || v > hi) {
          *error = "'" + device + "': " + key + "=" + value + " is not a number in " +
                   std::to_string(lo) + ".." + std::to_string(hi);
          return false;
        }
        *out = static_cast<uint32_t>(v);
        return true;
      };
      if (key == "iface") {
        iface = value;
      } else if (key == "rx_frames") {
        if (!number(&rx_frames, 8, kMaxFrames)) return false;
      } else if (key == "tx_frames") {
        if (!number(&tx_frames, 8, kMaxFrames)) return false;
      } else if (key == "gso") {
        uint32_t v = 0;
        if (!number(&v, 0, 1)) return false;
        gso = v == 1;
      } else {
        *error = "'" + device + "': unknown argument '" + key +
                 "' (iface, rx_frames, tx_frames, gso)";
        return false;
      }
    }
    if (iface.empty() || iface.size() >= IFNAMSIZ) {
      *error = "'" + device + "': needs iface=<interface name> (at most " +
               std::to_string(IFNAMSIZ - 1) + " characters)";
      return false;
    }
    return true;
  }
};

}  // namespace hnv
