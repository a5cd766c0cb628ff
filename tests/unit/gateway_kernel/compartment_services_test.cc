// A compartment as a list of services: the standard four (namespace, taps,
// mirror, config) on real namespaces and TAPs, plus trivial test services
// that record what happens to them: start order, stop in reverse, a failed
// start undone, poll failures reported but not fatal, services added and
// removed by Update, re-create decisions, the state directory.
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "tests/unit/gateway_kernel/compartment_fixture.h"

namespace hnv::gateway::test {
namespace {

using nlohmann::json;

const char* ReasonName(StopReason r) {
  switch (r) {
    case StopReason::kStartFailed:
      return "start-failed";
    case StopReason::kDetach:
      return "detach";
    case StopReason::kRemove:
      return "remove";
  }
  return "?";
}

// What the test services saw, in order ("start a", "stop b detach", ...).
struct Journal {
  std::vector<std::string> events;
  bool fail_poll = false;
  int polls = 0;
  int event_fd = -1;  // service "a" polls on it
  std::string state_dir;
};

class TestService final : public CompartmentService {
 public:
  TestService(std::string name, Journal* j, bool fail_start = false)
      : name_(std::move(name)), j_(j), fail_start_(fail_start) {}
  const char* name() const override { return name_.c_str(); }
  bool Start(ServiceContext& ctx, std::string* error) override {
    j_->events.push_back("start " + name_);
    if (fail_start_) {
      *error = "boom";
      return false;
    }
    // What the standard services provide is there.
    if (ctx.netns() == nullptr || ctx.taps().size() != 2) {
      *error = "no namespace or TAPs in the context";
      return false;
    }
    if (!ctx.MakeStateDir(error)) return false;
    j_->state_dir = ctx.state_dir();
    return true;
  }
  bool Update(ServiceContext& ctx, const CompartmentSpec& next, std::string*) override {
    j_->events.push_back("update " + name_ + " " + ctx.spec().file + " -> " + next.file);
    return true;
  }
  void PollFds(std::vector<int>* fds) const override {
    if (name_ == "a" && j_->event_fd >= 0) fds->push_back(j_->event_fd);
  }
  bool Poll(ServiceContext&, std::string* error) override {
    if (name_ != "a") return true;
    ++j_->polls;
    if (j_->event_fd >= 0) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = read(j_->event_fd, &v, sizeof(v));
    }
    if (j_->fail_poll) *error = "the child died";
    return !j_->fail_poll;
  }
  ServiceStatus Status(const ServiceContext&) const override {
    return {"test service " + name_, {{"polls", j_->polls}}};
  }
  void Stop(ServiceContext&, StopReason why) override {
    j_->events.push_back("stop " + name_ + " " + ReasonName(why));
  }

 private:
  std::string name_;
  Journal* j_;
  bool fail_start_;
};

ServiceFactory Factory(const std::string& name, Journal* j, bool fail_start = false) {
  return [=](const CompartmentSpec&) { return std::make_unique<TestService>(name, j, fail_start); };
}

std::vector<std::string> ServiceNames(const json& status) {
  std::vector<std::string> names;
  for (const json& s : status["services"]) names.push_back(s["name"].get<std::string>());
  return names;
}

class CompartmentServicesTest : public CompartmentTest {};

TEST_F(CompartmentServicesTest, StartInOrderStopInReverse) {
  Journal j;
  const CompartmentSpec spec = Spec();
  std::string error;
  auto c = Compartment::Create(spec, Env({Factory("a", &j), Factory("b", &j)}), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(j.events, (std::vector<std::string>{"start a", "start b"}));
  // The standard services ran before them: namespace, TAPs, fast path, config.
  EXPECT_TRUE(NamespaceExists(spec.netns));
  EXPECT_TRUE(tables_->HasCompartment(kId));
  EXPECT_EQ(FibNow()["10.0.1.0/24"], "forward") << "the static route reached the fast path";
  EXPECT_EQ(FibNow()["10.0.2.2/32"], "local");

  const json st = c->Status("vm:69", {"uplink", "external"});
  EXPECT_EQ(ServiceNames(st),
            (std::vector<std::string>{"namespace", "taps", "mirror", "config", "a", "b"}));
  for (const json& s : st["services"]) {
    EXPECT_EQ(s["state"], "running") << s.dump();
    EXPECT_FALSE(s["summary"].get<std::string>().empty()) << s.dump();
    EXPECT_FALSE(s.contains("error"));
  }
  EXPECT_EQ(st["services"][4]["summary"], "test service a");
  EXPECT_EQ(st["fast_path"], "main table");
  // The fields hnvctl has always shown are still there.
  for (const char* k : {"name", "id", "namespace", "rdid", "vsid", "file", "gateway_ca",
                        "interfaces", "routes", "neighbors", "counters"})
    EXPECT_TRUE(st.contains(k)) << k;
  EXPECT_EQ(st["interfaces"].size(), 2u);
  EXPECT_EQ(st["interfaces"][1]["port"], "external");
  EXPECT_EQ(c->service_state("a"), "running");
  EXPECT_EQ(c->service_state("nothing"), "");

  // A state directory of its own, private, kept when the compartment is
  // only detached (daemon exit, re-create).
  EXPECT_EQ(j.state_dir, state_dir_ + "/compartments.d/contoso");
  struct stat sb {};
  ASSERT_EQ(stat(j.state_dir.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0700u);

  j.events.clear();
  c.reset();
  EXPECT_EQ(j.events, (std::vector<std::string>{"stop b detach", "stop a detach"}));
  EXPECT_FALSE(tables_->HasCompartment(kId));
  EXPECT_TRUE(NamespaceExists(spec.netns)) << "detached: the namespace stays for the next start";
  EXPECT_TRUE(std::filesystem::is_directory(j.state_dir));

  // The tenant comes back (as after a restart), then goes for good.
  c = Compartment::Create(spec, Env({Factory("a", &j), Factory("b", &j)}), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->Status("vm:69", {})["services"][0]["detail"]["created"], false);
  j.events.clear();
  c->DeleteNamespace();
  c.reset();
  EXPECT_EQ(j.events, (std::vector<std::string>{"stop b remove", "stop a remove"}));
  EXPECT_FALSE(NamespaceExists(spec.netns));
  EXPECT_FALSE(std::filesystem::exists(j.state_dir));
}

TEST_F(CompartmentServicesTest, AFailingStartLeavesNothingBehind) {
  Journal j;
  const CompartmentSpec spec = Spec();
  std::string error;
  auto c = Compartment::Create(
      spec, Env({Factory("a", &j), Factory("broken", &j, /*fail_start=*/true), Factory("b", &j)}),
      &error);
  ASSERT_FALSE(c);
  EXPECT_EQ(error, "compartment contoso (namespace " + spec.netns + "): broken: boom");
  // "broken" cleaned up after itself; "a" is undone; "b" never started.
  EXPECT_EQ(j.events, (std::vector<std::string>{"start a", "start broken", "stop a start-failed"}));
  EXPECT_FALSE(NamespaceExists(spec.netns)) << "the namespace this start created is gone";
  EXPECT_FALSE(tables_->HasCompartment(kId));
  EXPECT_TRUE(tables_->Routes(kId).empty());
  EXPECT_FALSE(std::filesystem::exists(j.state_dir)) << "the state directory this start made";
  // The punt thread let go of the TAP ids: they can be given again.
  const int fd = eventfd(0, EFD_NONBLOCK);
  ASSERT_GE(fd, 0);
  for (uint8_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(punt_->AddTap(TapIdOf(kId, i), fd, &error)) << error;
    punt_->RemoveTap(TapIdOf(kId, i));
  }
  close(fd);

  // A namespace that existed before the failed start stays.
  ASSERT_EQ(Sh("ip netns add " + spec.netns), 0);
  c = Compartment::Create(spec, Env({Factory("broken", &j, true)}), &error);
  ASSERT_FALSE(c);
  EXPECT_TRUE(NamespaceExists(spec.netns));
  // A standard service failing: a TAP name the kernel refuses.
  CompartmentSpec bad = Spec();
  bad.netns += "x";
  bad.external[0].interface = "no/slash";
  j.events.clear();
  c = Compartment::Create(bad, Env({Factory("a", &j)}), &error);
  ASSERT_FALSE(c);
  EXPECT_NE(error.find("taps: "), std::string::npos) << error;
  EXPECT_TRUE(j.events.empty());
  EXPECT_FALSE(NamespaceExists(bad.netns));
  EXPECT_FALSE(tables_->HasCompartment(kId));
}

TEST_F(CompartmentServicesTest, AFailingPollIsReportedAndNotFatal) {
  Journal j;
  j.event_fd = eventfd(0, EFD_NONBLOCK);
  ASSERT_GE(j.event_fd, 0);
  const CompartmentSpec spec = Spec();
  std::string error;
  auto c = Compartment::Create(spec, Env({Factory("a", &j), Factory("b", &j)}), &error);
  ASSERT_TRUE(c) << error;

  // A readable fd gets the service polled.
  const int before = j.polls;
  const uint64_t one = 1;
  ASSERT_EQ(write(j.event_fd, &one, sizeof(one)), 8);
  c->Poll();
  EXPECT_GT(j.polls, before);

  j.fail_poll = true;
  ASSERT_TRUE(Until(*c, [&] { return c->service_state("a") != "running"; }));
  EXPECT_EQ(c->service_state("a"), "failed: the child died");
  json st = c->Status("vm:69", {});
  EXPECT_EQ(st["services"][4]["state"], "failed");
  EXPECT_EQ(st["services"][4]["error"], "the child died");
  EXPECT_EQ(st["services"][5]["state"], "running");
  // The rest of the compartment carries on: the mirror still follows the namespace.
  ASSERT_EQ(Sh("ip -n " + spec.netns + " route add 10.9.0.0/16 via 10.1.3.100"), 0);
  EXPECT_TRUE(Until(*c, [&] { return FibNow().count("10.9.0.0/16") != 0; })) << "mirror stopped";
  EXPECT_EQ(c->service_state("mirror"), "running");

  j.fail_poll = false;
  ASSERT_TRUE(Until(*c, [&] { return c->service_state("a") == "running"; }));
  EXPECT_FALSE(c->Status("vm:69", {})["services"][4].contains("error"));
  c.reset();
  close(j.event_fd);
}

TEST_F(CompartmentServicesTest, UpdateAddsAndRemovesServicesAndSaysWhenToRecreate) {
  Journal j;
  // "vpn" is wanted only by a tenant whose file says so (as s2s's charon).
  ServiceFactory vpn = [&j](const CompartmentSpec& s) -> std::unique_ptr<CompartmentService> {
    if (s.file.find("vpn") == std::string::npos) return nullptr;
    return std::make_unique<TestService>("vpn", &j);
  };
  CompartmentSpec spec = Spec();
  std::string error;
  auto c = Compartment::Create(spec, Env({Factory("a", &j), vpn, Factory("b", &j)}), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->service("vpn"), nullptr);
  EXPECT_EQ(j.events, (std::vector<std::string>{"start a", "start b"}));

  CompartmentSpec with_vpn = spec;
  with_vpn.file = "tenants/contoso-vpn.yaml";
  with_vpn.routes.push_back(
      {IpPrefix::Parse("10.5.0.0/16").value(), hnv::test::Ip("10.1.3.100"), "", 0});
  EXPECT_EQ(c->NeedsRecreate(with_vpn), "");
  j.events.clear();
  ASSERT_TRUE(c->Update(with_vpn, &error)) << error;
  EXPECT_EQ(j.events,
            (std::vector<std::string>{"update a tenants/contoso.yaml -> tenants/contoso-vpn.yaml",
                                      "update b tenants/contoso.yaml -> tenants/contoso-vpn.yaml",
                                      "start vpn"}));
  EXPECT_NE(c->service("vpn"), nullptr);
  EXPECT_EQ(c->spec().file, "tenants/contoso-vpn.yaml");
  EXPECT_EQ(ServiceNames(c->Status("vm:69", {})),
            (std::vector<std::string>{"namespace", "taps", "mirror", "config", "a", "vpn", "b"}));
  EXPECT_TRUE(Until(*c, [&] { return FibNow()["10.5.0.0/16"] == "forward"; })) << "config applied";

  j.events.clear();
  ASSERT_TRUE(c->Update(spec, &error)) << error;
  EXPECT_EQ(j.events,
            (std::vector<std::string>{"update a tenants/contoso-vpn.yaml -> tenants/contoso.yaml",
                                      "update b tenants/contoso-vpn.yaml -> tenants/contoso.yaml",
                                      "stop vpn remove"}));
  EXPECT_EQ(c->service("vpn"), nullptr);
  EXPECT_TRUE(Until(*c, [&] { return FibNow().count("10.5.0.0/16") == 0; }))
      << "static route removed";

  CompartmentSpec other = spec;
  other.external[0].mtu = 9000;
  EXPECT_EQ(c->NeedsRecreate(other), "interfaces changed");
  other = spec;
  other.netns += "-new";
  EXPECT_EQ(c->NeedsRecreate(other), "namespace changed");
  other = spec;
  other.routes.clear();
  other.vm_address.addr = hnv::test::Ip("10.0.2.3");
  EXPECT_EQ(c->NeedsRecreate(other), "");
}

}  // namespace
}  // namespace hnv::gateway::test
