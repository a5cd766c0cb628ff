#include "gateway/gateway_capture.h"

namespace hnv::gateway {

bool VmInterfaceCapture::Start(uint16_t vm_port, const std::string& pcap_path, uint32_t snaplen,
                               std::string* error) {
  if (!buf_.Open(pcap_path, snaplen, error)) return false;
  if (!fp_.SetVmCapture(vm_port, &buf_)) {
    *error = "a capture of a compartment's VM interface runs already (one at a time)";
    buf_.Close();
    return false;
  }
  running_ = true;
  return true;
}

void VmInterfaceCapture::Stop() {
  if (running_) {
    fp_.ClearVmCapture();
    // No worker may still be copying into the buffer when it goes.
    dp_.SynchronizeWorkers();
    buf_.Drain();
    running_ = false;
  }
  buf_.Close();
}

}  // namespace hnv::gateway
