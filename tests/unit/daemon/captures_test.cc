// Captures: `capture` answers at once with an id, the control loop (Poll)
// drains each running capture and ends it at its count or its time,
// capture-status / capture-stop by id, at most kMaxRunning at once, and the
// arguments' errors name the field. The captures here count what they are
// asked to do (the real ones, PortCapture and hnv-gateway's, are tested
// with real frames: tests/unit/gateway/trace_capture_test.cc and the
// topology tests).
#include "daemon/captures.h"

#include <gtest/gtest.h>

#include <thread>

namespace hnv::daemon {
namespace {

using config::Request;
using config::Response;
using nlohmann::json;

// Writes `per_drain` frames on each Drain.
class CountingCapture final : public FrameCapture {
 public:
  explicit CountingCapture(uint64_t per_drain, int* stopped) : per_drain_(per_drain), stopped_(stopped) {}
  uint64_t Drain() override {
    written_ += per_drain_;
    return per_drain_;
  }
  void Stop() override { ++*stopped_; }
  uint64_t written() const override { return written_; }
  uint64_t lost() const override { return 0; }

 private:
  uint64_t per_drain_;
  int* stopped_;
  uint64_t written_ = 0;
};

class CapturesTest : public ::testing::Test {
 protected:
  CapturesTest()
      : captures_([this](const CaptureArgs& a, std::string* error) -> std::unique_ptr<FrameCapture> {
          if (a.port == 9) {
            *error = "port 9 is not attached";
            return nullptr;
          }
          opened_.push_back(a);
          return std::make_unique<CountingCapture>(a.port, &stopped_);
        }) {
    captures_.Register(ops_);
  }
  Response Call(const std::string& op, json args) { return ops_.Handle(Request{op, std::move(args)}); }

  Operations ops_;
  Captures captures_;
  std::vector<CaptureArgs> opened_;
  int stopped_ = 0;
};

TEST_F(CapturesTest, AnswersAtOnceAndEndsAtItsCount) {
  Response r = Call("capture", {{"port", 2}, {"file", "/tmp/a.pcap"}, {"count", 5}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["running"], true);
  const uint64_t id = r.result["id"];
  captures_.Poll();  // 2
  captures_.Poll();  // 4
  EXPECT_EQ(Call("capture-status", {{"id", id}}).result["packets"], 4);
  EXPECT_EQ(stopped_, 0);
  captures_.Poll();  // 6 >= 5: done
  EXPECT_EQ(stopped_, 1);
  EXPECT_EQ(captures_.running(), 0u);
  r = Call("capture-status", {{"id", id}});
  EXPECT_EQ(r.result, json({{"id", id}, {"file", "/tmp/a.pcap"}, {"running", false}, {"packets", 6}, {"lost", 0}}));
}

TEST_F(CapturesTest, EndsAtItsTimeAndOnStop) {
  ASSERT_TRUE(Call("capture", {{"port", 0}, {"file", "/tmp/t.pcap"}, {"seconds", 0.05}}).ok);
  const uint64_t b = Call("capture", {{"port", 1}, {"file", "/tmp/s.pcap"}}).result["id"];
  captures_.Poll();
  EXPECT_EQ(captures_.running(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  captures_.Poll();
  EXPECT_EQ(captures_.running(), 1u) << "the 0.05 s capture ended";
  const Response r = Call("capture-stop", {{"id", b}});
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result["running"], false);
  EXPECT_EQ(r.result["packets"], 2);
  EXPECT_EQ(captures_.running(), 0u);
  EXPECT_EQ(stopped_, 2);
}

TEST_F(CapturesTest, LimitsAndErrors) {
  for (size_t i = 0; i < Captures::kMaxRunning; ++i)
    ASSERT_TRUE(Call("capture", {{"port", 1}, {"file", "/tmp/x.pcap"}}).ok);
  Response r = Call("capture", {{"port", 1}, {"file", "/tmp/x.pcap"}});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("8 captures run already"), std::string::npos) << r.error;
  captures_.StopAll();
  EXPECT_EQ(stopped_, static_cast<int>(Captures::kMaxRunning));
  r = Call("capture", {{"port", 9}, {"file", "/tmp/x.pcap"}});
  EXPECT_EQ(r.error, "capture: port 9 is not attached");
  r = Call("capture", {{"port", 1}, {"file", "/tmp/x.pcap"}, {"seconds", 601}});
  EXPECT_NE(r.error.find("seconds"), std::string::npos) << r.error;
  r = Call("capture-status", {{"id", 999}});
  EXPECT_EQ(r.error, "capture 999: no such capture");
  ASSERT_TRUE(Call("capture", {{"port", "contoso/ext0"}, {"file", "/tmp/x.pcap"}}).ok);
  EXPECT_EQ(opened_.back().interface, "contoso/ext0");
}

}  // namespace
}  // namespace hnv::daemon
