// The lab portal's web application and JSON API (`clearbox serve`): server-rendered pages that
// work without JavaScript (login, projects, a project, account and API tokens, administration)
// and /api/v1 (whoami, projects) described by an OpenAPI 3 document. Authentication by session
// cookie (pages) or Bearer token (API); every decision goes through Authorize.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portal/authorization.hpp"
#include "portal/event_log.hpp"
#include "portal/form.hpp"
#include "portal/http_server.hpp"
#include "portal/login_limiter.hpp"
#include "portal/operations.hpp"
#include "store/blob_store.hpp"
#include "store/portal_store.hpp"

namespace clearbox::portal {

class VerdictLedger;
class AuditTrail;

// How long a login session lasts.
inline constexpr std::chrono::seconds kSessionLifetime{12 * 3600};
// Largest form or JSON body the portal accepts (uploads, later, get their own limit).
inline constexpr std::size_t kMaxPortalBodyBytes = 64 << 10;
// Longest organisation, user, project or token name, and project description, in bytes.
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxDescriptionBytes = 10'000;
// Largest release upload (image or SBOM) by default; `clearbox serve --max-upload-mb` sets it.
inline constexpr std::uint64_t kDefaultMaxUploadBytes = std::uint64_t{2048} << 20;
// Largest result file (report.json, report.html, ...) the portal serves.
inline constexpr std::uint64_t kMaxResultFileBytes = std::uint64_t{512} << 20;
// API tokens one user may hold.
inline constexpr std::size_t kMaxApiTokensPerUser = 20;
// Largest static data file (stylesheet, OpenAPI document) the portal loads.
inline constexpr std::uint64_t kMaxPortalDataFileBytes = 1 << 20;

// The session cookie's name: with the __Host- prefix when cookies are Secure (browsers then
// refuse it from plain HTTP, from a sub-domain or with another Path).
inline constexpr std::string_view kSessionCookie = "cb_session";
inline constexpr std::string_view kSecureSessionCookie = "__Host-cb_session";

// The Content-Security-Policy of every response: no script at all, styles from the portal only.
inline constexpr std::string_view kPortalCsp =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

// A name (organisation, user, project, token): 1..kMaxNameBytes bytes, no control characters.
bool ValidName(std::string_view text);
// A description: at most kMaxDescriptionBytes; control characters only as line breaks and tabs.
bool ValidDescription(std::string_view text);

// What the portal needs besides its store.
struct PortalConfig {
  // The portal is reached over HTTPS (directly or behind a TLS-terminating proxy): cookies get
  // Secure and the __Host- prefix, responses Strict-Transport-Security.
  bool secure_cookies = false;
  std::chrono::seconds session_lifetime = kSessionLifetime;
  std::string stylesheet;    // data/portal/portal.css
  std::string openapi_json;  // data/portal/openapi.json
  // The wall clock in Unix seconds (tests move it).
  std::function<store::UnixSeconds()> now;
  // Releases: the blob store uploads stream into (none: uploads are refused with 503), where
  // scan results live (RESULTS/<release id>/), the upload cap, and what wakes the scan workers.
  const store::BlobStore* blobs = nullptr;
  std::filesystem::path results_root;
  std::uint64_t max_upload_bytes = kDefaultMaxUploadBytes;
  std::function<void()> on_release_queued;
  // Verdict publication: the attester key and verdict log (none: verdicts are refused, 503).
  VerdictLedger* verdicts = nullptr;
  // The audit trail every state change is recorded in (none: not recorded).
  AuditTrail* audit = nullptr;
  // Scan workers of this process (shown in /metrics).
  int in_process_workers = 0;
  // Access log: one "http.request" JSON line per request (method, path, status, ms); none: off.
  EventLog* access_log = nullptr;
};

// Reads data/portal/portal.css and openapi.json from `data_dir`; kIo if one is missing.
Result<PortalConfig> LoadPortalConfig(const std::filesystem::path& data_dir, bool secure_cookies);

// One route of the JSON API as the OpenAPI document names it ("/api/v1/projects/{id}").
struct ApiRoute {
  std::string method;  // "get", "post"
  std::string path;
};

// The portal; Handle and CheckHeaders are called from the server's threads.
class PortalApp {
 public:
  PortalApp(store::PortalStore& store, PortalConfig config);

  // Before the body: refuses unknown methods (405) and caps bodies at kMaxPortalBodyBytes.
  HttpHeaderDecision CheckHeaders(const HttpRequest& request);
  // Answers one request; every response carries the security headers.
  HttpResponse Handle(const HttpRequest& request);

  // Every route of /api/v1, for the test that keeps the OpenAPI document true.
  static const std::vector<ApiRoute>& ApiRoutes();

 private:
  // Who sent a request: a user with a session (pages) or an API token (API).
  struct Caller {
    store::User user;
    Principal principal;
    std::string session_hash;  // "" when authenticated by an API token
    std::string csrf_token;
  };
  HttpResponse Route(const HttpRequest& request);
  HttpResponse RouteApi(const HttpRequest& request, std::string_view path);
  std::optional<Caller> SessionCaller(const HttpRequest& request);
  std::optional<Caller> TokenCaller(const HttpRequest& request);
  Result<Principal> PrincipalOf(store::Id user_id);
  Result<ProjectAccess> AccessOf(const store::Project& project);
  bool OriginAllowed(const HttpRequest& request) const;
  std::string CookieName() const;

  HttpResponse LoginPage(const HttpRequest& request, int status, std::string_view message);
  HttpResponse Login(const HttpRequest& request);
  HttpResponse Logout(const Caller& caller);
  HttpResponse ProjectsPage(const Caller& caller, int status = 200, std::string_view message = {});
  HttpResponse CreateProject(const Caller& caller, const FormFields& form);
  HttpResponse ProjectPage(const Caller& caller, store::Id project_id, int status = 200,
                           std::string_view message = {});
  HttpResponse ShareProject(const Caller& caller, store::Id project_id, const FormFields& form);
  HttpResponse AccountPage(const Caller& caller, int status = 200, std::string_view message = {},
                           std::string_view new_token = {});
  HttpResponse CreateToken(const Caller& caller, const FormFields& form);
  HttpResponse DeleteToken(const Caller& caller, store::Id token_id);
  HttpResponse AdminPage(const Caller& caller, int status = 200, std::string_view message = {});
  HttpResponse AdminPost(const Caller& caller, std::string_view what, const FormFields& form);

  HttpResponse ApiWhoami(const Caller& caller);
  HttpResponse ApiProjects(const Caller& caller);
  HttpResponse ApiCreateProject(const Caller& caller, const HttpRequest& request);
  HttpResponse ApiProject(const Caller& caller, store::Id project_id);

  // Releases (release_routes.cpp): uploads streamed to the blob store, the release page, its
  // result files and the release API.
  friend class ReleaseUploadSink;
  std::optional<HttpHeaderDecision> CheckUpload(const HttpRequest& request);
  HttpResponse FinishUpload(const HttpRequest& request, const Caller& caller, store::Id project_id,
                            const store::Release& release, bool api);
  HttpResponse ReleasePage(const Caller& caller, store::Id release_id);
  HttpResponse ReleaseFile(const Caller& caller, store::Id release_id, std::string_view name);
  HttpResponse ApiRelease(const Caller& caller, store::Id release_id);
  std::string ReleasesSection(const Caller& caller, const store::Project& project, bool may_upload);
  std::optional<store::Release> VisibleRelease(const Caller& caller, store::Id release_id);
  HttpResponse WithSecurityHeaders(const HttpRequest& request, HttpResponse response) const;
  // Records a state change by `caller` in the audit trail (no secrets in `detail`).
  void Audit(const Caller& caller, std::string_view action, std::string_view subject,
             const nlohmann::ordered_json& detail);

  // Triage (triage_routes.cpp): the release's items, one item with its forms and comments,
  // and the VEX of the triage state.
  struct ItemAccess {
    store::TriageItem item;
    store::Release release;
    ProjectAccess project;
  };
  std::optional<ItemAccess> ItemAccessOf(const Caller& caller, store::Id item_id);
  HttpResponse TriagePage(const Caller& caller, store::Id release_id);
  HttpResponse ItemPage(const Caller& caller, store::Id item_id, int status = 200,
                        std::string_view message = {});
  HttpResponse ItemPost(const Caller& caller, store::Id item_id, std::string_view what,
                        const FormFields& form);
  HttpResponse TriageVexFile(const Caller& caller, store::Id release_id);

  // Verdicts (verdict_routes.cpp): publication by the lab and the public page.
  std::string VerdictSection(const Caller& caller, const store::Release& release,
                             const ProjectAccess& access);
  HttpResponse PublishVerdict(const Caller& caller, store::Id release_id, const FormFields& form);
  HttpResponse PublicVerdict(std::string_view id, std::string_view file);

  std::string Layout(const Caller* caller, std::string_view title, std::string_view body) const;

  // /healthz, /readyz and /metrics; nullopt for any other path.
  std::optional<HttpResponse> RouteOperations(const HttpRequest& request);

  store::PortalStore& store_;
  PortalConfig config_;
  RequestMetrics request_metrics_;
  LoginLimiter limiter_;
  std::string dummy_hash_;  // verified against when the account does not exist (same timing)
};

}  // namespace clearbox::portal
