// hnv-lab-host: one host of the chapter's "Simple setup" running the real
// dataplane on DPDK, for the lab script (scripts/lab.sh) and the topology
// tests. It is a test tool until hnv-vswitch exists: the policy is the
// chapter's, compiled in (tests/lib/chapter_policy), not read from YAML.
//
//   hnv-lab-host --host 1|2 --uplink IFACE --vm IFACE [--vm IFACE]
//                [--report FILE] -- <EAL arguments>
//   hnv-lab-host --show 1|2      prints the host's Get-* views and exits
//
// Port 0 is the uplink, ports 1.. the VM adapters in the order given (the
// fixture's order: Host 1 Contoso1, Contoso2; Host 2 Contoso3). Runs until
// SIGTERM/SIGINT, then writes its counters (per port and per drop reason) to
// stdout, or to FILE.
#include <rte_eal.h>
#include <rte_lcore.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/policy/policy_dump.h"
#include "dataplane/policy/validate.h"
#include "dataplane/runtime/dataplane.h"
#include "tests/lib/chapter_policy.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;  // signal handler flag, not synchronisation
void OnSignal(int) { g_stop = 1; }

int Usage() {
  std::fprintf(stderr,
               "usage: hnv-lab-host --host 1|2 --uplink IFACE --vm IFACE [--vm IFACE] "
               "[--report FILE] -- <EAL args>\n");
  return 2;
}

void Report(FILE* out, const hnv::WorkerCounters& c, uint16_t ports) {
  for (uint16_t p = 0; p < ports; ++p)
    std::fprintf(out, "port %u rx %lu tx %lu\n", p, c.rx_packets[p], c.tx_packets[p]);
  std::fprintf(out,
               "switched %lu routed %lu encapsulated %lu decapsulated %lu flooded %lu "
               "arp_answered %lu echo_answered %lu mss_clamped %lu icmp_too_big %lu\n",
               c.switched, c.routed, c.encapsulated, c.decapsulated, c.flooded, c.arp_answered,
               c.echo_answered, c.mss_clamped, c.icmp_too_big);
  for (uint16_t d = 0; d < hnv::kDropCount; ++d)
    if (c.drops[d] != 0)
      std::fprintf(out, "drop %s %lu\n", hnv::DropName(static_cast<hnv::Drop>(d)), c.drops[d]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--show") == 0) {
    const hnv::Policy p = std::atoi(argv[2]) == 2 ? hnv::test::ChapterHost2() : hnv::test::ChapterHost1();
    std::printf("PS> Get-VMNetworkAdapter * | fl VMName,MacAddress,VirtualSubnetId,SwitchName\n\n%s\n"
                "PS> Get-NetVirtualizationCustomerRoute\n\n%s\n"
                "PS> Get-NetVirtualizationLookupRecord\n\n%s\n"
                "PS> Get-NetVirtualizationProviderAddress\n\n%s",
                hnv::DumpVmNetworkAdapters(p).c_str(), hnv::DumpCustomerRoutes(p).c_str(),
                hnv::DumpLookupRecords(p).c_str(), hnv::DumpProviderAddresses(p).c_str());
    return 0;
  }
  int host = 0;
  std::string uplink, report;
  std::vector<std::string> vms;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--host") host = std::atoi(argv[++i]);
    else if (a == "--uplink") uplink = argv[++i];
    else if (a == "--vm") vms.push_back(argv[++i]);
    else if (a == "--report") report = argv[++i];
    else return Usage();
  }
  if ((host != 1 && host != 2) || uplink.empty() || vms.empty() || i >= argc) return Usage();
  std::vector<char*> eal = {argv[0]};
  for (++i; i < argc; ++i) eal.push_back(argv[i]);
  if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
    std::fprintf(stderr, "hnv-lab-host: EAL initialisation failed\n");
    return 1;
  }

  const hnv::Policy policy = host == 1 ? hnv::test::ChapterHost1() : hnv::test::ChapterHost2();
  if (auto errors = hnv::ValidatePolicy(policy); !errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "policy: %s\n", e.ToString().c_str());
    return 1;
  }
  hnv::DataplaneConfig cfg;
  cfg.limits.max_records = 4096;
  cfg.limits.max_routes = 1024;
  cfg.limits.max_rds = 64;
  cfg.limits.max_peers = 256;
  cfg.mbufs = 8191;
  cfg.resolve_interval_s = 0.2;
  const unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 1);
  if (worker >= RTE_MAX_LCORE) {
    std::fprintf(stderr, "hnv-lab-host: needs a worker lcore (-l A,B)\n");
    return 1;
  }
  cfg.worker_lcores = {worker};
  std::string error;
  auto dp = hnv::Dataplane::Create(cfg, &error);
  if (!dp) {
    std::fprintf(stderr, "hnv-lab-host: %s\n", error.c_str());
    return 1;
  }
  auto attach = [&](uint16_t index, const std::string& iface) {
    const std::string dev =
        "net_af_packet" + std::to_string(index) + ",iface=" + iface + ",qdisc_bypass=1";
    if (!dp->AttachPort(index, dev, &error)) {
      std::fprintf(stderr, "hnv-lab-host: %s\n", error.c_str());
      return false;
    }
    return true;
  };
  if (!attach(0, uplink)) return 1;
  for (size_t v = 0; v < vms.size(); ++v)
    if (!attach(static_cast<uint16_t>(v + 1), vms[v])) return 1;
  if (!dp->tables().Apply(policy, &error) || !dp->Start(&error)) {
    std::fprintf(stderr, "hnv-lab-host: %s\n", error.c_str());
    return 1;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::printf("hnv-lab-host %d: running (uplink %s, %zu VM adapters)\n", host, uplink.c_str(),
              vms.size());
  std::fflush(stdout);
  while (!g_stop) {
    dp->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  dp->Stop();
  FILE* out = report.empty() ? stdout : std::fopen(report.c_str(), "w");
  if (out != nullptr) {
    Report(out, dp->Counters(), static_cast<uint16_t>(vms.size() + 1));
    if (out != stdout) std::fclose(out);
  }
  dp.reset();
  rte_eal_cleanup();
  return 0;
}
