// `clearbox attest REPORT.json --key SKEY [-o OUT]`: an in-toto Statement about the image in
// a report, signed in a DSSE envelope.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "core/hex.hpp"
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
  auto json = nlohmann::json::parse(*report, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("image") ||
      !json["image"].is_object() || !json["image"].contains("sha256") ||
      !json["image"]["sha256"].is_string() ||
      !IsSha256Hex(json["image"]["sha256"].get<std::string>())) {
    std::fprintf(stderr,
                 "clearbox attest: %s is not a report: it needs an \"image\" object with a "
                 "sha256\n",
                 args.report.c_str());
    return kExitUnusableInput;
  }
  const auto& image = json["image"];
  std::string subject_name = "image";
  if (image.contains("path") && image["path"].is_string()) {
    subject_name = std::filesystem::path(image["path"].get<std::string>()).filename().string();
  }
  nlohmann::ordered_json predicate = nlohmann::ordered_json::object();
  predicate["generator"] = "clearbox 0.1.0";
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  if (image.contains("size") && image["size"].is_number_unsigned())
    summary["image_size"] = image["size"];
  for (const char* list : {"chunks", "files", "gaps", "problems"}) {
    if (json.contains(list) && json[list].is_array()) summary[list] = json[list].size();
  }
  predicate["summary"] = summary;
  predicate["report"] = {{"name", std::filesystem::path(args.report).filename().string()},
                         {"mediaType", "application/json"},
                         {"digest", {{"sha256", HexEncode(ByteView(ledger::Sha256Of(*report)))}}}};
  ledger::Statement statement;
  statement.subjects.push_back({subject_name, image["sha256"].get<std::string>()});
  statement.predicate_type = std::string(ledger::kUnpackPredicateType);
  statement.predicate_json =
      predicate.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
  std::printf("attested %s sha256:%s with %s -> %s\n", subject_name.c_str(),
              image["sha256"].get<std::string>().c_str(),
              ledger::KeyLabel(ledger::PublicKeyOf(*key)).c_str(), out.c_str());
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
      ") holds a summary and the\nsha256 of REPORT.json. Output: a DSSE envelope with payloadType "
      "application/vnd.in-toto+json,\nsigned over the DSSE v1 PAE; default OUT is "
      "REPORT.json.dsse.json.\n\n"
      "Exit codes: 0 written; 2 usage; 4 unusable input (unreadable report or key); 70 internal.");
  cmd->add_option("report", args->report, "Report or manifest JSON")->required();
  cmd->add_option("--key", args->key, "Signer key (skey text or file)")->required();
  cmd->add_option("-o,--output", args->output, "Envelope output path");
  cmd->callback([run, args] { *run = [args] { return RunAttest(*args); }; });
}

}  // namespace clearbox::cli
