// VmInterfaceCapture: `hnvctl capture TENANT/INTERFACE` on a compartment's
// interface into the VM network (it has no ethdev port: it is the virtual VM
// port the HNV pipeline delivers to). The frames the compartment receives
// from the VM network and those it sends into it are copied on the workers
// by GatewayFastPath (SetVmCapture) into a CaptureBuffer
// (dataplane/runtime/capture.h), drained by the daemon's control loop like
// any capture (daemon/captures.h). A compartment's external interfaces are
// captured as their port's frames of their VLAN (PortCapture).
//
// Thread: control thread; the copies on the workers.
#pragma once

#include <string>

#include "dataplane/runtime/capture.h"
#include "dataplane/runtime/dataplane.h"
#include "gateway/fastpath/gateway_fastpath.h"

namespace hnv::gateway {

class VmInterfaceCapture final : public FrameCapture {
 public:
  VmInterfaceCapture(Dataplane& dp, GatewayFastPath& fp) : dp_(dp), fp_(fp) {}
  ~VmInterfaceCapture() override { Stop(); }

  bool Start(uint16_t vm_port, const std::string& pcap_path, uint32_t snaplen, std::string* error);
  uint64_t Drain() override { return buf_.Drain(); }
  void Stop() override;
  uint64_t written() const override { return buf_.written(); }
  uint64_t lost() const override { return buf_.lost(); }

 private:
  Dataplane& dp_;
  GatewayFastPath& fp_;
  CaptureBuffer buf_;
  bool running_ = false;
};

}  // namespace hnv::gateway
