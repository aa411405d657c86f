// Signed notes, keys and checkpoints against golang.org/x/mod sumdb/note and C2SP vectors in
// tests/oracle/note.
#include "ledger/note.hpp"

#include <gtest/gtest.h>

#include "ledger/checkpoint.hpp"
#include "ledger/encoding.hpp"
#include "ledger/ledger_test_util.hpp"

namespace clearbox::ledger {
namespace {

using testing::HexToBytes;
using testing::ReadOracleJson;

std::vector<VerifierKey> Keys(const nlohmann::json& list) {
  std::vector<VerifierKey> out;
  for (const auto& v : list) {
    auto k = ParseVerifierKey(v.get<std::string>());
    EXPECT_TRUE(k.has_value()) << v;
    if (k) out.push_back(*k);
  }
  return out;
}

std::vector<std::string> Labels(const std::vector<NoteSignature>& sigs) {
  std::vector<std::string> out;
  for (const auto& s : sigs) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", s.key_id);
    out.push_back(s.name + "+" + buf);
  }
  return out;
}

TEST(Note, KeysParseAndRoundTrip) {
  auto j = ReadOracleJson("note/golang_sumdb_note.json");
  ASSERT_EQ(j["keys"].size(), 3u);
  for (const auto& k : j["keys"]) {
    auto v = ParseVerifierKey(k["vkey"].get<std::string>());
    ASSERT_TRUE(v.has_value()) << k["vkey"] << v.error().message;
    EXPECT_EQ(FormatVerifierKey(*v), k["vkey"]);
    const std::string skey_text = k.contains("skey")
                                      ? k["skey"].get<std::string>()
                                      : k["skey_derived_not_upstream"].get<std::string>();
    auto s = ParseSignerKey(skey_text);
    ASSERT_TRUE(s.has_value()) << skey_text;
    EXPECT_EQ(FormatSignerKey(*s), skey_text);
    EXPECT_EQ(FormatVerifierKey(PublicKeyOf(*s)), k["vkey"]);
    if (k.contains("vkey_parts")) {
      EXPECT_EQ(v->public_key[0],
                static_cast<std::uint8_t>(HexToBytes(k["vkey_parts"]["public_key_hex"])[0]));
      char buf[9];
      std::snprintf(buf, sizeof buf, "%08x", Ed25519KeyId(v->name, v->public_key));
      EXPECT_EQ(std::string(buf), k["vkey_parts"]["key_id_hex"]);
    }
  }
  auto c = ReadOracleJson("note/c2sp_examples.json");
  auto foo = ParseVerifierKey(c["signed_note_examples"][0]["vkey"].get<std::string>());
  ASSERT_TRUE(foo.has_value());
}

TEST(Note, BadKeysRejected) {
  auto j = ReadOracleJson("note/golang_sumdb_note.json");
  for (const auto& b : j["bad_vkeys"]) {
    if (b.contains("vkey")) {
      EXPECT_FALSE(ParseVerifierKey(b["vkey"].get<std::string>()).has_value()) << b;
    }
  }
  // Every proper substring and every single-byte increment of a valid vkey and skey fails.
  const std::string vkey = j["keys"][0]["vkey"];
  const std::string skey = j["keys"][0]["skey"];
  for (std::size_t i = 0; i < vkey.size(); ++i) {
    for (std::size_t n = 0; i + n <= vkey.size(); ++n) {
      if (i == 0 && n == vkey.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(vkey.substr(i, n)).has_value()) << vkey.substr(i, n);
    }
    std::string bumped = vkey;
    ++bumped[i];
    EXPECT_FALSE(ParseVerifierKey(bumped).has_value()) << bumped;
  }
  for (std::size_t i = 0; i < skey.size(); ++i) {
    for (std::size_t n = 0; i + n <= skey.size(); ++n) {
      if (i == 0 && n == skey.size()) continue;
      EXPECT_FALSE(ParseSignerKey(skey.substr(i, n)).has_value()) << skey.substr(i, n);
    }
    std::string bumped = skey;
    ++bumped[i];
    EXPECT_FALSE(ParseSignerKey(bumped).has_value()) << bumped;
  }
}

TEST(Note, SignVectors) {
  auto j = ReadOracleJson("note/golang_sumdb_note.json");
  const auto& v0 = j["sign_vectors"][0];
  auto peter = ParseSignerKey(v0["skey"].get<std::string>());
  ASSERT_TRUE(peter.has_value());
  auto signed_note = SignNote(v0["text"].get<std::string>(), {*peter});
  ASSERT_TRUE(signed_note.has_value());
  EXPECT_EQ(*signed_note, v0["want_signed_note"]);
  auto enoch = ParseSignerKey(j["keys"][1]["skey_derived_not_upstream"].get<std::string>());
  ASSERT_TRUE(enoch.has_value());
  auto both = SignNote(v0["text"].get<std::string>(), {*peter, *enoch});
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(*both, j["sign_vectors"][1]["want_signed_note"]);
  EXPECT_FALSE(SignNote("abc", {*peter}).has_value());
  SignerKey bad = *peter;
  bad.name = "a+b";
  EXPECT_FALSE(SignNote("text\n", {bad}).has_value());
}

TEST(Note, OpenVectors) {
  auto j = ReadOracleJson("note/golang_sumdb_note.json");
  int checked = 0;
  for (const auto& v : j["open_vectors"]) {
    std::string msg;
    if (v.contains("msg")) {
      msg = v["msg"];
    } else {  // 101 copies of Peter's signature
      const std::string base = j["sign_vectors"][0]["want_signed_note"];
      const auto split = base.rfind("\n\n");
      msg = base.substr(0, split + 2);
      for (int i = 0; i < 101; ++i) msg += base.substr(split + 2);
    }
    auto opened = OpenNote(msg, Keys(v["known_vkeys"]));
    SCOPED_TRACE(v["desc"].get<std::string>());
    if (v.contains("want_error")) {
      ASSERT_FALSE(opened.has_value());
      EXPECT_EQ(opened.error().message, v["want_error"]);
    } else {
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
      if (v.contains("want_text")) {
        EXPECT_EQ(opened->text, v["want_text"]);
      }
      if (v.contains("want_verified")) {
        EXPECT_EQ(Labels(opened->verified), v["want_verified"].get<std::vector<std::string>>());
      }
      if (v.contains("want_unverified")) {
        EXPECT_EQ(Labels(opened->unverified), v["want_unverified"].get<std::vector<std::string>>());
      }
      if (v.contains("want_unverified_b64")) {
        // The oracle's hand transcription puts "ABCD" at a different offset in the expected
        // second signature than in its own message; what Go checks is de-duplication: the
        // distinct unknown signature lines of the message, in order.
        std::vector<std::string> b64;
        for (const auto& s : opened->unverified) b64.push_back(s.base64);
        const auto want = v["want_unverified_b64"].get<std::vector<std::string>>();
        ASSERT_EQ(b64.size(), want.size());
        EXPECT_EQ(b64[0], want[0]);
        EXPECT_NE(b64[0], b64[1]);
        EXPECT_NE(msg.find(b64[1]), std::string::npos);
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 8);
}

TEST(Note, MalformedMessagesRejected) {
  auto j = ReadOracleJson("note/golang_sumdb_note.json");
  auto peter = ParseVerifierKey(j["keys"][0]["vkey"].get<std::string>());
  ASSERT_TRUE(peter.has_value());
  const std::string good = j["sign_vectors"][0]["want_signed_note"];
  ASSERT_TRUE(OpenNote(good, {*peter}).has_value());
  int n = 0;
  for (const auto& m : j["malformed_messages_want_error_malformed_note"]) {
    std::string msg = m;
    if (msg.starts_with("<0xFF byte>")) msg = "\xff" + good;
    auto opened = OpenNote(msg, {*peter});
    ASSERT_FALSE(opened.has_value()) << msg;
    EXPECT_EQ(opened.error().message, "malformed note");
    ++n;
  }
  EXPECT_EQ(n, 7);
  // CR anywhere, and a non-canonical base64 signature, are rejected too.
  std::string cr = good;
  cr.insert(10, "\r");
  EXPECT_FALSE(ParseNote(cr).has_value());
  std::string noncanon = good;
  const auto eq = noncanon.rfind("M=");
  noncanon[eq] = 'N';  // same bytes but non-zero unused bits
  EXPECT_FALSE(ParseNote(noncanon).has_value());
}

TEST(Note, C2spExamples) {
  auto c = ReadOracleJson("note/c2sp_examples.json");
  const auto& ex = c["signed_note_examples"][0];
  auto foo = ParseVerifierKey(ex["vkey"].get<std::string>());
  ASSERT_TRUE(foo.has_value());
  auto opened = OpenNote(ex["signed_note"].get<std::string>(), {*foo});
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(opened->text, ex["text"]);
  const auto& q = c["signed_note_examples"][1];
  auto parsed = ParseNote(q["signed_note"].get<std::string>());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->text, q["want_text"]);
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", parsed->signatures.at(0).key_id);
  EXPECT_EQ(std::string(buf), q["want_signature_key_id_hex"]);
  for (const auto& cpx : c["checkpoint_examples"]) {
    auto note = ParseNote(cpx["signed_note"].get<std::string>());
    ASSERT_TRUE(note.has_value());
    auto cp = ParseCheckpoint(note->text);
    ASSERT_TRUE(cp.has_value());
    if (cpx.contains("want_origin")) {
      EXPECT_EQ(cp->origin, cpx["want_origin"]);
      EXPECT_EQ(cp->size, cpx["want_tree_size"].get<std::uint64_t>());
      EXPECT_EQ(HashBase64(cp->root), cpx["want_root_hash_b64"]);
      EXPECT_TRUE(cp->extensions.empty());
      std::snprintf(buf, sizeof buf, "%08x", note->signatures.at(0).key_id);
      EXPECT_EQ(std::string(buf), cpx["want_log_sig_key_id_hex"]);
    } else {
      ASSERT_EQ(note->signatures.size(), 2u);
      EXPECT_EQ(note->signatures[1].signature.size(), 72u);  // timestamp + Ed25519
    }
    EXPECT_EQ(FormatCheckpoint(*cp), note->text);
  }
}

TEST(Note, DerivedCheckpoints) {
  auto d = ReadOracleJson("note/derived_checkpoints_peterneumann.json");
  auto key = ParseSignerKey(d["skey"].get<std::string>());
  auto vkey = ParseVerifierKey(d["vkey"].get<std::string>());
  ASSERT_TRUE(key.has_value() && vkey.has_value());
  ASSERT_EQ(d["checkpoints"].size(), 9u);
  for (const auto& c : d["checkpoints"]) {
    Checkpoint cp{d["origin"],
                  c["tree_size"].get<std::uint64_t>(),
                  testing::HexToHash(c["root_hex"].get<std::string>()),
                  {}};
    EXPECT_EQ(FormatCheckpoint(cp), c["checkpoint_body"]);
    auto signed_cp = SignNote(FormatCheckpoint(cp), {*key});
    ASSERT_TRUE(signed_cp.has_value());
    EXPECT_EQ(*signed_cp, c["signed_checkpoint"]);
    EXPECT_TRUE(OpenNote(c["signed_checkpoint"].get<std::string>(), {*vkey}).has_value());
  }
}

TEST(Checkpoint, StrictParsing) {
  const std::string good = "example.com/log\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  ASSERT_TRUE(ParseCheckpoint(good).has_value());
  ASSERT_TRUE(ParseCheckpoint(good + "ext line\n").has_value());
  for (const std::string& bad : {
           std::string("example.com/log\n020\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
           std::string("example.com/log\n+20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
           std::string("example.com/log\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n"),
           std::string("example.com/log\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"),
           std::string("example.com/log\r\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
           std::string("example.com/log\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
           std::string("\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
           std::string("example.com/log\n20\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nx"),
           std::string("example.com/log\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/"
                       "Xajj7h2fB2MPA3j2jxq2I=\n"),
       }) {
    EXPECT_FALSE(ParseCheckpoint(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace clearbox::ledger
