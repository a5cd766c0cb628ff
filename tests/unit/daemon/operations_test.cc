// Operations: typed handlers dispatched by name; each argument error names
// the operation and the field; an unknown operation lists the registered
// ones in order; refused operations answer their reason and are not listed.
#include "daemon/operations.h"

#include <gtest/gtest.h>

#include <string>

namespace hnv::daemon {
namespace {

using config::Request;
using config::Response;
using nlohmann::json;

struct EchoArgs {
  std::string text;
  uint64_t times = 1;
  double pause = 0.5;
  uint16_t port = 0;
  static bool Parse(ArgReader& r, EchoArgs* out) {
    if (!r.String("text", &out->text, ArgReader::Need::kRequired, "must be the text to echo") ||
        !r.Unsigned("times", &out->times, ArgReader::Need::kOptional, "must be a count") ||
        !r.Number("pause", &out->pause, ArgReader::Need::kOptional, "must be seconds") ||
        !r.Port("port", &out->port, ArgReader::Need::kOptional, "must name a port"))
      return false;
    if (out->times == 0 || out->times > 3) return r.Fail("times", "must be in 1..3");
    return true;
  }
};

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ops_.Add<NoArgs>("version", [](const NoArgs&) { return Response{true, "v1", {}}; });
    ops_.Add<EchoArgs>("echo", [this](const EchoArgs& a) {
      ++calls_;
      std::string s;
      for (uint64_t i = 0; i < a.times; ++i) s += a.text;
      return Response{true, {{"text", s}, {"pause", a.pause}, {"port", a.port}}, {}};
    });
    ops_.Add<GetArgs>("get", [](const GetArgs& a) {
      return Response{true, config::KindName(a.kind), {}};
    });
    ops_.Refuse("new", "new: not here");
    ops_.set_port_by_name([](std::string_view name) -> std::optional<uint16_t> {
      if (name == "uplink") return 3;
      return std::nullopt;
    });
  }
  Response Call(const std::string& op, json args = json::object()) {
    return ops_.Handle(Request{op, std::move(args)});
  }

  Operations ops_;
  int calls_ = 0;
};

TEST_F(OperationsTest, TypedArgumentsReachTheHandler) {
  const Response r = Call("echo", {{"text", "ab"}, {"times", 2}, {"port", "uplink"}, {"extra", 1}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (json{{"text", "abab"}, {"pause", 0.5}, {"port", 3}}));
  EXPECT_EQ(Call("echo", {{"text", "x"}, {"port", 7}, {"pause", 2}}).result,
            (json{{"text", "x"}, {"pause", 2.0}, {"port", 7}}));
  EXPECT_EQ(Call("version").result, "v1");
  EXPECT_EQ(Call("get", {{"kind", "customer-route"}}).result, "customer-route");
}

TEST_F(OperationsTest, ArgumentErrorsNameTheField) {
  const struct {
    const char* name;
    json args;
    std::string error;
  } cases[] = {
      {"required field absent", json::object(), "echo: \"text\" must be the text to echo"},
      {"required field null", {{"text", nullptr}}, "echo: \"text\" must be the text to echo"},
      {"wrong type", {{"text", 5}}, "echo: \"text\" must be the text to echo"},
      {"negative count", {{"text", "a"}, {"times", -1}}, "echo: \"times\" must be a count"},
      {"count out of range", {{"text", "a"}, {"times", 4}}, "echo: \"times\" must be in 1..3"},
      {"number as text", {{"text", "a"}, {"pause", "1"}}, "echo: \"pause\" must be seconds"},
      {"unknown port name", {{"text", "a"}, {"port", "nosuch"}}, "echo: \"port\" must name a port"},
      {"port index too big", {{"text", "a"}, {"port", 70000}}, "echo: \"port\" must name a port"},
      {"first error wins", {{"times", "x"}}, "echo: \"text\" must be the text to echo"},
  };
  for (const auto& c : cases) {
    const Response r = Call("echo", c.args);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_EQ(r.error, c.error) << c.name;
  }
  EXPECT_EQ(calls_, 0) << "a handler never sees arguments that were not read whole";
}

TEST_F(OperationsTest, GetNeedsAKnownKind) {
  const std::string kinds = config::KindNames();
  EXPECT_EQ(Call("get").error, "get: needs \"kind\" (" + kinds + ")");
  EXPECT_EQ(Call("get", {{"kind", 1}}).error, "get: needs \"kind\" (" + kinds + ")");
  EXPECT_EQ(Call("get", {{"kind", "lookup-records"}}).error, "get: unknown kind (" + kinds + ")");
}

TEST_F(OperationsTest, UnknownOperationsListTheRegistry) {
  EXPECT_EQ(Call("nosuch").error, "unknown operation \"nosuch\" (version, echo, get)");
  EXPECT_EQ(ops_.Names(), "version, echo, get");
  EXPECT_EQ(Call("new", {{"kind", "lookup-record"}}).error, "new: not here");
  // A second registration replaces the first in its place.
  ops_.Add<NoArgs>("echo", [](const NoArgs&) { return Response{true, "plain", {}}; });
  EXPECT_EQ(Call("echo").result, "plain");
  EXPECT_EQ(ops_.Names(), "version, echo, get");
}

TEST(OperationsNoPortNames, OnlyIndexesWithoutAResolver) {
  Operations ops;
  ops.Add<EchoArgs>("echo", [](const EchoArgs& a) { return Response{true, a.port, {}}; });
  EXPECT_EQ(ops.Handle(Request{"echo", {{"text", "a"}, {"port", 5}}}).result, 5);
  EXPECT_EQ(ops.Handle(Request{"echo", {{"text", "a"}, {"port", "uplink"}}}).error,
            "echo: \"port\" must name a port");
}

}  // namespace
}  // namespace hnv::daemon
