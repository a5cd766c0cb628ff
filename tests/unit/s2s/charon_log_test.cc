// Why a connection is down, from charon's log: lines as charon 5.9.8 wrote
// them in the daemon tests (wrong key, wrong proposal, then established).
#include "s2s/charon_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace hnv::s2s {
namespace {

TEST(CharonLog, InitiatorSideFailuresAndRecovery) {
  CharonLog log;
  log.SetPeers({{"to-c", "198.51.100.3"}, {"to-b", "203.0.113.2"}});
  log.Line("2026-12-07T11:12:11 09[IKE] <to-c|2> received AUTHENTICATION_FAILED notify error");
  ASSERT_NE(log.LastError("to-c"), nullptr);
  EXPECT_NE(log.LastError("to-c")->message.find("AUTHENTICATION_FAILED"), std::string::npos);
  EXPECT_EQ(log.LastError("to-c")->time, "2026-12-07T11:12:11");
  EXPECT_EQ(log.LastError("to-b"), nullptr);
  log.Line("2026-12-07T11:12:12 12[IKE] <to-c|3> received NO_PROPOSAL_CHOSEN notify error");
  EXPECT_EQ(log.LastError("to-c")->message,
            "the peer accepted none of our proposals (NO_PROPOSAL_CHOSEN)");
  log.Line(
      "2026-12-07T11:12:12 12[IKE] <to-c|5> IKE_SA to-c[5] established between "
      "198.51.100.1[198.51.100.1]...198.51.100.3[198.51.100.3]");
  EXPECT_EQ(log.LastError("to-c"), nullptr);
}

TEST(CharonLog, ResponderSideUnnamedSaIsAttributedByPeerAddress) {
  CharonLog log;
  log.SetPeers({{"to-a", "198.51.100.1"}});
  // Before the connection is known the SA has only its id.
  log.Line("2026-12-07T11:12:12 12[IKE] <2> 198.51.100.1 is initiating an IKE_SA");
  log.Line(
      "2026-12-07T11:12:12 12[CFG] <2> received proposals: "
      "IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_3072");
  log.Line("2026-12-07T11:12:12 12[IKE] <2> received proposals unacceptable");
  ASSERT_NE(log.LastError("to-a"), nullptr);
  EXPECT_EQ(log.LastError("to-a")->message, "none of the peer's proposals matches ours");
  log.Line(
      "2026-12-07T11:12:11 13[IKE] <to-a|1> tried 1 shared key for '198.51.100.3' - "
      "'198.51.100.1', but MAC mismatched");
  EXPECT_EQ(log.LastError("to-a")->message,
            "the peer's authentication failed: its pre-shared key does not match ours");
  // Another peer's SA says nothing about to-a.
  log.Line("2026-12-07T11:12:13 12[IKE] <9> 192.0.2.77 is initiating an IKE_SA");
  log.Line("2026-12-07T11:12:13 12[IKE] <9> received proposals unacceptable");
  EXPECT_EQ(log.LastError("to-a")->message,
            "the peer's authentication failed: its pre-shared key does not match ours");
  log.Forget("to-a");
  EXPECT_EQ(log.LastError("to-a"), nullptr);
  // Lines that are not about an SA are ignored.
  log.Line("2026-12-07T11:12:13 00[DMN] Starting IKE charon daemon (strongSwan 5.9.8)");
  log.Line("garbage");
}

TEST(LogTail, ReadsWhatWasAppendedAndStartsOverWhenTruncated) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("s2s-logtail-" + std::to_string(getpid())))
          .string();
  auto append = [&](const char* text) {
    FILE* f = std::fopen(path.c_str(), "a");
    std::fputs(text, f);
    std::fclose(f);
  };
  CharonLog log;
  LogTail tail(path, 400);
  tail.Read(&log);  // no file yet
  append("T1 09[IKE] <x|1> received AUTHENTICATION_FAILED notify error\nT2 09[IKE] <x|1> rece");
  tail.Read(&log);
  ASSERT_NE(log.LastError("x"), nullptr);
  EXPECT_EQ(log.LastError("x")->time, "T1");
  // The second line completes later.
  append("ived NO_PROPOSAL_CHOSEN notify error\n");
  tail.Read(&log);
  EXPECT_EQ(log.LastError("x")->time, "T2");
  // Past max_size the file is truncated after reading; new lines follow.
  for (int i = 0; i < 10; ++i) append("T3 09[IKE] <x|1> sending keep alive to 10.0.0.1[4500]\n");
  tail.Read(&log);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  append("T4 09[IKE] <x|1> giving up after 5 retransmits\n");
  tail.Read(&log);
  EXPECT_EQ(log.LastError("x")->time, "T4");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hnv::s2s
