// The VICI message encoding against byte strings written out by hand from
// the protocol's definition (s2s/vici.h), and the decoder's refusals.
#include "s2s/vici.h"

#include <gtest/gtest.h>

namespace hnv::s2s {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(Vici, EncodesKeyValuesListsAndSections) {
  Json m;
  m["ike"] = "onprem";
  m["force"] = true;
  m["ts"] = Json::array({"10.0.0.0/8"});
  m["sec"] = Json{{"a", "b"}};
  const std::string expect =
      Bytes({3, 3}) + "ike" + Bytes({0, 6}) + "onprem" +                      // key/value
      Bytes({3, 5}) + "force" + Bytes({0, 3}) + "yes" +                       // boolean as yes
      Bytes({4, 2}) + "ts" + Bytes({5, 0, 10}) + "10.0.0.0/8" + Bytes({6}) +  // list
      Bytes({1, 3}) + "sec" + Bytes({3, 1}) + "a" + Bytes({0, 1}) + "b" + Bytes({2});
  EXPECT_EQ(EncodeMessage(m), expect);
  std::string error;
  const std::optional<Json> back = DecodeMessage(expect, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ((*back)["ike"], "onprem");
  EXPECT_EQ((*back)["force"], "yes");
  EXPECT_EQ((*back)["ts"][0], "10.0.0.0/8");
  EXPECT_EQ((*back)["sec"]["a"], "b");
}

TEST(Vici, DecodesNestedListSaEvent) {
  // What charon sends in a list-sa event: a section per IKE SA with a
  // child-sas section and lists inside.
  const std::string m = Bytes({1, 6}) + "onprem" + Bytes({3, 5}) + "state" + Bytes({0, 11}) +
                        "ESTABLISHED" + Bytes({1, 9}) + "child-sas" + Bytes({1, 8}) + "onprem-1" +
                        Bytes({4, 8}) + "local-ts" + Bytes({5, 0, 9}) + "0.0.0.0/0" +
                        Bytes({5, 0, 11}) + "10.0.0.0/16" + Bytes({6, 2, 2, 2});
  std::string error;
  const std::optional<Json> j = DecodeMessage(m, &error);
  ASSERT_TRUE(j) << error;
  EXPECT_EQ((*j)["onprem"]["state"], "ESTABLISHED");
  EXPECT_EQ((*j)["onprem"]["child-sas"]["onprem-1"]["local-ts"],
            Json::array({"0.0.0.0/0", "10.0.0.0/16"}));
}

TEST(Vici, RefusesMalformedMessages) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* error;
  };
  const Case cases[] = {
      {"section end without start", Bytes({2}), "bad section end at byte 0"},
      {"unterminated section", Bytes({1, 1}) + "a", "unterminated section or list at byte 3"},
      {"name longer than the message", Bytes({3, 9}) + "ab", "bad key/value at byte 0"},
      {"value longer than the message", Bytes({3, 1}) + "a" + Bytes({0, 9}) + "b",
       "bad key/value at byte 0"},
      {"list item outside a list", Bytes({5, 0, 1}) + "x", "bad list item at byte 0"},
      {"unterminated list", Bytes({4, 1}) + "l", "unterminated section or list at byte 3"},
      {"key/value inside a list", Bytes({4, 1}) + "l" + Bytes({3, 1}) + "a" + Bytes({0, 0}),
       "bad key/value at byte 3"},
      {"unknown element", Bytes({9}), "bad element type 9 at byte 0"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(DecodeMessage(c.bytes, &error)) << c.name;
    EXPECT_EQ(error, std::string("malformed VICI message: ") + c.error) << c.name;
  }
}

TEST(Vici, ConnectToNothingSaysWhy) {
  std::string error;
  EXPECT_EQ(ViciClient::Connect("/nonexistent/charon.vici", std::chrono::milliseconds(100), &error),
            nullptr);
  EXPECT_EQ(error, "VICI connect /nonexistent/charon.vici: No such file or directory");
}

}  // namespace
}  // namespace hnv::s2s
