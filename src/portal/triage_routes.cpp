// Triage pages: the items of a release with their answers and decisions, one item's page with
// the vendor's answer form, the lab's decision form and the comment thread, and the VEX
// document of the triage state. Every POST passed the CSRF and Origin checks in Route();
// each asks Authorize for its own action on the release's project.
#include "core/hashing.hpp"
#include "core/read_file.hpp"
#include "portal/page_parts.hpp"
#include "portal/portal_app.hpp"
#include "portal/scan_worker.hpp"
#include "portal/triage.hpp"

namespace clearbox::portal {

using store::Id;
using namespace page;  // NOLINT: the shared page pieces

namespace {

std::string AnswerText(const store::TriageItem& item) {
  if (item.vendor_status.empty()) return "no answer yet";
  std::string text = item.vendor_status;
  if (!item.justification.empty()) text += " (" + item.justification + ")";
  if (!item.fix_version.empty()) text += ", fixed in " + item.fix_version;
  return text;
}

std::string SelectOf(std::string_view name, auto&& values, bool with_empty) {
  std::string out = "<select name=\"" + std::string(name) + "\">";
  if (with_empty) out += "<option value=\"\">-</option>";
  for (std::string_view v : values) {
    out += "<option value=\"" + Attr(v) + "\">" + Esc(v) + "</option>";
  }
  return out + "</select>";
}

}  // namespace

std::optional<PortalApp::ItemAccess> PortalApp::ItemAccessOf(const Caller& caller, Id item_id) {
  auto item = store_.FindTriageItem(item_id);
  if (!item || !*item) return std::nullopt;
  auto release = VisibleRelease(caller, (*item)->release_id);
  if (!release) return std::nullopt;
  auto project = store_.FindProject(release->project_id);
  if (!project || !*project) return std::nullopt;
  auto access = AccessOf(**project);
  if (!access) return std::nullopt;
  return ItemAccess{**item, *release, *access};
}

HttpResponse PortalApp::TriagePage(const Caller& caller, Id release_id) {
  auto release = VisibleRelease(caller, release_id);
  if (!release) return Html(404, Layout(&caller, "Not found", Notice("No such release.", true)));
  auto items = store_.ListTriageItems(release_id);
  if (!items) return Html(500, Layout(&caller, "Triage", Notice(items.error().message, true)));
  std::size_t pending = 0;
  std::string rows;
  for (const auto& item : *items) {
    if (item.lab_decision != "accepted") ++pending;
    rows += "<tr data-key=\"" + Attr(item.item_key) + "\"><td><a href=\"/items/" +
            std::to_string(item.id) + "\">" + Esc(item.title) + "</a></td><td>" + Esc(item.kind) +
            "</td><td>" + Esc(item.severity) + "</td><td class=\"answer\">" +
            Esc(AnswerText(item)) + "</td><td class=\"decision\">" + Esc(item.lab_decision) +
            "</td></tr>";
  }
  std::string body = "<p><a href=\"/releases/" + std::to_string(release_id) + "\">Release " +
                     Esc(release->version) + "</a> · <a href=\"/releases/" +
                     std::to_string(release_id) +
                     "/vex.json\">VEX of the triage state</a></p><p id=\"triage-open\">" +
                     std::to_string(pending) + " of " + std::to_string(items->size()) +
                     " items not yet accepted.</p>";
  if (items->empty()) {
    body += "<p>Nothing to triage (yet): items appear when the scan is done.</p>";
  } else {
    body +=
        "<table id=\"triage\"><thead><tr><th>Item</th><th>Kind</th><th>Severity</th>"
        "<th>Vendor answer</th><th>Lab decision</th></tr></thead><tbody>" +
        rows + "</tbody></table>";
  }
  return Html(200, Layout(&caller, "Triage of " + release->version, body));
}

HttpResponse PortalApp::ItemPage(const Caller& caller, Id item_id, int status,
                                 std::string_view message) {
  auto access = ItemAccessOf(caller, item_id);
  if (!access) return Html(404, Layout(&caller, "Not found", Notice("No such item.", true)));
  const auto& item = access->item;
  const std::string action = "/items/" + std::to_string(item.id);
  std::string body = Notice(message, status >= 400) + "<p><a href=\"/releases/" +
                     std::to_string(item.release_id) + "/triage\">Triage of release " +
                     Esc(access->release.version) + "</a></p><dl id=\"item\"><dt>Key</dt><dd>" +
                     Esc(item.item_key) + "</dd><dt>Severity</dt><dd>" + Esc(item.severity) +
                     "</dd><dt>Vendor answer</dt><dd class=\"answer\">" + Esc(AnswerText(item)) +
                     "</dd><dt>Detail</dt><dd>" + Esc(item.detail) +
                     "</dd><dt>Lab decision</dt><dd class=\"decision\">" + Esc(item.lab_decision) +
                     (item.lab_reason.empty() ? "" : ": " + Esc(item.lab_reason)) + "</dd></dl>";
  if (Authorize(caller.principal, Action::kAnswerFinding, &access->project)) {
    body += "<h2>Answer</h2><form method=\"post\" action=\"" + action + "/answer\">" +
            CsrfField(caller.csrf_token) + "<label>Status " +
            SelectOf("status", kVendorStatuses, false) + "</label><label>Justification " +
            SelectOf("justification", kVexJustifications, true) +
            "</label><label>Fixed in version <input name=\"fix_version\" maxlength=\"100\">"
            "</label><label>Detail <textarea name=\"detail\"></textarea></label>"
            "<button type=\"submit\">Answer</button></form>";
  }
  if (!item.vendor_status.empty() &&
      Authorize(caller.principal, Action::kTriageFinding, &access->project)) {
    body += "<h2>Decision</h2><form method=\"post\" action=\"" + action + "/decision\">" +
            CsrfField(caller.csrf_token) +
            "<label>Decision <select name=\"decision\"><option value=\"accepted\">accept"
            "</option><option value=\"rejected\">reject</option></select></label><label>Reason "
            "<textarea name=\"reason\"></textarea></label><button type=\"submit\">Decide</button>"
            "</form>";
  }
  body += "<h2>Comments</h2><ol id=\"comments\">";
  auto comments = store_.ListTriageComments(item.id);
  auto users = store_.ListUsers();
  std::map<Id, std::string> names;
  if (users) {
    for (const auto& u : *users) names[u.id] = u.name;
  }
  if (comments) {
    for (const auto& c : *comments) {
      const auto name = names.find(c.author);
      body += "<li><p class=\"meta\">" +
              Esc(name == names.end() ? "(deleted user)" : name->second) + ", " +
              Esc(FormatTime(c.created_at)) + "</p><p>" + Esc(c.body) + "</p></li>";
    }
  }
  body += "</ol>";
  if (Authorize(caller.principal, Action::kComment, &access->project)) {
    body += "<form method=\"post\" action=\"" + action + "/comments\">" +
            CsrfField(caller.csrf_token) +
            "<label>Comment <textarea name=\"body\" required></textarea></label>"
            "<button type=\"submit\">Comment</button></form>";
  }
  return Html(status, Layout(&caller, item.title, body));
}

HttpResponse PortalApp::ItemPost(const Caller& caller, Id item_id, std::string_view what,
                                 const FormFields& form) {
  auto access = ItemAccessOf(caller, item_id);
  if (!access) return Html(404, Layout(&caller, "Not found", Notice("No such item.", true)));
  const auto refuse = [&](int status, std::string_view message) {
    return ItemPage(caller, item_id, status, message);
  };
  const store::UnixSeconds now = config_.now();
  Result<void> done;
  if (what == "answer") {
    if (!Authorize(caller.principal, Action::kAnswerFinding, &access->project)) {
      return refuse(403, "Only the project's vendor answers.");
    }
    store::TriageItem answer = access->item;
    answer.vendor_status = FormValue(form, "status");
    answer.justification = FormValue(form, "justification");
    answer.fix_version = FormValue(form, "fix_version");
    answer.detail = FormValue(form, "detail");
    const bool valid =
        OneOf(answer.vendor_status, kVendorStatuses) &&
        (answer.justification.empty() || OneOf(answer.justification, kVexJustifications)) &&
        (answer.vendor_status != "not_affected" || !answer.justification.empty()) &&
        (answer.vendor_status != "fixed" || ValidName(answer.fix_version)) &&
        (answer.fix_version.empty() || ValidName(answer.fix_version)) &&
        ValidDescription(answer.detail);
    if (!valid) {
      return refuse(400,
                    "An answer needs a status; not_affected needs a justification, fixed a "
                    "version; the detail has at most 10000 bytes.");
    }
    done = store_.AnswerTriageItem(answer, caller.user.id, now);
    if (done) {
      Audit(caller, "triage.answer", "item " + std::to_string(item_id),
            {{"item", item_id},
             {"status", answer.vendor_status},
             {"justification", answer.justification},
             {"fix_version", answer.fix_version},
             {"detail_sha256",
              Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(answer.detail.data()),
                                 answer.detail.size()))}});
    }
  } else if (what == "decision") {
    if (!Authorize(caller.principal, Action::kTriageFinding, &access->project)) {
      return refuse(403, "Only the lab decides.");
    }
    const std::string decision = FormValue(form, "decision");
    const std::string reason = FormValue(form, "reason");
    if ((decision != "accepted" && decision != "rejected") || !ValidDescription(reason)) {
      return refuse(400,
                    "A decision is accepted or rejected, with a reason of at most 10000 bytes.");
    }
    done = store_.DecideTriageItem(item_id, decision, reason, caller.user.id, now);
    if (done) {
      Audit(caller, "triage.decision", "item " + std::to_string(item_id),
            {{"item", item_id},
             {"decision", decision},
             {"reason_sha256",
              Sha256Hex(
                  ByteView(reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size()))}});
    }
  } else if (what == "comments") {
    if (!Authorize(caller.principal, Action::kComment, &access->project)) {
      return refuse(403, "You may not comment here.");
    }
    const std::string text = FormValue(form, "body");
    if (text.empty() || !ValidDescription(text)) {
      return refuse(400, "A comment has 1 to 10000 bytes.");
    }
    auto added = store_.AddTriageComment({0, item_id, caller.user.id, text, now});
    if (!added) {
      done = Forward(added);
    } else {
      Audit(caller, "comment.add", "item " + std::to_string(item_id),
            {{"item", item_id}, {"comment", *added}});
    }
  } else {
    return Html(404, Layout(&caller, "Not found", Notice("No such page.", true)));
  }
  if (!done) return refuse(StatusOf(done.error()), done.error().message);
  return Redirect("/items/" + std::to_string(item_id));
}

HttpResponse PortalApp::TriageVexFile(const Caller& caller, Id release_id) {
  auto release = VisibleRelease(caller, release_id);
  if (!release) return Html(404, Layout(&caller, "Not found", Notice("No such release.", true)));
  auto text = ReadFileCapped(ReleaseResultsDir(config_.results_root, release_id) / "vex.cdx.json",
                             kMaxResultFileBytes);
  auto items = store_.ListTriageItems(release_id);
  if (!text || !items) {
    return Html(404, Layout(&caller, "Not found", Notice("The scan has no VEX yet.", true)));
  }
  const Json vex = TriageVex(Json::parse(*text, nullptr, false), *items);
  return HttpResponse{200, "application/json", DumpJson(vex), {}};
}

}  // namespace clearbox::portal
