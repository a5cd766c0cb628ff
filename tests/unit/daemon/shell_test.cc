// The daemons' shell without EAL: the command line (common options, a
// program's own, errors naming the option), the usage line, and the check
// that a reload keeps the ports.
#include "daemon/shell.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hnv::daemon {
namespace {

struct Parsed {
  int dashdash = -1;
  std::string error;
  CommonOptions options;
  std::string journal;
};

Parsed Parse(std::vector<std::string> args) {
  Parsed p;
  ProgramInfo info{
      "hnv-test", "0.1", "/run/hnv/test.sock", "refused", {{"--journal", "FILE", &p.journal}}};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  p.dashdash =
      ParseCommandLine(static_cast<int>(argv.size()), argv.data(), info, &p.options, &p.error);
  return p;
}

TEST(ShellCommandLine, CommonAndOwnOptions) {
  const Parsed p =
      Parse({"hnv-test", "--config", "/etc/h.yaml", "--journal", "/var/j", "--socket",
             "/run/s.sock", "--max-records", "1000", "--max-routes", "20", "--", "-l", "0,1"});
  ASSERT_EQ(p.dashdash, 11) << p.error;
  EXPECT_EQ(p.options.config_path, "/etc/h.yaml");
  EXPECT_EQ(p.options.socket_path, "/run/s.sock");
  EXPECT_EQ(p.options.max_records, 1000u);
  EXPECT_EQ(p.options.max_routes, 20u);
  EXPECT_EQ(p.journal, "/var/j");

  const Parsed defaults = Parse({"hnv-test", "--config", "c.yaml"});
  EXPECT_EQ(defaults.dashdash, 3);
  EXPECT_EQ(defaults.options.max_records, CommonOptions{}.max_records);
  EXPECT_EQ(defaults.journal, "");
}

TEST(ShellCommandLine, ErrorsNameTheOption) {
  EXPECT_EQ(Parse({"hnv-test"}).error, "--config or --store is required");
  EXPECT_EQ(Parse({"hnv-test", "--config"}).error, "--config needs a value");
  EXPECT_EQ(Parse({"hnv-test", "--config", "c", "--nosuch", "x"}).error, "unknown option --nosuch");
  EXPECT_EQ(Parse({"hnv-test", "--config", "c", "--max-records", "12k"}).error,
            "--max-records: \"12k\" is not a number");
  EXPECT_EQ(Parse({"hnv-test", "--config", "c", "--max-routes", "99999999999"}).error,
            "--max-routes: \"99999999999\" is not a number");
  EXPECT_EQ(Parse({"hnv-test", "--config", "c", "--max-routes", "-1"}).dashdash, -1);
}

TEST(ShellCommandLine, TheStoreInsteadOfAFile) {
  const Parsed p = Parse({"hnv-test", "--store", "https://10.0.0.1:2379", "--host", "host1",
                          "--store-root", "/dc1/", "--store-ca", "ca.crt", "--store-cert",
                          "h1.crt", "--store-key", "h1.key"});
  ASSERT_EQ(p.dashdash, 13) << p.error;  // argc: no "--"
  EXPECT_EQ(p.options.config_path, "");
  EXPECT_EQ(p.options.store.url, "https://10.0.0.1:2379");
  EXPECT_EQ(p.options.store.host, "host1");
  EXPECT_EQ(p.options.store.root, "/dc1/");
  EXPECT_EQ(p.options.store.ca_file, "ca.crt");
  EXPECT_EQ(p.options.store.cert_file, "h1.crt");
  EXPECT_EQ(p.options.store.key_file, "h1.key");
  EXPECT_EQ(Parse({"hnv-test", "--store", "http://a:2379"}).error,
            "--store needs --host NAME (this host's name in the store)");
  EXPECT_EQ(Parse({"hnv-test", "--store", "u", "--host", "h", "--config", "c"}).error,
            "--config and --store exclude each other (a host follows its file or the store)");
  EXPECT_EQ(Parse({"hnv-test", "--config", "c", "--host", "h"}).error,
            "--host, --store-root, --store-ca, --store-cert and --store-key go with --store");
  EXPECT_EQ(Parse({"hnv-test", "--store", "u", "--host", "h", "--store-cert", "c"}).error,
            "--store-cert and --store-key go together");
}

TEST(ShellCommandLine, Usage) {
  std::string a, b;
  ProgramInfo info{"hnv-gateway",
                   "0.1",
                   "",
                   "",
                   {{"--state-dir", "DIR", &a}, {"--namespace-prefix", "PFX", &b}}};
  EXPECT_EQ(Usage(info),
            "usage: hnv-gateway --config FILE | --store URL --host NAME [--store-root PREFIX] "
            "[--store-ca FILE --store-cert FILE --store-key FILE] [--socket PATH] [--state-dir DIR] "
            "[--namespace-prefix PFX] [--max-records N] [--max-routes N] [--metrics HOST:PORT] [-- EAL args]");
}

TEST(ShellPorts, AReloadKeepsThePorts) {
  const std::vector<config::PortSpec> running = {{0, "uplink", "net_ring0"},
                                                 {1, "vm1", "net_ring1"}};
  EXPECT_EQ(PortsChangeProblem(running, running), "");
  EXPECT_EQ(PortsChangeProblem(running, {running[0]}),
            "ports changed: adding or removing ports needs a restart");
  EXPECT_EQ(PortsChangeProblem(running, {running[0], {1, "vm1", "net_ring9"}}),
            "port vm1: device changed: needs a restart");
}

}  // namespace
}  // namespace hnv::daemon
