// Internal to src/store: the column lists every backend selects and the readers that turn one
// result row into a struct. A Row is anything with Int(column) and Text(column) (SQLite's
// statement, a PostgreSQL row view), so both backends read rows the same way.
#pragma once

#include <string_view>

#include "store/portal_store.hpp"

namespace clearbox::store::rows {

constexpr std::string_view kOrganisationColumns = "SELECT id, name, kind FROM organisations";
constexpr std::string_view kUserColumns = "SELECT id, name, password_hash, created_at FROM users";
constexpr std::string_view kMembershipColumns =
    "SELECT user_id, organisation_id, role FROM memberships";
constexpr std::string_view kProjectColumns =
    "SELECT id, vendor_organisation_id, name, description, created_at FROM projects";
constexpr std::string_view kShareColumns = "SELECT project_id, organisation_id FROM shares";
constexpr std::string_view kSessionColumns =
    "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions";
constexpr std::string_view kTokenColumns =
    "SELECT id, token_hash, user_id, name, created_at, expires_at FROM api_tokens";
constexpr std::string_view kReleaseColumns =
    "SELECT id, project_id, version, kind, file_name, blob_sha256, size, "
    "COALESCE(uploaded_by, 0), created_at FROM releases";
constexpr std::string_view kJobColumns =
    "SELECT id, release_id, state, attempts, worker, lease_expires_at, error, created_at, "
    "started_at, finished_at FROM jobs";
constexpr std::string_view kItemColumns =
    "SELECT id, release_id, item_key, kind, title, severity, vendor_status, justification, "
    "detail, fix_version, COALESCE(answered_by, 0), answered_at, lab_decision, lab_reason, "
    "COALESCE(decided_by, 0), decided_at FROM triage_items";
constexpr std::string_view kCommentColumns =
    "SELECT id, item_id, COALESCE(author, 0), body, created_at FROM triage_comments";
constexpr std::string_view kVerdictColumns =
    "SELECT id, release_id, outcome, summary, COALESCE(published_by, 0), published_at, envelope, "
    "log_index FROM verdicts";

template <class Row>
Organisation ReadOrganisation(const Row& s) {
  return Organisation{s.Int(0), s.Text(1),
                      FindOrganisationKind(s.Text(2)).value_or(OrganisationKind::kVendor)};
}
template <class Row>
User ReadUser(const Row& s) {
  return User{s.Int(0), s.Text(1), s.Text(2), s.Int(3)};
}
template <class Row>
Membership ReadMembership(const Row& s) {
  return Membership{s.Int(0), s.Int(1), FindRole(s.Text(2)).value_or(Role::kCustomer)};
}
template <class Row>
Project ReadProject(const Row& s) {
  return Project{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4)};
}
template <class Row>
Share ReadShare(const Row& s) {
  return Share{s.Int(0), s.Int(1)};
}
template <class Row>
Session ReadSession(const Row& s) {
  return Session{s.Text(0), s.Int(1), s.Text(2), s.Int(3), s.Int(4)};
}
template <class Row>
ApiToken ReadApiToken(const Row& s) {
  return ApiToken{s.Int(0), s.Text(1), s.Int(2), s.Text(3), s.Int(4), s.Int(5)};
}
template <class Row>
Release ReadRelease(const Row& s) {
  Release release;
  release.id = s.Int(0);
  release.project_id = s.Int(1);
  release.version = s.Text(2);
  release.kind = FindReleaseKind(s.Text(3)).value_or(ReleaseKind::kImage);
  release.file_name = s.Text(4);
  release.blob_sha256 = s.Text(5);
  release.size = s.Int(6);
  release.uploaded_by = s.Int(7);
  release.created_at = s.Int(8);
  return release;
}
template <class Row>
Job ReadJob(const Row& s) {
  Job job;
  job.id = s.Int(0);
  job.release_id = s.Int(1);
  job.state = FindJobState(s.Text(2)).value_or(JobState::kFailed);
  job.attempts = s.Int(3);
  job.worker = s.Text(4);
  job.lease_expires_at = s.Int(5);
  job.error = s.Text(6);
  job.created_at = s.Int(7);
  job.started_at = s.Int(8);
  job.finished_at = s.Int(9);
  return job;
}
template <class Row>
TriageItem ReadItem(const Row& s) {
  TriageItem item;
  item.id = s.Int(0);
  item.release_id = s.Int(1);
  item.item_key = s.Text(2);
  item.kind = s.Text(3);
  item.title = s.Text(4);
  item.severity = s.Text(5);
  item.vendor_status = s.Text(6);
  item.justification = s.Text(7);
  item.detail = s.Text(8);
  item.fix_version = s.Text(9);
  item.answered_by = s.Int(10);
  item.answered_at = s.Int(11);
  item.lab_decision = s.Text(12);
  item.lab_reason = s.Text(13);
  item.decided_by = s.Int(14);
  item.decided_at = s.Int(15);
  return item;
}
template <class Row>
TriageComment ReadComment(const Row& s) {
  return TriageComment{s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Int(4)};
}
template <class Row>
Verdict ReadVerdict(const Row& s) {
  return Verdict{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5), s.Text(6), s.Int(7)};
}

}  // namespace clearbox::store::rows
