// DSSE v1 envelopes and in-toto Statement v1 over nlohmann_json (the one wrapper that
// catches its exceptions).
#include "ledger/dsse.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "ledger/encoding.hpp"

namespace clearbox::ledger {
namespace {

using Json = nlohmann::ordered_json;

Unexpected Malformed(const std::string& why) {
  return Fail(ErrorCode::kMalformed, why);
}

Result<Json> ParseJson(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Malformed(std::string("invalid JSON: ") + e.what());
  }
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string Pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 " + std::to_string(payload_type.size()) + " ";
  out += payload_type;
  out += " " + std::to_string(payload.size()) + " ";
  out += payload;
  return out;
}

std::string KeyLabel(const VerifierKey& key) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", key.key_id);
  return key.name + "+" + buf;
}

std::string FormatEnvelope(const DsseEnvelope& envelope) {
  Json sigs = Json::array();
  for (const auto& s : envelope.signatures) {
    Json j = Json::object();
    if (s.keyid) j["keyid"] = *s.keyid;
    j["sig"] = Base64Encode(s.sig);
    sigs.push_back(std::move(j));
  }
  Json root = Json::object();
  root["payload"] = Base64Encode(envelope.payload);
  root["payloadType"] = envelope.payload_type;
  root["signatures"] = std::move(sigs);
  // Replaces invalid UTF-8 rather than throwing; our own payload types are ASCII.
  return root.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<DsseEnvelope> ParseEnvelope(std::string_view json) {
  if (json.size() > kMaxEnvelopeBytes) return Malformed("envelope too large");
  auto parsed = ParseJson(json);
  if (!parsed) return Forward(parsed);
  const Json& root = *parsed;
  if (!root.is_object() || root.size() != 3 || !root.contains("payload") ||
      !root.contains("payloadType") || !root.contains("signatures")) {
    return Malformed("envelope must be an object with payload, payloadType, signatures");
  }
  if (!root["payload"].is_string() || !root["payloadType"].is_string() ||
      !root["signatures"].is_array() || root["signatures"].empty()) {
    return Malformed("envelope fields have the wrong types");
  }
  DsseEnvelope env;
  auto payload = Base64DecodeAnyAlphabet(root["payload"].get_ref<const std::string&>());
  if (!payload) return Malformed("envelope payload is not canonical base64");
  env.payload = std::move(*payload);
  env.payload_type = root["payloadType"].get<std::string>();
  for (const auto& s : root["signatures"]) {
    if (!s.is_object() || !s.contains("sig") || !s["sig"].is_string()) {
      return Malformed("signature entry without sig");
    }
    DsseSignature sig;
    std::size_t fields = 1;
    if (s.contains("keyid")) {
      if (!s["keyid"].is_string()) return Malformed("keyid is not a string");
      sig.keyid = s["keyid"].get<std::string>();
      ++fields;
    }
    if (s.size() != fields) return Malformed("unknown field in signature entry");
    auto raw = Base64DecodeAnyAlphabet(s["sig"].get_ref<const std::string&>());
    if (!raw) return Malformed("signature is not canonical base64");
    sig.sig = std::move(*raw);
    env.signatures.push_back(std::move(sig));
  }
  return env;
}

Result<DsseEnvelope> SignEnvelope(std::string_view payload_type, std::string_view payload,
                                  const SignerKey& key) {
  auto sig = Ed25519Sign(key, Pae(payload_type, payload));
  if (!sig) return Forward(sig);
  DsseEnvelope env;
  env.payload = std::string(payload);
  env.payload_type = std::string(payload_type);
  env.signatures.push_back(DsseSignature{KeyLabel(PublicKeyOf(key)), std::move(*sig)});
  return env;
}

Result<void> VerifyEnvelope(const DsseEnvelope& envelope, const VerifierKey& key) {
  const std::string label = KeyLabel(key);
  const std::string pae = Pae(envelope.payload_type, envelope.payload);
  bool named = false;
  for (const auto& s : envelope.signatures) {
    if (s.keyid && *s.keyid != label) continue;
    named = true;
    if (Ed25519Verify(key.public_key, pae, s.sig)) return {};
  }
  return Malformed(named ? "no DSSE signature by " + label + " verifies"
                         : "no DSSE signature names key " + label);
}

Result<std::string> FormatStatement(const Statement& statement) {
  auto predicate = ParseJson(statement.predicate_json);
  if (!predicate || !predicate->is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "predicate must be a JSON object");
  }
  Json subjects = Json::array();
  for (const auto& s : statement.subjects) {
    Json j = Json::object();
    j["name"] = s.name;
    j["digest"] = Json::object({{"sha256", s.sha256}});
    subjects.push_back(std::move(j));
  }
  Json root = Json::object();
  root["_type"] = std::string(kStatementType);
  root["subject"] = std::move(subjects);
  root["predicateType"] = statement.predicate_type;
  root["predicate"] = std::move(*predicate);
  try {
    return root.dump();
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string("statement not serialisable: ") + e.what());
  }
}

Result<Statement> ParseStatement(std::string_view json) {
  auto parsed = ParseJson(json);
  if (!parsed) return Forward(parsed);
  const Json& root = *parsed;
  if (!root.is_object()) return Malformed("statement is not a JSON object");
  if (!root.contains("_type") || !root["_type"].is_string() ||
      root["_type"].get<std::string>() != kStatementType) {
    return Malformed("statement _type is not " + std::string(kStatementType));
  }
  if (!root.contains("subject") || !root["subject"].is_array() || root["subject"].empty()) {
    return Malformed("statement needs a non-empty subject list");
  }
  Statement st;
  for (const auto& s : root["subject"]) {
    if (!s.is_object() || !s.contains("digest") || !s["digest"].is_object()) {
      return Malformed("subject without digest");
    }
    StatementSubject subject;
    if (s.contains("name")) {
      if (!s["name"].is_string()) return Malformed("subject name is not a string");
      subject.name = s["name"].get<std::string>();
    }
    const auto& d = s["digest"];
    if (!d.contains("sha256") || !d["sha256"].is_string())
      return Malformed("subject without sha256");
    subject.sha256 = d["sha256"].get<std::string>();
    if (subject.sha256.size() != 64 || !IsLowerHex(subject.sha256)) {
      return Malformed("subject sha256 is not 64 lower-case hex digits");
    }
    st.subjects.push_back(std::move(subject));
  }
  if (!root.contains("predicateType") || !root["predicateType"].is_string()) {
    return Malformed("statement without predicateType");
  }
  st.predicate_type = root["predicateType"].get<std::string>();
  if (st.predicate_type.find(':') == std::string::npos)
    return Malformed("predicateType is not a URI");
  if (!root.contains("predicate") || !root["predicate"].is_object()) {
    return Malformed("statement predicate is not an object");
  }
  st.predicate_json = root["predicate"].dump();
  return st;
}

}  // namespace clearbox::ledger
