// store_bench: the central policy store's figures (config/store/README.md
// "Benchmark"), against a real etcd (tests/bench/store/store_bench.sh
// starts one on loopback), with simulated hosts (sim_hosts.h: each host's
// store-and-apply logic without ports, many in one process).
//
//   one change to every host   N hosts carry one VM network with one VM on
//                              each; a change (a new VM's records) goes to
//                              the store; the time from its commit until
//                              each host applied it: p50 / p99 / max over
//                              N hosts x --changes changes, at each --hosts N
//   today's way                the same change pushed as hnv-vswitch takes
//                              it today: the tenant file rewritten, and on
//                              each host (one after the other, as one
//                              operator's loop of `hnvctl apply`) the host's
//                              reload: its YAML loaded (LoadHostConfig),
//                              validated, diffed and indexed; host-side work
//                              only (no copy to the hosts, no process
//                              start): a lower bound of today's way
//   bulk                       --bulk-vms VMs in --bulk-tenants VM networks
//                              over --bulk-hosts hosts (each network on
//                              --spread hosts), written one network per
//                              transaction, until every host concerned
//                              applied all of its networks
//
// Prints one line per figure; exits 1 when a host does not converge.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "config/host_config.h"
#include "config/policy/validate.h"
#include "config/store/writer.h"
#include "tests/bench/store/sim_hosts.h"

namespace hnv::store::bench {
namespace {

using std::chrono::milliseconds;

struct Args {
  std::string etcd;
  std::vector<int> hosts = {100, 1000};
  int changes = 20;
  int bulk_vms = 100000;
  int bulk_tenants = 1000;
  int bulk_hosts = 1000;
  int spread = 10;
  int clients = 32;
  int apply_threads = 2;
  bool bulk = true;
  bool yaml = true;
  std::string root;
};

std::string Fmt(const char* f, int i) {
  char b[64];
  std::snprintf(b, sizeof(b), f, i);
  return b;
}

std::string HostName(int i) { return Fmt("h%04d", i); }
// Every host's PA on one /16, so that each reaches every other.
IpAddr HostPa(int i) {
  return IpAddr::V4((172u << 24) | (16u << 16) | (static_cast<uint32_t>(i / 250) << 8) |
                    static_cast<uint32_t>(i % 250 + 1));
}
MacAddr Mac(uint32_t hi, uint32_t lo) {
  char b[32];
  std::snprintf(b, sizeof(b), "02%02x%04x%04x", hi & 0xff, (lo >> 16) & 0xffff, lo & 0xffff);
  return *MacAddr::Parse(b);
}
IpAddr Ca(uint32_t base, int i) { return IpAddr::V4(base + 2 + static_cast<uint32_t>(i)); }

HostDoc MakeHost(int i) {
  HostDoc h;
  h.name = HostName(i);
  h.ports = {{0, "uplink", "net_null0"}, {1, "vm1", "net_null1"}};
  ProviderAddress pa;
  pa.address = HostPa(i);
  pa.prefix_len = 16;
  pa.mac = Mac(0xaa, static_cast<uint32_t>(i));
  h.provider_addresses = {pa};
  return h;
}

TenantDoc MakeTenant(const std::string& name, int index, uint32_t vsid, const char* prefix) {
  TenantDoc t;
  t.name = name;
  t.routing_domain.rdid = *Guid::Parse(Fmt("{%08x-0000-4000-8000-000000000001}", index + 1));
  t.routing_domain.name = name;
  VirtualSubnet s;
  s.vsid = vsid;
  s.rdid = t.routing_domain.rdid;
  s.prefixes = {*IpPrefix::Parse(prefix)};
  t.subnets = {s};
  LookupRecord dfgw;  // the subnet's first address, each host's own PA
  dfgw.ca = IpAddr::V4(s.prefixes[0].addr.v4_host() + 1);
  dfgw.vsid = vsid;
  dfgw.mac = Mac(0xdf, vsid);
  t.local_records = {dfgw};
  return t;
}

VmDoc MakeVm(const std::string& name, const std::string& tenant, uint32_t vsid, IpAddr ca,
             MacAddr mac, const std::string& host, const std::string& port) {
  VmDoc v;
  v.name = name;
  v.tenant = tenant;
  v.vsid = vsid;
  v.mac = mac;
  v.addresses = {ca};
  v.host = host;
  v.port = port;
  return v;
}

// One write, or the program stops saying why.
WriteResult MustWrite(StoreWriter& w, const std::function<StoreEdit()>& edit, const char* what) {
  WriteResult r = w.Write(
      [&](const StoreState&) {
        StoreWriter::Made m;
        m.edit = edit();
        return m;
      },
      what);
  if (r.outcome != WriteResult::Outcome::kApplied) {
    std::fprintf(stderr, "store_bench: %s: %s\n", what, r.ToString().c_str());
    std::exit(1);
  }
  return r;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// ---- today's way: the same change through YAML, host by host ----

void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string TenantYaml(int n, int probes) {
  std::string y =
      "routing_domains:\n  - rdid: \"{00000001-0000-4000-8000-000000000001}\"\n    name: bench\n"
      "    virtual_subnets:\n      - vsid: 5000\n        prefix: 10.0.0.0/16\n"
      "lookup_records:\n  - customer_address: 10.0.0.1\n    vsid: 5000\n    mac: " +
      Mac(0xdf, 5000).ToCompactString() + "\n    provider_address: local\n";
  for (int i = 0; i < n + probes; ++i) {
    const bool probe = i >= n;
    const int host = probe ? (i - n) % n : i;
    y += "  - customer_address: " + Ca(10u << 24, i).ToString() +
         "\n    vsid: 5000\n    mac: " + Mac(probe ? 0xbb : 0x0a, static_cast<uint32_t>(i)).ToCompactString() +
         "\n    provider_address: " + HostPa(host).ToString() + "\n";
  }
  return y;
}

std::string HostYaml(int i) {
  return "include:\n  - tenant.yaml\nhost:\n  name: " + HostName(i) +
         "\nports:\n  - name: uplink\n    device: net_null0\n  - name: vm1\n    device: net_null1\n"
         "provider_addresses:\n  - address: " + HostPa(i).ToString() +
         "\n    prefix_length: 16\n    mac: " + Mac(0xaa, static_cast<uint32_t>(i)).ToCompactString() +
         "\n    port: uplink\nvm_network_adapters:\n  - vm_name: " + Fmt("vm%04d", i) +
         "\n    mac: " + Mac(0x0a, static_cast<uint32_t>(i)).ToCompactString() +
         "\n    vsid: 5000\n    port: vm1\n";
}

// One host's reload as hnv-vswitch does it (less the tables): load, validate, diff, index.
double ReloadHost(const std::string& file, std::unique_ptr<RecordIndex>* running) {
  const Clock::time_point t0 = Clock::now();
  config::LoadResult loaded = config::LoadHostConfig(file);
  if (!loaded.config) {
    std::fprintf(stderr, "store_bench: %s: %s\n", file.c_str(),
                 loaded.errors.front().ToString().c_str());
    std::exit(1);
  }
  if (!ValidatePolicy(loaded.config->policy).empty()) {
    std::fprintf(stderr, "store_bench: %s: invalid policy\n", file.c_str());
    std::exit(1);
  }
  size_t same = 0;
  if (*running) {
    std::vector<std::string> before;
    (*running)->ForEach([&](const LookupRecord& r) { before.push_back(r.ca.ToString() + r.pa.ToString()); });
    std::sort(before.begin(), before.end());
    for (const LookupRecord& r : loaded.config->policy.records)
      same += std::binary_search(before.begin(), before.end(), r.ca.ToString() + r.pa.ToString());
  }
  (void)same;
  *running = std::make_unique<RecordIndex>(std::move(loaded.config->policy));
  return Ms(Clock::now() - t0);
}

// The change of OneChange through YAML: total and per-host milliseconds.
void TodaysWay(int n, double store_max_ms, double store_p99_ms) {
  const std::filesystem::path dir = Fmt("/tmp/hnv-store-bench-%d", static_cast<int>(::getpid()));
  std::filesystem::create_directories(dir);
  WriteFile(dir / "tenant.yaml", TenantYaml(n, 0));
  std::vector<std::unique_ptr<RecordIndex>> running(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    WriteFile(dir / (HostName(i) + ".yaml"), HostYaml(i));
    ReloadHost((dir / (HostName(i) + ".yaml")).string(), &running[static_cast<size_t>(i)]);
  }
  const Clock::time_point t0 = Clock::now();
  WriteFile(dir / "tenant.yaml", TenantYaml(n, 1));
  std::vector<double> per_host;
  for (int i = 0; i < n; ++i)
    per_host.push_back(ReloadHost((dir / (HostName(i) + ".yaml")).string(), &running[static_cast<size_t>(i)]));
  const double total = Ms(Clock::now() - t0);
  std::filesystem::remove_all(dir);
  std::printf("today's way, %d hosts: one host's reload (load YAML, validate, diff, index) p50 %.1f ms, "
              "max %.1f ms; every host one after the other %.0f ms: %.2fx the store's max, %.2fx its p99\n",
              n, Pct(per_host, 0.5), Pct(per_host, 1.0), total, total / store_max_ms,
              total / store_p99_ms);
}

// ---- one change to every host ----

void OneChange(const Args& a, const std::vector<EtcdClient*>& clients, int n) {
  const Layout layout(a.root + Fmt("change%d/", n));
  StoreWriter w(clients[0], layout);
  const char* prefix = "10.0.0.0/16";
  const Clock::time_point t_load = Clock::now();
  const WriteResult first = MustWrite(
      w,
      [&] {
        StoreEdit e;
        for (int i = 0; i < n; ++i) e.hosts[HostName(i)] = MakeHost(i);
        e.tenants["bench"] = MakeTenant("bench", 0, 5000, prefix);
        for (int i = 0; i < n; ++i)
          e.vms["bench"][Fmt("vm%04d", i)] = MakeVm(Fmt("vm%04d", i), "bench", 5000, Ca(10u << 24, i),
                                                    Mac(0x0a, static_cast<uint32_t>(i)), HostName(i), "vm1");
        return e;
      },
      "load");
  const double load_write = Ms(Clock::now() - t_load);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(HostName(i));
  const Clock::time_point t_start = Clock::now();
  SimHosts sim(clients, layout, names, a.apply_threads);
  if (!sim.WaitApplied(first.revision, milliseconds(600'000))) {
    std::fprintf(stderr, "store_bench: %d hosts did not all start\n", n);
    std::exit(1);
  }
  std::printf("%d hosts: store loaded in %.0f ms (one transaction, validated); every host started and "
              "applied it in %.0f ms (%zu records in all)\n",
              n, load_write, Ms(Clock::now() - t_start), sim.records());
  std::vector<double> lat, after_commit, writer;
  for (int k = 0; k < a.changes; ++k) {
    std::this_thread::sleep_for(milliseconds(100));  // changes apart: each one alone
    const Clock::time_point t0 = Clock::now();
    const WriteResult r = MustWrite(
        w,
        [&] {
          StoreEdit e;
          const int i = n + k;
          e.vms["bench"][Fmt("probe%04d", k)] =
              MakeVm(Fmt("probe%04d", k), "bench", 5000, Ca(10u << 24, i), Mac(0xbb, static_cast<uint32_t>(i)),
                     HostName(k % n), "");
          return e;
        },
        "change");
    const Clock::time_point committed = Clock::now();
    writer.push_back(Ms(committed - t0));
    if (!sim.WaitApplied(r.revision, milliseconds(120'000))) {
      std::fprintf(stderr, "store_bench: change %d did not reach every host\n", k);
      std::exit(1);
    }
    for (const Clock::time_point at : sim.AppliedAt(r.revision)) {
      lat.push_back(Ms(at - t0));
      after_commit.push_back(std::max(0.0, Ms(at - committed)));
    }
  }
  const double p99 = Pct(lat, 0.99), mx = Pct(lat, 1.0);
  std::printf("%d hosts, one change to every host (%d changes, %zu host applies): write -> applied "
              "p50 %.1f ms, p99 %.1f ms, max %.1f ms (from the writer's call: validation on every "
              "host, etcd's commit, the watch, each host's compute and apply); the writer until "
              "etcd answered p50 %.1f ms; after that answer p50 %.1f ms, p99 %.1f ms\n",
              n, a.changes, lat.size(), Pct(lat, 0.5), p99, mx, Pct(writer, 0.5),
              Pct(after_commit, 0.5), Pct(after_commit, 0.99));
  std::fflush(stdout);
  if (a.yaml) TodaysWay(n, mx, p99);
}

// ---- bulk ----

void Bulk(const Args& a, const std::vector<EtcdClient*>& clients) {
  const Layout layout(a.root + "bulk/");
  StoreWriter w(clients[0], layout);
  const int per_tenant = a.bulk_vms / a.bulk_tenants;
  const int groups = a.bulk_hosts / a.spread;  // tenant t runs on hosts t % groups + groups * k
  const Clock::time_point t0 = Clock::now();
  MustWrite(
      w,
      [&] {
        StoreEdit e;
        for (int i = 0; i < a.bulk_hosts; ++i) e.hosts[HostName(i)] = MakeHost(i);
        return e;
      },
      "hosts");
  std::vector<std::string> names;
  for (int i = 0; i < a.bulk_hosts; ++i) names.push_back(HostName(i));
  SimHosts sim(clients, layout, names, a.apply_threads);
  std::vector<int64_t> need(static_cast<size_t>(a.bulk_hosts), 0);
  const Clock::time_point t_vms = Clock::now();
  for (int t = 0; t < a.bulk_tenants; ++t) {
    const std::string tenant = Fmt("t%04d", t);
    const WriteResult r = MustWrite(
        w,
        [&] {
          StoreEdit e;
          e.tenants[tenant] = MakeTenant(tenant, t, 10000 + static_cast<uint32_t>(t), "10.0.0.0/16");
          for (int j = 0; j < per_tenant; ++j) {
            const int host = t % groups + groups * (j % a.spread);
            const std::string vm = tenant + Fmt("-vm%03d", j);
            // No adapter: a port per VM would make every host document (all
            // mirrored by every host) carry hundreds of ports.
            e.vms[tenant][vm] = MakeVm(vm, tenant, 10000 + static_cast<uint32_t>(t), Ca(10u << 24, j),
                                       Mac(static_cast<uint32_t>(t >> 8), static_cast<uint32_t>(t << 16 | j)),
                                       HostName(host), "");
          }
          return e;
        },
        "tenant");
    for (const std::string& h : r.hosts) need[static_cast<size_t>(std::stoi(h.substr(1)))] = r.revision;
  }
  const double written = Ms(Clock::now() - t_vms);
  if (!sim.WaitApplied(need, milliseconds(1'800'000))) {
    std::fprintf(stderr, "store_bench: bulk: not every host applied its VM networks\n");
    std::exit(1);
  }
  const double applied = Ms(Clock::now() - t_vms);
  std::printf("bulk: %d VMs in %d VM networks on %d hosts (%d each): written in %.1f s (%.0f VMs/s, "
              "one transaction per network); applied on every host concerned %.1f s after the first "
              "write (%zu records running in all, %llu policies applied); hosts' documents and "
              "followers' start %.1f s before\n",
              a.bulk_vms, a.bulk_tenants, a.bulk_hosts, a.spread, written / 1000,
              a.bulk_vms / (written / 1000), applied / 1000, sim.records(),
              static_cast<unsigned long long>(sim.applies()), Ms(t_vms - t0) / 1000);
}

std::vector<int> IntList(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p != '\0';) {
    out.push_back(std::atoi(p));
    while (*p != '\0' && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return out;
}

int Main(int argc, char** argv) {
  Args a;
  a.root = Fmt("/hnv-bench-%d/", static_cast<int>(::getpid()));
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (k == "--etcd") a.etcd = v, ++i;
    else if (k == "--hosts") a.hosts = IntList(v), ++i;
    else if (k == "--changes") a.changes = std::atoi(v), ++i;
    else if (k == "--bulk-vms") a.bulk_vms = std::atoi(v), ++i;
    else if (k == "--bulk-tenants") a.bulk_tenants = std::atoi(v), ++i;
    else if (k == "--bulk-hosts") a.bulk_hosts = std::atoi(v), ++i;
    else if (k == "--spread") a.spread = std::atoi(v), ++i;
    else if (k == "--clients") a.clients = std::atoi(v), ++i;
    else if (k == "--apply-threads") a.apply_threads = std::atoi(v), ++i;
    else if (k == "--no-bulk") a.bulk = false;
    else if (k == "--no-yaml") a.yaml = false;
    else {
      std::fprintf(stderr,
                   "usage: store_bench --etcd HOST:PORT [--hosts 100,1000] [--changes N] "
                   "[--bulk-vms N --bulk-tenants N --bulk-hosts N --spread N] [--clients N] "
                   "[--apply-threads N] [--no-bulk] [--no-yaml]\n");
      return 2;
    }
  }
  if (a.etcd.empty() || a.bulk_tenants <= 0 || a.spread <= 0 || a.bulk_hosts % a.spread != 0) {
    std::fprintf(stderr, "store_bench: --etcd is required; --bulk-hosts must be a multiple of --spread\n");
    return 2;
  }
  std::string error;
  std::optional<EtcdOptions> eo = ParseEndpoints(a.etcd, &error);
  if (!eo) {
    std::fprintf(stderr, "store_bench: %s\n", error.c_str());
    return 2;
  }
  eo->timeout_ms = 60'000;  // a bulk transaction on a loaded machine
  std::vector<std::unique_ptr<EtcdClient>> owned;
  std::vector<EtcdClient*> clients;
  for (int i = 0; i < std::max(1, a.clients); ++i) {
    owned.push_back(EtcdClient::Connect(*eo, &error));
    if (!owned.back()) {
      std::fprintf(stderr, "store_bench: %s\n", error.c_str());
      return 1;
    }
    clients.push_back(owned.back().get());
  }
  for (int n : a.hosts) OneChange(a, clients, n);
  if (a.bulk) Bulk(a, clients);
  return 0;
}

}  // namespace
}  // namespace hnv::store::bench

int main(int argc, char** argv) { return hnv::store::bench::Main(argc, argv); }
