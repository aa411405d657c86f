#include "portal/audit_trail.hpp"

#include <map>
#include <set>
#include <tuple>

#include "core/hashing.hpp"
#include "ledger/log_store.hpp"
#include "portal/verdict_ledger.hpp"

namespace clearbox::portal {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Sha256OfText(std::string_view text) {
  return Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::int64_t Int(const Json& detail, const char* key) {
  return detail.contains(key) && detail[key].is_number_integer() ? detail[key].get<std::int64_t>()
                                                                 : -1;
}
std::string Str(const Json& detail, const char* key) {
  return detail.contains(key) && detail[key].is_string() ? detail[key].get<std::string>() : "";
}

}  // namespace

Result<std::unique_ptr<AuditTrail>> AuditTrail::Open(const fs::path& dir) {
  const fs::path keys = dir / "keys";
  std::error_code ec;
  fs::create_directories(keys, ec);
  fs::permissions(keys, fs::perms::owner_all, ec);
  auto key = LoadOrCreateSignerKey(keys / "audit-log.skey", kAuditLogOrigin);
  if (!key) return Forward(key);
  const fs::path log_dir = dir / "audit-log";
  if (!fs::exists(log_dir / "checkpoint", ec)) {
    CLEARBOX_TRY(ledger::LogStore::Init(log_dir, kAuditLogOrigin, *key));
  }
  auto readable = ledger::LogStore::OpenForReading(log_dir);
  if (!readable) return Forward(readable);
  return std::unique_ptr<AuditTrail>(new AuditTrail(log_dir));
}

Result<std::uint64_t> AuditTrail::Record(store::UnixSeconds at, std::string_view actor,
                                         std::string_view action, std::string_view subject,
                                         const nlohmann::ordered_json& detail) {
  const nlohmann::ordered_json entry{
      {"at", at}, {"actor", actor}, {"action", action}, {"subject", subject}, {"detail", detail}};
  std::string text = entry.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (text.size() > ledger::kMaxEntryBytes) {
    return Fail(ErrorCode::kLimitExceeded, "an audit entry is larger than a log entry");
  }
  return writer_->Append(std::move(text));
}

Result<std::vector<Json>> AuditTrail::CheckedEntries() {
  auto log = ledger::LogStore::OpenForReading(dir_);
  if (!log) return Forward(log);
  CLEARBOX_TRY((*log)->CheckAll());
  std::vector<Json> entries;
  for (std::uint64_t i = 0; i < (*log)->checkpoint().size; ++i) {
    auto text = (*log)->ReadEntry(i);
    if (!text) return Forward(text);
    entries.push_back(Json::parse(*text, nullptr, false));
  }
  return entries;
}

namespace {

using MembershipKey = std::tuple<std::int64_t, std::int64_t, std::string>;

// The state the entries describe.
struct Replayed {
  std::set<MembershipKey> memberships;
  std::set<std::pair<std::int64_t, std::int64_t>> shares;
  std::map<std::int64_t, Json> releases, answers, decisions, verdicts, organisations;
};

Replayed Replay(const std::vector<Json>& entries, std::vector<std::string>& problems) {
  Replayed r;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Json& e = entries[i];
    if (!e.is_object() || !e.contains("detail")) {
      problems.push_back("audit entry " + std::to_string(i) + " is not an audit event");
      continue;
    }
    const std::string action = Str(e, "action");
    const Json& d = e["detail"];
    if (action == "membership.add")
      r.memberships.insert({Int(d, "user"), Int(d, "organisation"), Str(d, "role")});
    if (action == "membership.remove")
      r.memberships.erase({Int(d, "user"), Int(d, "organisation"), Str(d, "role")});
    if (action == "share.add") r.shares.insert({Int(d, "project"), Int(d, "organisation")});
    if (action == "share.remove") r.shares.erase({Int(d, "project"), Int(d, "organisation")});
    if (action == "release.upload") r.releases[Int(d, "release")] = d;
    if (action == "triage.answer") {
      r.answers[Int(d, "item")] = d;
      r.decisions.erase(Int(d, "item"));  // a new answer is decided anew
    }
    if (action == "triage.decision") r.decisions[Int(d, "item")] = d;
    if (action == "verdict.publish") r.verdicts[Int(d, "verdict")] = d;
    if (action == "organisation.create") r.organisations[Int(d, "organisation")] = d;
  }
  return r;
}

void CompareTriage(const Replayed& r, store::PortalStore& store,
                   std::vector<std::string>& problems) {
  std::set<std::int64_t> items;
  for (const auto& [id, _] : r.answers) items.insert(id);
  for (const auto& [id, _] : r.decisions) items.insert(id);
  for (std::int64_t id : items) {
    auto item = store.FindTriageItem(id);
    if (!item || !*item) {
      problems.push_back("triage item " + std::to_string(id) +
                         " is logged but not in the database");
      continue;
    }
    const auto& row = **item;
    const std::string where = "triage item " + std::to_string(id) + ": ";
    if (auto a = r.answers.find(id); a != r.answers.end()) {
      if (row.vendor_status != Str(a->second, "status") ||
          row.justification != Str(a->second, "justification") ||
          row.fix_version != Str(a->second, "fix_version") ||
          Sha256OfText(row.detail) != Str(a->second, "detail_sha256")) {
        problems.push_back(where + "the vendor's answer differs from the logged one");
      }
    }
    auto d = r.decisions.find(id);
    const std::string logged = d == r.decisions.end() ? "pending" : Str(d->second, "decision");
    if (row.lab_decision != logged ||
        (d != r.decisions.end() &&
         Sha256OfText(row.lab_reason) != Str(d->second, "reason_sha256"))) {
      problems.push_back(where + "the lab's decision is " + row.lab_decision + ", the log says " +
                         logged);
    }
  }
}

void CompareRows(const Replayed& r, store::PortalStore& store, std::vector<std::string>& problems) {
  for (const auto& [id, d] : r.releases) {
    auto release = store.FindRelease(id);
    if (!release || !*release || (*release)->blob_sha256 != Str(d, "sha256") ||
        (*release)->version != Str(d, "version") || (*release)->project_id != Int(d, "project")) {
      problems.push_back("release " + std::to_string(id) + " differs from its logged upload");
    }
  }
  for (const auto& [id, d] : r.verdicts) {
    auto verdict = store.FindVerdict(id);
    if (!verdict || !*verdict || Sha256OfText((*verdict)->envelope) != Str(d, "envelope_sha256") ||
        (*verdict)->outcome != Str(d, "outcome") || (*verdict)->log_index != Int(d, "log_index")) {
      problems.push_back("verdict " + std::to_string(id) + " differs from its logged publication");
    }
  }
  for (const auto& [id, d] : r.organisations) {
    auto organisation = store.FindOrganisation(id);
    if (!organisation || !*organisation || (*organisation)->name != Str(d, "name") ||
        store::OrganisationKindName((*organisation)->kind) != Str(d, "kind")) {
      problems.push_back("organisation " + std::to_string(id) +
                         " differs from its logged creation");
    }
  }
}

}  // namespace

std::vector<std::string> CompareAuditWithStore(const std::vector<Json>& entries,
                                               store::PortalStore& store) {
  std::vector<std::string> problems;
  const Replayed r = Replay(entries, problems);
  auto memberships = store.ListMemberships();
  auto shares = store.ListShares();
  if (!memberships || !shares) return {"the portal database cannot be read"};
  std::set<MembershipKey> in_db;
  for (const auto& m : *memberships) {
    in_db.insert({m.user_id, m.organisation_id, std::string(store::RoleName(m.role))});
  }
  for (const auto& m : in_db) {
    if (!r.memberships.contains(m)) {
      problems.push_back("membership user " + std::to_string(std::get<0>(m)) + " organisation " +
                         std::to_string(std::get<1>(m)) + " role " + std::get<2>(m) +
                         " is in the database but not in the audit log");
    }
  }
  for (const auto& m : r.memberships) {
    if (!in_db.contains(m)) {
      problems.push_back("membership user " + std::to_string(std::get<0>(m)) + " organisation " +
                         std::to_string(std::get<1>(m)) + " role " + std::get<2>(m) +
                         " is in the audit log but not in the database");
    }
  }
  std::set<std::pair<std::int64_t, std::int64_t>> shares_db;
  for (const auto& s : *shares) shares_db.insert({s.project_id, s.organisation_id});
  if (shares_db != r.shares) problems.push_back("the projects' shares differ from the audit log");
  CompareRows(r, store, problems);
  CompareTriage(r, store, problems);
  return problems;
}

}  // namespace clearbox::portal
