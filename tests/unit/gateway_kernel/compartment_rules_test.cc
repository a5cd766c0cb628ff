// The mirror service and routing rules (`ip rule`), with real `ip rule` /
// `ip route` in the compartment's namespace: what the fast path (the
// compartment's FIB in GatewayTables) holds before, with and after each rule.
//  - an unconditional rule before main: its table's prefixes, and the main
//    routes at or inside them, are punt; removing the rule restores them;
//  - a rule with a selector (or another action) before main: the whole
//    compartment is punt (0.0.0.0/0 punt, no other route), with the reason;
//    removing it restores everything;
//  - rules after main change nothing.
#include <algorithm>

#include "tests/unit/gateway_kernel/compartment_fixture.h"

namespace hnv::gateway::test {
namespace {

using nlohmann::json;
using Fib = std::map<std::string, std::string>;  // prefix -> what the fast path does

class CompartmentRulesTest : public CompartmentTest {
 protected:
  void SetUp() override {
    CompartmentTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    spec_ = Spec();
    std::string error;
    c_ = Compartment::Create(spec_, Env(), &error);
    ASSERT_TRUE(c_) << error;
    // Main routes: a /16 and two more-specific ones inside it, one outside.
    for (const char* p : {"10.9.0.0/16", "10.9.9.0/24", "10.9.9.128/25", "10.8.0.0/16"})
      ASSERT_EQ(Ip(std::string("route add ") + p + " via 10.1.3.100"), 0) << p;
    ASSERT_TRUE(Settles([&] { return FibNow().count("10.8.0.0/16") != 0; }));
    base_ = FibNow();
    ASSERT_EQ(base_["10.9.9.0/24"], "forward");
    ASSERT_EQ(base_["10.0.1.0/24"], "forward");
    ASSERT_EQ(base_["10.0.2.2/32"], "local");
    ASSERT_EQ(base_.count("0.0.0.0/0"), 0u);
  }
  void TearDown() override {
    c_.reset();
    CompartmentTest::TearDown();
  }

  int Ip(const std::string& args) { return Sh("ip -n " + spec_.netns + " " + args); }
  bool Settles(const std::function<bool()>& pred) { return Until(*c_, pred); }
  // Waits until the FIB equals `want`; on a timeout the FIB as it is, for the message.
  ::testing::AssertionResult FibBecomes(const Fib& want) {
    if (Settles([&] { return FibNow() == want; })) return ::testing::AssertionSuccess();
    std::string got;
    for (const auto& [p, k] : FibNow()) got += p + " " + k + "\n";
    return ::testing::AssertionFailure() << "FIB is:\n" << got;
  }
  // The status's fast_path column for `destination` in `table`.
  std::string RouteLabel(const std::string& destination, const std::string& table = "main") {
    const json status = c_->Status("vm:69", {});
    for (const json& r : status["routes"])
      if (r["destination"] == destination && r["table"] == table) return r["fast_path"];
    return "(no such route)";
  }
  std::string FastPath() { return c_->Status("vm:69", {})["fast_path"]; }

  CompartmentSpec spec_;
  std::unique_ptr<Compartment> c_;
  Fib base_;
};

TEST_F(CompartmentRulesTest, ATableBeforeMainPuntsItsPrefixesAndTheMainRoutesInside) {
  ASSERT_EQ(Ip("route add 10.9.0.0/16 dev lo table 100"), 0);
  ASSERT_TRUE(Settles([&] { return RouteLabel("10.9.0.0/16", "100") != "(no such route)"; }));
  EXPECT_EQ(RouteLabel("10.9.0.0/16", "100"), "unused (no rule looks up table 100)");
  EXPECT_EQ(FibNow(), base_) << "a table no rule looks up changes nothing";

  ASSERT_EQ(Ip("rule add pref 100 lookup 100"), 0);
  Fib want = base_;
  want["10.9.0.0/16"] = want["10.9.9.0/24"] = want["10.9.9.128/25"] = "punt";
  EXPECT_TRUE(FibBecomes(want));
  EXPECT_EQ(RouteLabel("10.9.9.0/24"), "punt (table 100 precedes main)");
  EXPECT_EQ(RouteLabel("10.9.0.0/16", "100"), "punt (table 100 precedes main)");
  EXPECT_EQ(RouteLabel("10.8.0.0/16"), "forward");
  EXPECT_EQ(FastPath(),
            "main table; the kernel decides the prefixes of table 100 (rule 100 precedes main)");

  // While the rule is there: a main route inside, and a table-100 route
  // with no main route under it, are punt too.
  ASSERT_EQ(Ip("route add 10.9.5.0/24 via 10.1.3.100"), 0);
  ASSERT_EQ(Ip("route add 10.7.0.0/16 dev lo table 100"), 0);
  want["10.9.5.0/24"] = "punt";
  want["10.7.0.0/16"] = "punt";
  EXPECT_TRUE(FibBecomes(want));

  // The table's route goes: the main routes under it come back.
  ASSERT_EQ(Ip("route del 10.9.0.0/16 dev lo table 100"), 0);
  want = base_;
  want["10.9.5.0/24"] = "forward";
  want["10.7.0.0/16"] = "punt";
  EXPECT_TRUE(FibBecomes(want));
  ASSERT_EQ(Ip("route add 10.9.0.0/16 dev lo table 100"), 0);

  // The rule goes: everything as before.
  ASSERT_EQ(Ip("rule del pref 100 lookup 100"), 0);
  want = base_;
  want["10.9.5.0/24"] = "forward";
  EXPECT_TRUE(FibBecomes(want));
  EXPECT_EQ(RouteLabel("10.9.9.0/24"), "forward");
  EXPECT_EQ(FastPath(), "main table");
}

TEST_F(CompartmentRulesTest, ARuleWithASelectorPuntsTheWholeCompartment) {
  ASSERT_EQ(Ip("route add 10.9.0.0/16 dev lo table 100"), 0);
  Fib all_punt;
  all_punt["0.0.0.0/0"] = "punt";
  // The addresses (lo's too) stay local entries: the kernel's anyway.
  all_punt["10.0.2.2/32"] = all_punt["10.1.3.2/32"] = all_punt["127.0.0.1/32"] = "local";
  struct Case {
    const char* rule;
    const char* why;  // in the status
  };
  const Case cases[] = {
      {"from 10.0.1.0/24 lookup 100",
       "rule 50: from 10.0.1.0/24 lookup 100 precedes main and has a selector"},
      {"to 10.9.0.0/16 lookup 100", "rule 50: from all to 10.9.0.0/16 lookup 100 precedes main"},
      {"fwmark 0x1 lookup 100", "rule 50: from all fwmark 0x1/0xffffffff lookup 100"},
      {"iif vmnet lookup 100", "rule 50: from all iif vmnet lookup 100"},
      {"tos 0x10 lookup 100", "rule 50: from all tos 0x10 lookup 100"},
      {"uidrange 1000-2000 lookup 100", "rule 50: from all uidrange 1000-2000 lookup 100"},
      {"ipproto tcp dport 443 lookup 100",
       "rule 50: from all ipproto 6 dport 443"},  // (+ a newer kernel's port mask)
      {"not from 10.0.1.0/24 lookup 100", "rule 50: not from 10.0.1.0/24 lookup 100"},
      {"from 10.0.1.0/24 lookup main", "rule 50: from 10.0.1.0/24 lookup main"},
      {"lookup main suppress_prefixlength 0", "suppress_prefixlength 0 lookup main"},
      {"blackhole", "rule 50: from all blackhole precedes main"},
      {"goto 32766", "rule 50: from all goto 32766 precedes main"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.rule);
    ASSERT_EQ(Ip(std::string("rule add pref 50 ") + k.rule), 0);
    EXPECT_TRUE(FibBecomes(all_punt));
    const std::string fp = FastPath();
    EXPECT_EQ(fp.rfind("everything to the kernel: ", 0), 0u) << fp;
    EXPECT_NE(fp.find(k.why), std::string::npos) << fp;
    EXPECT_EQ(RouteLabel("10.9.9.0/24"), "punt (rule 50 precedes main)");
    EXPECT_EQ(RouteLabel("10.0.2.2/32", "local"), "local");
    ASSERT_EQ(Ip(std::string("rule del pref 50 ") + k.rule), 0);
    EXPECT_TRUE(FibBecomes(base_));
    EXPECT_EQ(FastPath(), "main table");
  }
  // No rule for main at all: the kernel would not consult it.
  ASSERT_EQ(Ip("rule del pref 32766 lookup main"), 0);
  EXPECT_TRUE(FibBecomes(all_punt));
  EXPECT_EQ(FastPath(),
            "everything to the kernel: no rule looks up the main table for every packet");
  ASSERT_EQ(Ip("rule add pref 32766 lookup main"), 0);
  EXPECT_TRUE(FibBecomes(base_));
}

TEST_F(CompartmentRulesTest, RulesAfterMainChangeNothing) {
  // strongSwan's route-based recipe: table 220 after main (RECIPES.md §1.8).
  ASSERT_EQ(Ip("route add default dev lo table 220"), 0);
  ASSERT_EQ(Ip("route add 10.9.9.0/24 dev lo table 220"), 0);
  ASSERT_EQ(Ip("rule add pref 32767 lookup 220"), 0);
  ASSERT_EQ(Ip("rule add pref 40000 from 10.0.1.0/24 fwmark 0x2 lookup 100"), 0);
  ASSERT_TRUE(Settles([&] {
    return RouteLabel("0.0.0.0/0", "220") == "kernel (table 220 after main)";
  })) << RouteLabel("0.0.0.0/0", "220");
  const std::string kernel_rules =
      ShOut("ip -n " + spec_.netns + " -4 rule; ip -n " + spec_.netns + " -6 rule");
  EXPECT_EQ(c_->Status("vm:69", {})["services"][2]["detail"]["rules"].size(),
            static_cast<size_t>(std::count(kernel_rules.begin(), kernel_rules.end(), '\n')))
      << "every IPv4 and IPv6 rule is followed:\n"
      << kernel_rules;
  EXPECT_EQ(FibNow(), base_);
  EXPECT_EQ(FastPath(), "main table");
  EXPECT_EQ(RouteLabel("10.9.9.0/24"), "forward");
  // A rule with the same priority as main's counts as before it.
  ASSERT_EQ(Ip("rule add pref 32766 lookup 220"), 0);
  Fib want = base_;
  want["0.0.0.0/0"] = "punt";  // table 220's default route: the kernel decides everything
  want["10.9.0.0/16"] = want["10.9.9.0/24"] = want["10.9.9.128/25"] = want["10.8.0.0/16"] = "punt";
  want["10.0.1.0/24"] = want["10.1.3.0/24"] = want["10.0.2.0/24"] = "punt";
  EXPECT_TRUE(FibBecomes(want));
  ASSERT_EQ(Ip("rule del pref 32766 lookup 220"), 0);
  EXPECT_TRUE(FibBecomes(base_));
}

TEST_F(CompartmentRulesTest, RulesPresentAtStartAreInTheFirstFib) {
  // A namespace kept from a previous run (kill -9) with a policy-based
  // tunnel's table 220 at priority 220: the compartment's first FIB already
  // leaves 10.9.0.0/16 to the kernel.
  ASSERT_EQ(Ip("route add 10.9.0.0/16 dev lo table 220"), 0);
  ASSERT_EQ(Ip("rule add pref 220 lookup 220"), 0);
  // A main route inside that outlives the TAPs (through lo: punt anyway,
  // but labelled by the rule).
  ASSERT_EQ(Ip("route add 10.9.7.0/24 dev lo"), 0);
  // Detached: the namespace and its persistent TAPs stay, with the routes
  // through them (a restart keeps the tenant's kernel state).
  c_.reset();
  EXPECT_TRUE(tables_->Routes(kId).empty());
  std::string error;
  c_ = Compartment::Create(spec_, Env(), &error);
  ASSERT_TRUE(c_) << error;
  const Fib want = {{"10.0.1.0/24", "forward"}, {"10.0.2.0/24", "forward"},
                    {"10.1.3.0/24", "forward"}, {"10.0.2.2/32", "local"},
                    {"10.1.3.2/32", "local"},   {"127.0.0.1/32", "local"},
                    {"10.8.0.0/16", "forward"}, {"10.9.0.0/16", "punt"},
                    {"10.9.7.0/24", "punt"},    {"10.9.9.0/24", "punt"},
                    {"10.9.9.128/25", "punt"}};
  EXPECT_EQ(FibNow(), want) << "without polling: the FIB written after the initial dump";
  EXPECT_EQ(RouteLabel("10.9.7.0/24"), "punt (table 220 precedes main)");
  EXPECT_EQ(RouteLabel("10.9.0.0/16", "220"), "punt (table 220 precedes main)");
}

}  // namespace
}  // namespace hnv::gateway::test
