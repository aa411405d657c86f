// Strict codecs: base64, decimals, DSSE (with the DSSE spec's own test vector), in-toto
// statements, tlog-proof files and tile paths.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ledger/checkpoint.hpp"
#include "ledger/dsse.hpp"
#include "ledger/encoding.hpp"
#include "ledger/ledger_test_util.hpp"
#include "ledger/log_store.hpp"

namespace clearbox::ledger {
namespace {

TEST(Encoding, Base64Canonical) {
  EXPECT_EQ(Base64Encode(std::string_view("")), "");
  EXPECT_EQ(Base64Encode(std::string_view("f")), "Zg==");
  EXPECT_EQ(Base64Encode(std::string_view("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  for (const char* bad :
       {"Zg", "Zh==", "Zm9=", "Zg=a", "Z===", "Zm9v\n", " Zm9v", "Zm-v", "====", "Zg==Zg=="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64Decode("-_8=").has_value());
  EXPECT_EQ(*Base64DecodeAnyAlphabet("-_8="), "\xfb\xff");
}

TEST(Encoding, Decimals) {
  EXPECT_EQ(*ParseDecimal("0"), 0u);
  EXPECT_EQ(*ParseDecimal("9223372036854775807"), 9223372036854775807u);
  for (const char* bad : {"", "00", "01", "-1", "+1", "1 ", "9223372036854775808", "1a", "0x1"}) {
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
  }
}

TEST(Tiles, PathsAsInTheSpecs) {
  EXPECT_EQ(TileIndexPath(0), "000");
  EXPECT_EQ(TileIndexPath(1000), "x001/000");
  EXPECT_EQ(TileIndexPath(1234067), "x001/x234/067");
  EXPECT_EQ(HashTilePath(0, 0, 8), "tile/0/000.p/8");
  EXPECT_EQ(HashTilePath(5, 123456078, 256), "tile/5/x123/x456/078");
  EXPECT_EQ(HashTilePath(5, 123456078, 2), "tile/5/x123/x456/078.p/2");
  EXPECT_EQ(EntryBundlePath(3057500, 256), "tile/entries/x003/x057/500");
  EXPECT_EQ(EntryBundlePath(1, 17), "tile/entries/001.p/17");
  // golang.org/x/mod tile paths with height 8 map to ours by dropping the height element.
  auto g = testing::ReadOracleJson("merkle/golang_sumdb_tlog.json");
  int matched = 0;
  for (const auto& c : g["tile_paths"]["cases"]) {
    if (c["tile"].is_null() || c["tile"]["L"].get<int>() < 0) continue;
    const std::string path = c["path"];
    const auto n = c["tile"]["N"].get<std::uint64_t>();
    const auto w = c["tile"]["W"].get<std::uint64_t>();
    const auto h = c["tile"]["H"].get<std::uint64_t>();
    const std::string ours =
        HashTilePath(c["tile"]["L"].get<unsigned>(), n, w == (1u << h) ? 256 : w);
    const std::string tail = path.substr(path.find('/', 5));  // drop "tile/<H>"
    EXPECT_EQ(ours.substr(4), tail) << path;
    ++matched;
  }
  EXPECT_EQ(matched, 5);
}

TEST(Tiles, EntryBundles) {
  auto parsed =
      ParseEntryBundle(std::string("\x00\x01"
                                   "a"
                                   "\x00\x00",
                                   5));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->size(), 2u);
  EXPECT_FALSE(ParseEntryBundle(std::string("\x00\x02"
                                            "a",
                                            3))
                   .has_value());
  EXPECT_FALSE(ParseEntryBundle(std::string("\x00", 1)).has_value());
}

TEST(Dsse, PaeMatchesSpec) {
  EXPECT_EQ(Pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
}

// The DSSE specification's test vector (protocol.md, ECDSA P-256 over SHA-256): our parser and
// PAE reproduce exactly the bytes its signature covers.
TEST(Dsse, SpecVectorVerifies) {
  const std::string envelope =
      R"({"payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld", "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]})";
  auto env = ParseEnvelope(envelope);
  ASSERT_TRUE(env.has_value()) << env.error().message;
  ASSERT_EQ(env->signatures.size(), 1u);
  const std::string& sig = env->signatures[0].sig;
  ASSERT_EQ(sig.size(), 64u);
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  ASSERT_GT(
      BN_dec2bn(&x,
                "46950820868899156662930047687818585632848591499744589407958293238635476079160"),
      0);
  ASSERT_GT(
      BN_dec2bn(&y, "5640078356564379163099075877009565129882514886557779369047442380624545832820"),
      0);
  unsigned char point[65];
  point[0] = 0x04;
  BN_bn2binpad(x, point + 1, 32);
  BN_bn2binpad(y, point + 33, 32);
  BN_free(x);
  BN_free(y);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata_init(kctx), 1);
  ASSERT_EQ(EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
  ECDSA_SIG* ecsig = ECDSA_SIG_new();
  ECDSA_SIG_set0(ecsig, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(ecsig, &der);
  auto verify = [&](const std::string& message) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey);
    const int rc =
        EVP_DigestVerify(md, der, static_cast<std::size_t>(der_len),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size());
    EVP_MD_CTX_free(md);
    return rc == 1;
  };
  EXPECT_TRUE(verify(Pae(env->payload_type, env->payload)));
  EXPECT_FALSE(verify(Pae(env->payload_type, env->payload + " ")));
  OPENSSL_free(der);
  ECDSA_SIG_free(ecsig);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(kctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
}

TEST(Dsse, SignVerifyAndStrictParse) {
  auto key = SignerKeyFromSeed("lab.example/attester", {});
  ASSERT_TRUE(key.has_value());
  auto env = SignEnvelope(kInTotoPayloadType, "{}", *key);
  ASSERT_TRUE(env.has_value());
  const std::string text = FormatEnvelope(*env);
  auto parsed = ParseEnvelope(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(VerifyEnvelope(*parsed, PublicKeyOf(*key)).has_value());
  auto other = SignerKeyFromSeed("lab.example/other", {});
  EXPECT_FALSE(VerifyEnvelope(*parsed, PublicKeyOf(*other)).has_value());
  for (const std::string& bad : {
           std::string(R"({"payload":"e30=","payloadType":"x","signatures":[]})"),
           std::string(R"({"payload":"e30","payloadType":"x","signatures":[{"sig":"AA=="}]})"),
           std::string(
               R"({"payload":"e30=","payloadType":"x","signatures":[{"sig":"AA=="}],"extra":1})"),
           std::string(
               R"({"payload":"e30=","payloadType":"x","signatures":[{"sig":"AA==","x":1}]})"),
           std::string(R"({"payload":"e30=","payloadType":1,"signatures":[{"sig":"AA=="}]})"),
           std::string(R"([1])"),
           std::string(R"({"payload":"e30=")"),
       }) {
    EXPECT_FALSE(ParseEnvelope(bad).has_value()) << bad;
  }
}

TEST(Statement, RoundTripAndStrictness) {
  Statement st;
  st.subjects.push_back({"fw.bin", std::string(64, 'a')});
  st.predicate_type = std::string(kUnpackPredicateType);
  st.predicate_json = R"({"summary":{"files":3}})";
  auto text = FormatStatement(st);
  ASSERT_TRUE(text.has_value());
  EXPECT_TRUE(text->starts_with(
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"fw.bin")"));
  auto back = ParseStatement(*text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->subjects.at(0).sha256, std::string(64, 'a'));
  EXPECT_EQ(back->predicate_type, kUnpackPredicateType);
  for (
      const std::string& bad : {
          std::string(
              R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"aa"}}],"predicateType":"x:y","predicate":{}})"),
          std::string(
              R"({"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x:y","predicate":{}})"),
          std::string(
              R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"AA"}}],"predicateType":"x:y","predicate":{}})"),
          std::string(
              R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{}}],"predicateType":"x:y","predicate":{}})"),
          std::string(
              R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":")") +
              std::string(64, 'a') + R"("}}],"predicateType":"x:y","predicate":[]})",
      }) {
    EXPECT_FALSE(ParseStatement(bad).has_value()) << bad;
  }
}

TEST(ProofFile, RoundTripAndStrictness) {
  auto key = SignerKeyFromSeed("log.example", {});
  Checkpoint cp{"log.example", 3, Sha256Of("r"), {}};
  auto signed_cp = SignNote(FormatCheckpoint(cp), {*key});
  ASSERT_TRUE(signed_cp.has_value());
  InclusionProofFile f{std::nullopt, 2, {Sha256Of("a"), Sha256Of("b")}, *signed_cp};
  const std::string text = FormatInclusionProofFile(f);
  auto back = ParseInclusionProofFile(text);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->index, 2u);
  EXPECT_EQ(back->path.size(), 2u);
  EXPECT_EQ(back->signed_checkpoint, *signed_cp);
  f.extra = "hi";
  EXPECT_TRUE(ParseInclusionProofFile(FormatInclusionProofFile(f)).has_value());
  EXPECT_FALSE(
      ParseInclusionProofFile("c2sp.org/tlog-proof@v1\nindex 02\n\n" + *signed_cp).has_value());
  EXPECT_FALSE(
      ParseInclusionProofFile("c2sp.org/tlog-proof@v2\nindex 2\n\n" + *signed_cp).has_value());
  EXPECT_FALSE(
      ParseInclusionProofFile("c2sp.org/tlog-proof@v1\nindex 2\n" + *signed_cp).has_value());
  EXPECT_FALSE(
      ParseInclusionProofFile("c2sp.org/tlog-proof@v1\r\nindex 2\n\n" + *signed_cp).has_value());
  ConsistencyProofFile c{1, {Sha256Of("a")}, *signed_cp};
  auto cback = ParseConsistencyProofFile(FormatConsistencyProofFile(c));
  ASSERT_TRUE(cback.has_value());
  EXPECT_EQ(cback->old_size, 1u);
}

}  // namespace
}  // namespace clearbox::ledger
