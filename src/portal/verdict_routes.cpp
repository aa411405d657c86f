// Verdict publication: the lab publishes one verdict per scanned release (outcome and
// summary) as an in-toto statement signed by the portal's attester key and appended to the
// verdict transparency log; /public/verdicts/ID shows it without login with the files and the
// command that verify it offline.
#include <algorithm>

#include "core/hashing.hpp"
#include "core/read_file.hpp"
#include "ledger/dsse.hpp"
#include "portal/page_parts.hpp"
#include "portal/portal_app.hpp"
#include "portal/scan_worker.hpp"
#include "portal/triage.hpp"
#include "portal/verdict_ledger.hpp"

namespace clearbox::portal {

using store::Id;
using namespace page;  // NOLINT: the shared page pieces

namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kVerdictPredicateType = "https://clearbox.dev/attestation/verdict/v1";
constexpr std::string_view kOutcomes[] = {"pass", "fail", "conditional"};
// Longest verdict summary: the envelope must fit one log entry (64 KiB).
constexpr std::size_t kMaxVerdictSummaryBytes = 8000;

std::string Sha256OfText(std::string_view text) {
  return Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Counts of the triage state for the statement.
OrderedJson TriageCounts(const std::vector<store::TriageItem>& items) {
  std::int64_t accepted = 0, rejected = 0, awaiting = 0, unanswered = 0;
  for (const auto& item : items) {
    if (item.vendor_status.empty()) {
      ++unanswered;
    } else if (item.lab_decision == "accepted") {
      ++accepted;
    } else if (item.lab_decision == "rejected") {
      ++rejected;
    } else {
      ++awaiting;
    }
  }
  return OrderedJson{{"items", items.size()},
                     {"accepted", accepted},
                     {"rejected", rejected},
                     {"awaiting_decision", awaiting},
                     {"unanswered", unanswered}};
}

}  // namespace

std::string PortalApp::VerdictSection(const Caller& caller, const store::Release& release,
                                      const ProjectAccess& access) {
  auto verdict = store_.FindVerdictOfRelease(release.id);
  if (verdict && *verdict) {
    const auto& v = **verdict;
    return "<h2>Verdict</h2><p id=\"verdict\" class=\"verdict-" + Attr(v.outcome) + "\"><strong>" +
           Esc(v.outcome) + "</strong> · published " + Esc(FormatTime(v.published_at)) +
           "</p><p class=\"description\">" + Esc(v.summary) +
           "</p><p><a id=\"public-verdict\" href=\"/public/verdicts/" + std::to_string(v.id) +
           "\">Public page and offline verification</a></p>";
  }
  if (config_.verdicts == nullptr ||
      !Authorize(caller.principal, Action::kPublishVerdict, &access)) {
    return {};
  }
  std::string options;
  for (std::string_view o : kOutcomes) {
    options += "<option value=\"" + Attr(o) + "\">" + Esc(o) + "</option>";
  }
  return "<h2>Publish a verdict</h2><form method=\"post\" action=\"/releases/" +
         std::to_string(release.id) + "/verdict\">" + CsrfField(caller.csrf_token) +
         "<label>Outcome <select name=\"outcome\">" + options +
         "</select></label><label>Summary <textarea name=\"summary\" required></textarea>"
         "</label><button type=\"submit\">Publish</button></form>";
}

HttpResponse PortalApp::PublishVerdict(const Caller& caller, Id release_id,
                                       const FormFields& form) {
  auto release = VisibleRelease(caller, release_id);
  if (!release) return Html(404, Layout(&caller, "Not found", Notice("No such release.", true)));
  auto project = store_.FindProject(release->project_id);
  auto access = project && *project ? AccessOf(**project) : Result<ProjectAccess>(ProjectAccess{});
  if (!project || !*project || !access ||
      !Authorize(caller.principal, Action::kPublishVerdict, &*access)) {
    return Html(403,
                Layout(&caller, "Forbidden", Notice("Only the lab publishes verdicts.", true)));
  }
  auto refuse = [&](int status, std::string_view message) {
    return Html(status, Layout(&caller, "Not published", Notice(message, true)));
  };
  const std::string outcome = FormValue(form, "outcome");
  const std::string summary = FormValue(form, "summary");
  if (!OneOf(outcome, kOutcomes) || summary.empty() || summary.size() > kMaxVerdictSummaryBytes ||
      !ValidDescription(summary)) {
    return refuse(400, "A verdict is pass, fail or conditional with a summary of 1 to 8000 bytes.");
  }
  if (config_.verdicts == nullptr) return refuse(503, "This portal publishes no verdicts.");
  auto job = store_.FindJobOfRelease(release_id);
  if (!job || !*job || (*job)->state != store::JobState::kDone) {
    return refuse(409, "The release's scan is not done.");
  }
  auto items = store_.ListTriageItems(release_id);
  if (!items) return refuse(500, items.error().message);
  const auto counts = TriageCounts(*items);
  if (counts["awaiting_decision"].get<std::int64_t>() > 0) {
    return refuse(409, "Some vendor answers await the lab's decision; decide them first.");
  }
  const auto dir = ReleaseResultsDir(config_.results_root, release_id);
  auto report = ReadFileCapped(dir / "report.json", kMaxResultFileBytes);
  auto scan_vex = ReadFileCapped(dir / "vex.cdx.json", kMaxResultFileBytes);
  if (!report || !scan_vex) return refuse(500, "The scan's results are missing.");
  const std::string vex = DumpJson(TriageVex(Json::parse(*scan_vex, nullptr, false), *items));
  const store::UnixSeconds now = config_.now();
  OrderedJson predicate{{"project", (*project)->name},
                        {"release", release->version},
                        {"outcome", outcome},
                        {"summary", summary},
                        {"published_at", FormatTime(now)},
                        {"published_by", caller.user.name},
                        {"triage", counts},
                        {"report", {{"sha256", Sha256OfText(*report)}}},
                        {"vex", {{"sha256", Sha256OfText(vex)}}}};
  ledger::Statement statement{
      {{release->file_name, release->blob_sha256}},
      std::string(kVerdictPredicateType),
      predicate.dump(-1, ' ', false, OrderedJson::error_handler_t::replace)};
  auto payload = ledger::FormatStatement(statement);
  if (!payload) return refuse(500, payload.error().message);
  auto published = config_.verdicts->Publish(*payload);
  if (!published) return refuse(500, published.error().message);
  auto id = store_.CreateVerdict({0, release_id, outcome, summary, caller.user.id, now,
                                  published->first, static_cast<std::int64_t>(published->second)});
  if (!id) return refuse(StatusOf(id.error()), id.error().message);
  Audit(caller, "verdict.publish", "release " + std::to_string(release_id),
        {{"verdict", *id},
         {"release", release_id},
         {"outcome", outcome},
         {"envelope_sha256", Sha256OfText(published->first)},
         {"log_index", published->second}});
  return Redirect("/public/verdicts/" + std::to_string(*id));
}

HttpResponse PortalApp::PublicVerdict(std::string_view id_text, std::string_view file) {
  auto not_found = [&] {
    return Html(404, Layout(nullptr, "Not found", Notice("No such verdict.", true)));
  };
  const auto id = ParseRowId(id_text);
  if (!id || config_.verdicts == nullptr) return not_found();
  auto verdict = store_.FindVerdict(*id);
  if (!verdict || !*verdict) return not_found();
  const auto& v = **verdict;
  if (file == "envelope.json") return HttpResponse{200, "application/json", v.envelope, {}};
  if (file == "proof") {
    auto proof = config_.verdicts->InclusionProof(static_cast<std::uint64_t>(v.log_index));
    if (!proof) return Html(500, Layout(nullptr, "Error", Notice(proof.error().message, true)));
    return HttpResponse{200, "text/plain; charset=utf-8", *proof, {}};
  }
  if (file == "log-key.vkey") {
    return HttpResponse{200, "text/plain; charset=utf-8", config_.verdicts->LogVerifierKey(), {}};
  }
  if (file == "attester-key.vkey") {
    return HttpResponse{
        200, "text/plain; charset=utf-8", config_.verdicts->AttesterVerifierKey(), {}};
  }
  if (!file.empty()) return not_found();
  auto release = store_.FindRelease(v.release_id);
  auto payload = ledger::ParseEnvelope(v.envelope);
  const std::string base = "/public/verdicts/" + std::to_string(v.id) + "/";
  std::string body =
      "<p id=\"verdict\" class=\"verdict-" + Attr(v.outcome) + "\"><strong>" + Esc(v.outcome) +
      "</strong> · published " + Esc(FormatTime(v.published_at)) + "</p><p class=\"description\">" +
      Esc(v.summary) + "</p><dl><dt>File</dt><dd>" +
      Esc(release && *release ? (*release)->file_name : "") + "</dd><dt>SHA-256</dt><dd><code>" +
      Esc(release && *release ? (*release)->blob_sha256 : "") +
      "</code></dd><dt>Log entry</dt><dd>" + std::to_string(v.log_index) + " of " +
      Esc(kVerdictLogOrigin) +
      "</dd></dl><h2>Verify it yourself</h2><p>Download the four files "
      "and run <code>clearbox verify</code>, which needs no network and no trust in this "
      "site beyond the two public keys (compare them with the ones the lab publishes "
      "elsewhere):</p><ul id=\"verify-files\">";
  for (const char* name : {"envelope.json", "proof", "log-key.vkey", "attester-key.vkey"}) {
    body += "<li><a href=\"" + Attr(base + name) + "\">" + Esc(name) + "</a></li>";
  }
  body +=
      "</ul><pre id=\"verify-command\">clearbox verify envelope.json --proof proof "
      "--log-key log-key.vkey --attester-key attester-key.vkey</pre>";
  if (payload)
    body += "<h2>Statement</h2><pre id=\"statement\">" + Esc(payload->payload) + "</pre>";
  return Html(200, Layout(nullptr, "Verdict " + std::to_string(v.id), body));
}

}  // namespace clearbox::portal
