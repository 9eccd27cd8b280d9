// The pure parts of the etcd gateway client: encoding and answer parsing,
// against answers captured from etcd 3.4's JSON gateway.
#include "core/store/etcd_client.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(EtcdClientTest, Base64RoundTripsBinaryAndRejectsGarbage) {
  EXPECT_EQ(EtcdClient::Base64("/danmu/leader"), "L2Rhbm11L2xlYWRlcg==");
  EXPECT_EQ(EtcdClient::Base64(""), "");
  std::string binary("\0\xff\x01 x", 5);
  auto back = EtcdClient::UnBase64(EtcdClient::Base64(binary));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, binary);
  // Long values are not wrapped into lines (the gateway would refuse them).
  EXPECT_EQ(EtcdClient::Base64(std::string(200, 'a')).find('\n'), std::string::npos);
  EXPECT_FALSE(EtcdClient::UnBase64("abc").ok());
  EXPECT_FALSE(EtcdClient::UnBase64("ab!d").ok());
}

TEST(EtcdClientTest, PrefixEndFollowsEtcdsRule) {
  EXPECT_EQ(EtcdClient::PrefixEnd("/danmu/edges/"), "/danmu/edges0");
  EXPECT_EQ(EtcdClient::PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(EtcdClient::PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdClientTest, RequestBodies) {
  EXPECT_EQ(EtcdClient::RangeBody("k", ""), R"({"key":"aw=="})");
  EXPECT_EQ(EtcdClient::PutBody("k", "v", 0), R"({"key":"aw==","value":"dg=="})");
  EXPECT_EQ(EtcdClient::PutBody("k", "v", 42), R"({"key":"aw==","value":"dg==","lease":"42"})");
  EtcdCompare c;
  c.key = "k";
  EtcdCompare m;
  m.target = EtcdCompare::Target::kMod;
  m.op = EtcdCompare::Op::kNotEqual;
  m.key = "k";
  m.number = 7;
  EtcdOp put{EtcdOp::Kind::kPut, "k", "v", 9, ""};
  EtcdOp range{EtcdOp::Kind::kRange, "k", "", 0, ""};
  EXPECT_EQ(EtcdClient::TxnBody({c, m}, {put}, {range}),
            R"({"compare":[{"target":"CREATE","result":"EQUAL","key":"aw==","create_revision":"0"},)"
            R"({"target":"MOD","result":"NOT_EQUAL","key":"aw==","mod_revision":"7"}],)"
            R"("success":[{"requestPut":{"key":"aw==","value":"dg==","lease":"9"}}],)"
            R"("failure":[{"requestRange":{"key":"aw=="}}]})");
}

TEST(EtcdClientTest, ParsesRangeAnswers) {
  auto none = EtcdClient::ParseRange(R"({"header":{"revision":"3"}})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto one = EtcdClient::ParseRange(
      R"({"header":{"revision":"2"},"kvs":[{"key":"L2Rhbm11L2xlYWRlcg==","create_revision":"2","mod_revision":"5",)"
      R"("version":"3","value":"aGVsbG8=","lease":"2080559895018999305"}],"count":"1"})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].key, "/danmu/leader");
  EXPECT_EQ((*one)[0].value, "hello");
  EXPECT_EQ((*one)[0].create_revision, 2);
  EXPECT_EQ((*one)[0].mod_revision, 5);
  EXPECT_EQ((*one)[0].version, 3);
  EXPECT_EQ((*one)[0].lease, 2080559895018999305);
  EXPECT_FALSE(EtcdClient::ParseRange("not json").ok());
  EXPECT_FALSE(EtcdClient::ParseRange(R"({"kvs":[{"key":"%%%="}]})").ok());
  EXPECT_FALSE(EtcdClient::ParseRange(R"({"kvs":[{"key":"aw==","version":"x"}]})").ok());
}

TEST(EtcdClientTest, ParsesTxnAnswers) {
  auto ok = EtcdClient::ParseTxn(R"({"header":{"revision":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->succeeded);
  EXPECT_EQ(ok->revision, 2);
  EXPECT_TRUE(ok->kvs.empty());
  // A failed compare omits "succeeded" and carries the failure branch's range.
  auto failed = EtcdClient::ParseTxn(
      R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},)"
      R"("kvs":[{"key":"aw==","create_revision":"2","mod_revision":"2","version":"1","value":"dg==","lease":"5"}],"count":"1"}}]})");
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->succeeded);
  ASSERT_EQ(failed->kvs.size(), 1u);
  EXPECT_EQ(failed->kvs[0].value, "v");
  EXPECT_EQ(failed->kvs[0].lease, 5);
}

TEST(EtcdClientTest, ParsesLeaseAnswers) {
  auto grant = EtcdClient::ParseGrant(R"({"header":{},"ID":"2080559895018999302","TTL":"3"})");
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(*grant, 2080559895018999302);
  EXPECT_FALSE(EtcdClient::ParseGrant(R"({"header":{}})").ok());
  auto alive = EtcdClient::ParseKeepAlive("{\"result\":{\"header\":{},\"ID\":\"7\",\"TTL\":\"5\"}}\n");
  ASSERT_TRUE(alive.ok());
  EXPECT_EQ(*alive, 5);
  // A revoked or expired lease: the answer has no TTL.
  auto gone = EtcdClient::ParseKeepAlive(R"({"result":{"header":{},"ID":"7"}})");
  EXPECT_EQ(gone.status().code(), Code::kNotFound);
  EXPECT_EQ(EtcdClient::ParseKeepAlive(R"({"error":{"grpc_code":14,"message":"etcdserver: no leader"}})").status().code(),
            Code::kUnavailable);
  auto ttl = EtcdClient::ParseTimeToLive(R"({"header":{},"ID":"7","TTL":"4","grantedTTL":"5"})");
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->ttl_s, 4);
  EXPECT_EQ(ttl->granted_ttl_s, 5);
  auto expired = EtcdClient::ParseTimeToLive(R"({"header":{},"ID":"7","TTL":"-1"})");
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->ttl_s, -1);
}

TEST(EtcdClientTest, NoMemberAnsweringIsUnavailable) {
  // Port 1 on loopback refuses at once: every member is tried, then kUnavailable.
  EtcdClient c({"http://127.0.0.1:1", "http://127.0.0.1:1"}, 200);
  auto r = c.Get("/k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("every member failed"), std::string::npos);
  EXPECT_EQ(EtcdClient({}, 200).Grant(3).status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace danmu::core
