// `clearbox attest REPORT.json --key SKEY [-o OUT]`: an in-toto Statement about the image in
// a report, signed in a DSSE envelope.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "compliance/compliance_json.hpp"
#include "core/exit_codes.hpp"
#include "core/hex.hpp"
#include "core/version.hpp"
#include "equiv/equiv_report.hpp"
#include "ledger/dsse.hpp"
#include "ledger/file_io.hpp"
#include "ledger/log_store.hpp"
#include "ledger/merkle.hpp"
#include "ledger/note.hpp"

namespace clearbox::cli {
namespace {

constexpr std::size_t kMaxReportBytes = std::size_t{256} << 20;

struct AttestArgs {
  std::string report;
  std::string key;
  std::string output;
};

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && IsLowerHex(s);
}

// The subject and predicate of an attestation over one input document.
struct AttestedDocument {
  std::string subject_name;
  std::string subject_sha256;
  std::string predicate_type;
  nlohmann::ordered_json predicate = nlohmann::ordered_json::object();
};

// The "image" object of a report, manifest or compliance.json, if it has a valid sha256.
const nlohmann::json* FindImage(const nlohmann::json& json) {
  const nlohmann::json* holder = &json;
  if (json.contains("schema") && json["schema"] == compliance::kComplianceSchema) {
    if (!json.contains("report") || !json["report"].is_object()) return nullptr;
    holder = &json["report"];
  }
  if (!holder->contains("image") || !(*holder)["image"].is_object()) return nullptr;
  const auto& image = (*holder)["image"];
  if (!image.contains("sha256") || !image["sha256"].is_string() ||
      !IsSha256Hex(image["sha256"].get<std::string>())) {
    return nullptr;
  }
  return &image;
}

nlohmann::ordered_json DocumentDigest(const std::string& file, const std::string& text) {
  return {{"name", std::filesystem::path(file).filename().string()},
          {"mediaType", "application/json"},
          {"digest", {{"sha256", HexEncode(ByteView(ledger::Sha256Of(text)))}}}};
}

// A compliance.json: the verdict counts per standard and declaration results, and its digest.
nlohmann::ordered_json CompliancePredicate(const nlohmann::json& json, const std::string& file,
                                           const std::string& text) {
  nlohmann::ordered_json predicate = nlohmann::ordered_json::object();
  predicate["generator"] = std::string("clearbox ") + kClearboxVersion;
  nlohmann::ordered_json standards = nlohmann::ordered_json::array();
  if (json.contains("standards") && json["standards"].is_array()) {
    for (const auto& s : json["standards"]) {
      if (!s.is_object()) continue;
      standards.push_back({{"id", s.value("id", "")},
                           {"version", s.value("version", "")},
                           {"counts", s.value("counts", nlohmann::json::object())}});
    }
  }
  predicate["standards"] = standards;
  nlohmann::ordered_json declarations = nlohmann::ordered_json::object();
  if (json.contains("declarations") && json["declarations"].is_array()) {
    for (const auto& d : json["declarations"]) {
      if (!d.is_object() || !d.contains("result") || !d["result"].is_string()) continue;
      const std::string result = d["result"].get<std::string>();
      declarations[result] = declarations.value(result, 0) + 1;
    }
  }
  predicate["declarations"] = declarations;
  predicate["compliance"] = DocumentDigest(file, text);
  return predicate;
}

// A report or unpack manifest: a summary of the lists and the report's digest.
nlohmann::ordered_json ReportPredicate(const nlohmann::json& json, const nlohmann::json& image,
                                       const std::string& file, const std::string& text) {
  nlohmann::ordered_json predicate = nlohmann::ordered_json::object();
  predicate["generator"] = std::string("clearbox ") + kClearboxVersion;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  if (image.contains("size") && image["size"].is_number_unsigned())
    summary["image_size"] = image["size"];
  for (const char* list : {"chunks", "files", "gaps", "problems"}) {
    if (json.contains(list) && json[list].is_array()) summary[list] = json[list].size();
  }
  predicate["summary"] = summary;
  predicate["report"] = DocumentDigest(file, text);
  return predicate;
}

// True when `json` is an equiv.json (clearbox equiv).
bool IsEquivDocument(const nlohmann::json& json) {
  return json.contains("schema_version") && json.contains("delivered") &&
         json["delivered"].is_object() && json.contains("rebuilt") && json["rebuilt"].is_object() &&
         json.contains("verdict") && json["verdict"].is_string();
}

// The subject naming one side of an equiv.json: its file's sha256 or its tree digest; nullopt
// when the side has neither.
std::optional<ledger::StatementSubject> EquivSubject(const nlohmann::json& side) {
  const std::string input = side.value("input", "");
  std::string name = std::filesystem::path(input).filename().string();
  if (name.empty()) name = std::filesystem::path(input).parent_path().filename().string();
  for (const char* key : {"sha256", "tree_sha256"}) {
    if (side.contains(key) && side[key].is_string() && IsSha256Hex(side[key].get<std::string>())) {
      if (std::string(key) == "tree_sha256") name += "/";
      return ledger::StatementSubject{name, side[key].get<std::string>()};
    }
  }
  return std::nullopt;
}

// An equiv.json: the verdict, counts and classes in force, both sides, and its digest.
nlohmann::ordered_json EquivPredicate(const nlohmann::json& json, const std::string& file,
                                      const std::string& text) {
  nlohmann::ordered_json predicate = nlohmann::ordered_json::object();
  predicate["generator"] = std::string("clearbox ") + kClearboxVersion;
  predicate["verdict"] = json["verdict"];
  predicate["counts"] = json.value("counts", nlohmann::json::object());
  predicate["tolerated_classes"] = json.value("tolerated_classes", nlohmann::json::array());
  predicate["strict_classes"] = json.value("strict_classes", nlohmann::json::array());
  for (const char* side : {"delivered", "rebuilt"}) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    for (const char* key : {"input", "kind", "sha256", "tree_sha256"}) {
      if (json[side].contains(key)) entry[key] = json[side][key];
    }
    predicate[side] = entry;
  }
  predicate["equiv"] = DocumentDigest(file, text);
  return predicate;
}

// What to attest for the document `text` read from `file`; nullopt when it has no image.
std::optional<AttestedDocument> DescribeDocument(const std::string& file, const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  if (IsEquivDocument(json)) return std::nullopt;  // two subjects: see DescribeEquivDocument
  const nlohmann::json* image = FindImage(json);
  if (image == nullptr) return std::nullopt;
  AttestedDocument doc;
  doc.subject_name = "image";
  if (image->contains("path") && (*image)["path"].is_string()) {
    doc.subject_name =
        std::filesystem::path((*image)["path"].get<std::string>()).filename().string();
  }
  doc.subject_sha256 = (*image)["sha256"].get<std::string>();
  const bool compliance =
      json.contains("schema") && json["schema"] == compliance::kComplianceSchema;
  doc.predicate_type = compliance ? std::string(compliance::kCompliancePredicateType)
                                  : std::string(ledger::kUnpackPredicateType);
  doc.predicate = compliance ? CompliancePredicate(json, file, text)
                             : ReportPredicate(json, *image, file, text);
  return doc;
}

// The statement of an equiv.json: both sides as subjects; nullopt when either has no digest.
std::optional<ledger::Statement> DescribeEquivDocument(const std::string& file,
                                                       const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !IsEquivDocument(json)) return std::nullopt;
  auto delivered = EquivSubject(json["delivered"]);
  auto rebuilt = EquivSubject(json["rebuilt"]);
  if (!delivered || !rebuilt) return std::nullopt;
  ledger::Statement statement;
  statement.subjects = {*delivered, *rebuilt};
  statement.predicate_type = std::string(equiv::kEquivPredicateType);
  statement.predicate_json = EquivPredicate(json, file, text)
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return statement;
}

int RunAttest(const AttestArgs& args) {
  auto key_text = ledger::ReadKeyArgument(args.key);
  if (!key_text) {
    std::fprintf(stderr, "clearbox attest: %s\n", key_text.error().message.c_str());
    return kExitUnusableInput;
  }
  auto key = ledger::ParseSignerKey(*key_text);
  if (!key) {
    std::fprintf(stderr, "clearbox attest: not a signer key: %s\n", key.error().message.c_str());
    return kExitUnusableInput;
  }
  auto report = ledger::ReadSmallFile(args.report, kMaxReportBytes);
  if (!report) {
    std::fprintf(stderr, "clearbox attest: %s\n", report.error().message.c_str());
    return kExitUnusableInput;
  }
  ledger::Statement statement;
  if (auto equiv_statement = DescribeEquivDocument(args.report, *report)) {
    statement = std::move(*equiv_statement);
  } else if (auto doc = DescribeDocument(args.report, *report)) {
    statement.subjects.push_back({doc->subject_name, doc->subject_sha256});
    statement.predicate_type = doc->predicate_type;
    statement.predicate_json =
        doc->predicate.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    std::fprintf(stderr,
                 "clearbox attest: %s is not a report: it needs an \"image\" object with a "
                 "sha256 (or, for an equiv.json, digests of both sides)\n",
                 args.report.c_str());
    return kExitUnusableInput;
  }
  auto payload = ledger::FormatStatement(statement);
  if (!payload) {
    std::fprintf(stderr, "clearbox attest: %s\n", payload.error().message.c_str());
    return kExitUnusableInput;
  }
  auto envelope = ledger::SignEnvelope(ledger::kInTotoPayloadType, *payload, *key);
  if (!envelope) {
    std::fprintf(stderr, "clearbox attest: %s\n", envelope.error().message.c_str());
    return kExitInternal;
  }
  const std::string text = ledger::FormatEnvelope(*envelope);
  if (text.size() > ledger::kMaxEntryBytes) {
    std::fprintf(stderr, "clearbox attest: envelope of %zu bytes exceeds the log's entry limit\n",
                 text.size());
    return kExitUnusableInput;
  }
  const std::string out = args.output.empty() ? args.report + ".dsse.json" : args.output;
  auto wrote = ledger::WriteFileAtomically(out, text, 0644, false);
  if (!wrote) {
    std::fprintf(stderr, "clearbox attest: %s\n", wrote.error().message.c_str());
    return kExitUnusableInput;
  }
  for (const auto& subject : statement.subjects) {
    std::printf("attested %s sha256:%s with %s -> %s\n", subject.name.c_str(),
                subject.sha256.c_str(), ledger::KeyLabel(ledger::PublicKeyOf(*key)).c_str(),
                out.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterAttestCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<AttestArgs>();
  auto* cmd =
      app.add_subcommand("attest", "Sign an in-toto attestation of a report (DSSE, Ed25519)");
  cmd->footer(
      "REPORT.json is a clearbox report or unpack manifest.json; its \"image\" object gives the\n"
      "subject (name and sha256). The predicate (type " +
      std::string(ledger::kUnpackPredicateType) +
      ") holds a summary and the\nsha256 of REPORT.json. A compliance.json (clearbox assess) is "
      "attested with predicate\ntype " +
      std::string(compliance::kCompliancePredicateType) +
      ": its verdict counts per standard,\ndeclaration results and sha256; the subject is the "
      "image of the report it assessed. An\nequiv.json (clearbox equiv) is attested with "
      "predicate type " +
      std::string(equiv::kEquivPredicateType) +
      ":\nits verdict, counts, classes and sha256; the subjects are both sides (a directory by "
      "its tree\ndigest, named with a trailing /). Output: a DSSE envelope with payloadType "
      "application/vnd.in-toto+json,\nsigned over the DSSE v1 PAE; default OUT is "
      "REPORT.json.dsse.json.\n\n"
      "Exit codes: 0 written; 2 usage; 4 unusable input (unreadable report or key); 70 internal.");
  cmd->add_option("report", args->report, "Report or manifest JSON")->required();
  cmd->add_option("--key", args->key, "Signer key (skey text or file)")->required();
  cmd->add_option("-o,--output", args->output, "Envelope output path");
  cmd->callback([run, args] { *run = [args] { return RunAttest(*args); }; });
}

}  // namespace clearbox::cli
