// Routing, authentication and the pages of the portal. Every text that reaches a page goes
// through html::EscapeText/EscapeAttribute; every state-changing form carries the session's
// CSRF token and is refused without it (and from a foreign Origin); every read or write of a
// project asks Authorize first, and a project the caller may not see is answered 404, like
// one that does not exist.
#include "portal/portal_app.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/read_file.hpp"
#include "html/page.hpp"
#include "portal/audit_trail.hpp"
#include "portal/credentials.hpp"
#include "portal/page_parts.hpp"
#include "store/migrations.hpp"

namespace clearbox::portal {

using store::Id;
using store::OrganisationKind;
using store::Role;
using Json = nlohmann::json;
using namespace page;  // NOLINT: the shared page pieces

namespace {

// API tokens expire this long after they are made.
constexpr std::chrono::seconds kApiTokenLifetime{365 * 24 * 3600};

// <option>s of `items` (id, label), none selected.
template <class Items, class Label>
std::string Options(const Items& items, Label label) {
  std::string out;
  for (const auto& item : items) {
    out += "<option value=\"" + std::to_string(item.id) + "\">" + Esc(label(item)) + "</option>";
  }
  return out;
}

std::map<Id, std::string> NamesById(const std::vector<store::Organisation>& organisations) {
  std::map<Id, std::string> names;
  for (const auto& o : organisations) names[o.id] = o.name;
  return names;
}

std::string NameOr(const std::map<Id, std::string>& names, Id id) {
  auto it = names.find(id);
  return it == names.end() ? "#" + std::to_string(id) : it->second;
}

}  // namespace

bool ValidName(std::string_view text) {
  if (text.empty() || text.size() > kMaxNameBytes) return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

bool ValidDescription(std::string_view text) {
  if (text.size() > kMaxDescriptionBytes) return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\n' && c != '\r' && c != '\t') || byte == 0x7f;
  });
}

Result<PortalConfig> LoadPortalConfig(const std::filesystem::path& data_dir, bool secure_cookies) {
  PortalConfig config;
  config.secure_cookies = secure_cookies;
  auto css = ReadFileCapped(data_dir / "portal" / "portal.css", kMaxPortalDataFileBytes);
  if (!css) return Forward(css);
  auto openapi = ReadFileCapped(data_dir / "portal" / "openapi.json", kMaxPortalDataFileBytes);
  if (!openapi) return Forward(openapi);
  config.stylesheet = std::move(*css);
  config.openapi_json = std::move(*openapi);
  return config;
}

const std::vector<ApiRoute>& PortalApp::ApiRoutes() {
  static const std::vector<ApiRoute> kRoutes = {
      {"get", "/api/v1/openapi.json"},  {"get", "/api/v1/whoami"},
      {"get", "/api/v1/projects"},      {"post", "/api/v1/projects"},
      {"get", "/api/v1/projects/{id}"}, {"post", "/api/v1/projects/{id}/releases"},
      {"get", "/api/v1/releases/{id}"},
  };
  return kRoutes;
}

PortalApp::PortalApp(store::PortalStore& store, PortalConfig config)
    : store_(store), config_(std::move(config)) {
  if (!config_.now) {
    config_.now = [] { return static_cast<store::UnixSeconds>(std::time(nullptr)); };
  }
  // A real hash of a password nobody knows: logins for unknown names cost the same time.
  auto secret = RandomHex(kSecretBytes);
  auto hash = HashPassword(secret ? *secret : std::string("unknown account"));
  dummy_hash_ = hash ? *hash : std::string();
}

std::string PortalApp::CookieName() const {
  return std::string(config_.secure_cookies ? kSecureSessionCookie : kSessionCookie);
}

HttpHeaderDecision PortalApp::CheckHeaders(const HttpRequest& request) {
  if (request.method == "POST") {
    if (auto upload = CheckUpload(request)) return std::move(*upload);
  }
  HttpHeaderDecision decision;
  if (request.method == "GET" || request.method == "HEAD") {
    decision.max_body_bytes = 0;
  } else if (request.method == "POST") {
    decision.max_body_bytes = kMaxPortalBodyBytes;
  } else {
    HttpResponse refused{405, "text/plain; charset=utf-8", "method not allowed\n", {}};
    refused.headers.emplace_back("Allow", "GET, HEAD, POST");
    decision.response = std::move(refused);
  }
  return decision;
}

HttpResponse PortalApp::Handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  auto response = WithSecurityHeaders(request, Route(request));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  request_metrics_.Observe(response.status, elapsed);
  if (config_.access_log != nullptr) {
    // The path without its query (a query may carry a version or a file name, not a secret;
    // still, the path is enough to follow the traffic).
    config_.access_log->Write("http.request",
                              {{"method", request.method},
                               {"path", request.path},
                               {"status", response.status},
                               {"ms", std::chrono::duration<double, std::milli>(elapsed).count()}});
  }
  return response;
}

std::optional<HttpResponse> PortalApp::RouteOperations(const HttpRequest& request) {
  const std::string_view path = request.path;
  if (path != "/healthz" && path != "/readyz" && path != "/metrics") return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    return HttpResponse{405, "text/plain; charset=utf-8", "method not allowed\n", {}};
  }
  if (path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
  if (path == "/readyz") {
    auto version = store_.SchemaVersion();
    if (!version) {
      return HttpResponse{503, "text/plain; charset=utf-8", "database unavailable\n", {}};
    }
    if (*version != store::LatestSchemaVersion()) {
      return HttpResponse{503,
                          "text/plain; charset=utf-8",
                          "database schema " + std::to_string(*version) + ", expected " +
                              std::to_string(store::LatestSchemaVersion()) + "\n",
                          {}};
    }
    return HttpResponse{200, "text/plain; charset=utf-8", "ready\n", {}};
  }
  std::string body = request_metrics_.Render();
  auto jobs = store_.ListJobs();
  if (jobs) {
    body += RenderJobMetrics(*jobs, config_.now(), config_.in_process_workers);
  }
  body +=
      "# HELP clearbox_database_up 1 if the database answered this scrape.\n"
      "# TYPE clearbox_database_up gauge\nclearbox_database_up " +
      std::string(jobs ? "1" : "0") + "\n";
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body), {}};
}

void PortalApp::Audit(const Caller& caller, std::string_view action, std::string_view subject,
                      const nlohmann::ordered_json& detail) {
  if (config_.audit == nullptr) return;
  auto recorded = config_.audit->Record(config_.now(), caller.user.name, action, subject, detail);
  // The change is made; an entry that cannot be written shows up in --check-audit.
  if (!recorded) {
    std::fprintf(stderr, "clearbox serve: audit log: %s\n", recorded.error().message.c_str());
  }
}

HttpResponse PortalApp::WithSecurityHeaders(const HttpRequest& request,
                                            HttpResponse response) const {
  // Only the stylesheet and the OpenAPI document may be cached; everything else may show who
  // is logged in or what they may see.
  const bool cacheable = response.status == 200 && (request.path == "/static/portal.css" ||
                                                    request.path == "/api/v1/openapi.json");
  auto& h = response.headers;
  // A result file (report.html) may bring its own, stricter policy.
  const bool has_csp = std::any_of(h.begin(), h.end(), [](const auto& header) {
    return header.first == "Content-Security-Policy";
  });
  if (!has_csp) h.emplace_back("Content-Security-Policy", std::string(kPortalCsp));
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("X-Content-Type-Options", "nosniff");
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the
  // portal's own form posts, which the Origin check must refuse.
  h.emplace_back("Referrer-Policy", "same-origin");
  h.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  h.emplace_back("Cache-Control", cacheable ? "no-cache" : "no-store");
  if (config_.secure_cookies) {
    h.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  return response;
}

bool PortalApp::OriginAllowed(const HttpRequest& request) const {
  const std::string origin = request.Header("origin");
  if (origin.empty()) return true;  // not a browser, or an old one: the CSRF token decides
  const std::string expected =
      std::string(config_.secure_cookies ? "https://" : "http://") + request.Header("host");
  return origin == expected;
}

Result<Principal> PortalApp::PrincipalOf(Id user_id) {
  auto memberships = store_.MembershipsOfUser(user_id);
  if (!memberships) return Forward(memberships);
  return Principal{user_id, std::move(*memberships)};
}

Result<ProjectAccess> PortalApp::AccessOf(const store::Project& project) {
  auto shares = store_.SharesOfProject(project.id);
  if (!shares) return Forward(shares);
  ProjectAccess access{project.vendor_organisation_id, {}};
  for (const auto& share : *shares) access.shared_with.push_back(share.organisation_id);
  return access;
}

std::optional<PortalApp::Caller> PortalApp::SessionCaller(const HttpRequest& request) {
  const auto cookies = ParseCookies(request.Header("cookie"));
  auto it = cookies.find(CookieName());
  if (it == cookies.end() || it->second.size() != 2 * kSecretBytes) return std::nullopt;
  const std::string hash = SecretHash(it->second);
  auto session = store_.FindSession(hash);
  if (!session || !*session || (*session)->expires_at <= config_.now()) return std::nullopt;
  auto user = store_.FindUser((*session)->user_id);
  if (!user || !*user) return std::nullopt;
  auto principal = PrincipalOf((*user)->id);
  if (!principal) return std::nullopt;
  return Caller{std::move(**user), std::move(*principal), hash, (*session)->csrf_token};
}

std::optional<PortalApp::Caller> PortalApp::TokenCaller(const HttpRequest& request) {
  auto token = FindBearerToken(request.Header("authorization"));
  if (!token || !token->starts_with(kApiTokenPrefix)) return std::nullopt;
  auto stored = store_.FindApiToken(SecretHash(*token));
  if (!stored || !*stored) return std::nullopt;
  if ((*stored)->expires_at != 0 && (*stored)->expires_at <= config_.now()) return std::nullopt;
  auto user = store_.FindUser((*stored)->user_id);
  if (!user || !*user) return std::nullopt;
  auto principal = PrincipalOf((*user)->id);
  if (!principal) return std::nullopt;
  return Caller{std::move(**user), std::move(*principal), "", ""};
}

HttpResponse PortalApp::Route(const HttpRequest& request) {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  const std::string_view path = request.path;
  if (path == "/api/v1" || path.starts_with("/api/v1/")) return RouteApi(request, path);
  if (auto operations = RouteOperations(request)) return std::move(*operations);
  const auto segments = Segments(path);
  auto not_allowed = [] {
    return Html(405, "<!DOCTYPE html><title>405</title>method not allowed");
  };

  if (path == "/static/portal.css") {
    if (method != "GET") return not_allowed();
    return HttpResponse{200, "text/css; charset=utf-8", config_.stylesheet, {}};
  }
  if (path == "/") return Redirect("/projects");
  // Browsers ask for it on every first visit: no icon, and no 404 in their console.
  if (path == "/favicon.ico") return HttpResponse{204, "image/x-icon", {}, {}};
  if (path == "/login") {
    if (method == "GET") return LoginPage(request, 200, {});
    if (method == "POST") return Login(request);
    return not_allowed();
  }

  // Published verdicts are public: no session needed.
  if (segments.size() >= 3 && segments.size() <= 4 && segments[0] == "public" &&
      segments[1] == "verdicts") {
    if (method != "GET") return not_allowed();
    return PublicVerdict(segments[2], segments.size() == 4 ? segments[3] : std::string_view());
  }
  auto caller = SessionCaller(request);
  if (!caller) {
    if (method == "GET") return Redirect("/login");
    return LoginPage(request, 403, "Your session has ended; log in again.");
  }
  FormFields form;
  if (method == "POST") {
    if (!OriginAllowed(request)) {
      return Html(403, Layout(&*caller, "Refused", Notice("Cross-origin form refused.", true)));
    }
    auto parsed = ParseForm(request.body);
    if (!parsed) {
      return Html(400, Layout(&*caller, "Bad request", Notice(parsed.error().message, true)));
    }
    form = std::move(*parsed);
    // Every state-changing form carries the session's CSRF token.
    if (!ConstantTimeEquals(FormValue(form, "csrf"), caller->csrf_token)) {
      return Html(403, Layout(&*caller, "Refused",
                              Notice("The form's CSRF token is missing or wrong; reload the page "
                                     "and try again.",
                                     true)));
    }
  }

  const std::size_t n = segments.size();
  if (n == 1 && segments[0] == "logout") {
    return method == "POST" ? Logout(*caller) : not_allowed();
  }
  if (n == 1 && segments[0] == "projects") {
    if (method == "GET") return ProjectsPage(*caller);
    return CreateProject(*caller, form);
  }
  if (n >= 2 && segments[0] == "projects") {
    const auto id = ParseRowId(segments[1]);
    if (!id) return Html(404, Layout(&*caller, "Not found", Notice("No such page.", true)));
    if (n == 2) return method == "GET" ? ProjectPage(*caller, *id) : not_allowed();
    if (n == 3 && segments[2] == "shares") {
      return method == "POST" ? ShareProject(*caller, *id, form) : not_allowed();
    }
  }
  if (n >= 2 && segments[0] == "releases") {
    const auto id = ParseRowId(segments[1]);
    if (id && n == 2 && method == "GET") return ReleasePage(*caller, *id);
    if (id && n == 4 && segments[2] == "files" && method == "GET") {
      return ReleaseFile(*caller, *id, segments[3]);
    }
    if (id && n == 3 && segments[2] == "triage" && method == "GET") return TriagePage(*caller, *id);
    if (id && n == 3 && segments[2] == "verdict" && method == "POST") {
      return PublishVerdict(*caller, *id, form);
    }
    if (id && n == 3 && segments[2] == "vex.json" && method == "GET") {
      return TriageVexFile(*caller, *id);
    }
  }
  if (n >= 2 && segments[0] == "items") {
    const auto id = ParseRowId(segments[1]);
    if (id && n == 2 && method == "GET") return ItemPage(*caller, *id);
    if (id && n == 3 && method == "POST") return ItemPost(*caller, *id, segments[2], form);
  }
  if (n == 1 && segments[0] == "account") {
    return method == "GET" ? AccountPage(*caller) : not_allowed();
  }
  if (n == 2 && segments[0] == "account" && segments[1] == "tokens") {
    return method == "POST" ? CreateToken(*caller, form) : not_allowed();
  }
  if (n == 4 && segments[0] == "account" && segments[1] == "tokens" && segments[3] == "delete") {
    const auto id = ParseRowId(segments[2]);
    if (id && method == "POST") return DeleteToken(*caller, *id);
  }
  if (n >= 1 && segments[0] == "admin") {
    if (!Authorize(caller->principal, Action::kAdminister, nullptr)) {
      return Html(403, Layout(&*caller, "Forbidden", Notice("Administrators only.", true)));
    }
    if (n == 1) return method == "GET" ? AdminPage(*caller) : not_allowed();
    if (method != "POST") return not_allowed();
    const std::string what =
        std::string(segments[1]) + (n == 3 ? "/" + std::string(segments[2]) : std::string());
    if (n <= 3) return AdminPost(*caller, what, form);
  }
  return Html(404, Layout(&*caller, "Not found", Notice("No such page.", true)));
}

std::string PortalApp::Layout(const Caller* caller, std::string_view title,
                              std::string_view body) const {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      Esc(title) +
      " · clearbox portal</title><link rel=\"stylesheet\" href=\"/static/portal.css\">"
      "</head><body><header><a class=\"brand\" href=\"/projects\">clearbox portal</a>";
  if (caller) {
    page += "<nav><a href=\"/projects\">Projects</a> <a href=\"/account\">Account</a>";
    if (Authorize(caller->principal, Action::kAdminister, nullptr)) {
      page += " <a href=\"/admin\">Administration</a>";
    }
    page += "</nav><form class=\"logout\" method=\"post\" action=\"/logout\">" +
            CsrfField(caller->csrf_token) + "<span class=\"who\">" + Esc(caller->user.name) +
            "</span> <button type=\"submit\">Log out</button></form>";
  }
  page += "</header><main><h1>" + Esc(title) + "</h1>\n";
  page += body;
  page += "</main></body></html>\n";
  return page;
}

HttpResponse PortalApp::LoginPage(const HttpRequest& request, int status,
                                  std::string_view message) {
  if (status == 200 && SessionCaller(request)) return Redirect("/projects");
  const std::string body =
      Notice(message, true) +
      "<form class=\"login\" method=\"post\" action=\"/login\">"
      "<label>Name <input name=\"name\" autocomplete=\"username\" required></label>"
      "<label>Password <input name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required></label>"
      "<button type=\"submit\">Log in</button></form>";
  return Html(status, Layout(nullptr, "Log in", body));
}

HttpResponse PortalApp::Login(const HttpRequest& request) {
  if (!OriginAllowed(request)) return LoginPage(request, 403, "Cross-origin login refused.");
  auto form = ParseForm(request.body);
  if (!form) return LoginPage(request, 400, "Malformed form.");
  const std::string name = FormValue(*form, "name");
  const std::string password = FormValue(*form, "password");
  const auto steady_now = LoginLimiter::Clock::now();
  if (!limiter_.Allowed(name, request.remote_address, steady_now)) {
    auto response = LoginPage(request, 429, "Too many failed logins; try again later.");
    response.headers.emplace_back("Retry-After", std::to_string(kLoginFailureWindow.count()));
    return response;
  }
  auto user = store_.FindUserByName(name);
  if (!user) return LoginPage(request, 500, "The portal database failed.");
  bool ok = false;
  if (*user) {
    ok = VerifyPassword((*user)->password_hash, password);
  } else {
    (void)VerifyPassword(dummy_hash_, password);
  }
  if (!ok) {
    limiter_.RecordFailure(name, request.remote_address, steady_now);
    return LoginPage(request, 401, "Wrong name or password.");
  }
  limiter_.RecordSuccess(name);
  auto session_id = RandomHex(kSecretBytes);
  auto csrf = RandomHex(kSecretBytes);
  if (!session_id || !csrf) return LoginPage(request, 500, "No random bytes for a session.");
  const store::UnixSeconds now = config_.now();
  (void)store_.DeleteExpiredSessions(now);
  auto created = store_.CreateSession(store::Session{SecretHash(*session_id), (*user)->id, *csrf,
                                                     now, now + config_.session_lifetime.count()});
  if (!created) return LoginPage(request, 500, "The portal database failed.");
  auto response = Redirect("/projects");
  std::string cookie = CookieName() + "=" + *session_id +
                       "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                       std::to_string(config_.session_lifetime.count());
  if (config_.secure_cookies) cookie += "; Secure";
  response.headers.emplace_back("Set-Cookie", std::move(cookie));
  return response;
}

HttpResponse PortalApp::Logout(const Caller& caller) {
  (void)store_.DeleteSession(caller.session_hash);
  auto response = Redirect("/login");
  std::string cookie = CookieName() + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
  if (config_.secure_cookies) cookie += "; Secure";
  response.headers.emplace_back("Set-Cookie", std::move(cookie));
  return response;
}

HttpResponse PortalApp::ProjectsPage(const Caller& caller, int status, std::string_view message) {
  auto projects = store_.ListProjects();
  auto organisations = store_.ListOrganisations();
  if (!projects || !organisations) {
    return Html(500, Layout(&caller, "Projects", Notice("The portal database failed.", true)));
  }
  const auto names = NamesById(*organisations);
  std::string rows;
  std::size_t shown = 0;
  for (const auto& project : *projects) {
    auto access = AccessOf(project);
    if (!access || !Authorize(caller.principal, Action::kViewProject, &*access)) continue;
    ++shown;
    rows += "<tr><td><a href=\"/projects/" + std::to_string(project.id) + "\">" +
            Esc(project.name) + "</a></td><td>" +
            Esc(NameOr(names, project.vendor_organisation_id)) + "</td><td>" +
            Esc(FormatTime(project.created_at)) + "</td></tr>";
  }
  std::string body = Notice(message, status >= 400);
  if (shown == 0) {
    body += "<p>No projects to show.</p>";
  } else {
    body +=
        "<table id=\"projects\"><thead><tr><th>Project</th><th>Vendor</th><th>Created</th>"
        "</tr></thead><tbody>" +
        rows + "</tbody></table>";
  }
  std::vector<store::Organisation> owners;
  for (const auto& o : *organisations) {
    const ProjectAccess would_be{o.id, {}};
    if (o.kind == OrganisationKind::kVendor &&
        Authorize(caller.principal, Action::kCreateProject, &would_be)) {
      owners.push_back(o);
    }
  }
  if (!owners.empty()) {
    body += "<h2>New project</h2><form method=\"post\" action=\"/projects\">" +
            CsrfField(caller.csrf_token) + "<label>Vendor <select name=\"organisation\">" +
            Options(owners, [](const auto& o) { return o.name; }) +
            "</select></label><label>Name <input name=\"name\" required maxlength=\"" +
            std::to_string(kMaxNameBytes) +
            "\"></label><label>Description <textarea name=\"description\"></textarea></label>"
            "<button type=\"submit\">Create</button></form>";
  }
  return Html(status, Layout(&caller, "Projects", body));
}

HttpResponse PortalApp::CreateProject(const Caller& caller, const FormFields& form) {
  const auto organisation = ParseRowId(FormValue(form, "organisation"));
  const std::string name = FormValue(form, "name");
  const std::string description = FormValue(form, "description");
  const ProjectAccess would_be{organisation.value_or(0), {}};
  if (!organisation || !Authorize(caller.principal, Action::kCreateProject, &would_be)) {
    return ProjectsPage(caller, 403, "You may not create projects for that organisation.");
  }
  if (!ValidName(name) || !ValidDescription(description)) {
    return ProjectsPage(caller, 400,
                        "A project needs a name (at most 200 bytes, no control "
                        "characters) and a description of at most 10000 bytes.");
  }
  auto id = store_.CreateProject(*organisation, name, description, config_.now());
  if (!id) return ProjectsPage(caller, StatusOf(id.error()), id.error().message);
  Audit(caller, "project.create", "project " + std::to_string(*id),
        {{"project", *id}, {"organisation", *organisation}, {"name", name}});
  return Redirect("/projects/" + std::to_string(*id));
}

HttpResponse PortalApp::ProjectPage(const Caller& caller, Id project_id, int status,
                                    std::string_view message) {
  auto not_found = [&] {
    return Html(404, Layout(&caller, "Not found", Notice("No such project.", true)));
  };
  auto project = store_.FindProject(project_id);
  if (!project || !*project) return not_found();
  auto access = AccessOf(**project);
  // A project the caller may not see is indistinguishable from one that does not exist.
  if (!access || !Authorize(caller.principal, Action::kViewProject, &*access)) return not_found();
  auto organisations = store_.ListOrganisations();
  if (!organisations) return not_found();
  const auto names = NamesById(*organisations);
  const auto& p = **project;
  std::string body = Notice(message, status >= 400);
  body += "<dl><dt>Vendor</dt><dd>" + Esc(NameOr(names, p.vendor_organisation_id)) +
          "</dd><dt>Created</dt><dd>" + Esc(FormatTime(p.created_at)) + "</dd></dl>";
  body += "<p class=\"description\">" + Esc(p.description) + "</p>";
  const bool may_share = Authorize(caller.principal, Action::kShareProject, &*access);
  if (may_share || HoldsRole(caller.principal, Role::kLabAnalyst)) {
    body += "<h2>Shared with</h2><ul id=\"shares\">";
    for (Id organisation : access->shared_with) {
      body += "<li>" + Esc(NameOr(names, organisation)) + "</li>";
    }
    body += "</ul>";
  }
  if (may_share) {
    std::vector<store::Organisation> targets;
    for (const auto& o : *organisations) {
      if (o.kind == OrganisationKind::kCustomer || o.kind == OrganisationKind::kRegulator) {
        targets.push_back(o);
      }
    }
    body += "<form method=\"post\" action=\"/projects/" + std::to_string(p.id) + "/shares\">" +
            CsrfField(caller.csrf_token) + "<label>Share with <select name=\"organisation\">" +
            Options(targets,
                    [](const auto& o) {
                      return o.name + " (" + std::string(OrganisationKindName(o.kind)) + ")";
                    }) +
            "</select></label><button type=\"submit\">Share</button></form>";
  }
  body += ReleasesSection(caller, p, Authorize(caller.principal, Action::kUploadRelease, &*access));
  return Html(status, Layout(&caller, p.name, body));
}

HttpResponse PortalApp::ShareProject(const Caller& caller, Id project_id, const FormFields& form) {
  auto project = store_.FindProject(project_id);
  if (!project || !*project) return ProjectPage(caller, project_id);
  auto access = AccessOf(**project);
  if (!access || !Authorize(caller.principal, Action::kShareProject, &*access)) {
    // Seen but not shareable: 403 on the page; not seen: the same 404 as a missing project.
    if (access && Authorize(caller.principal, Action::kViewProject, &*access)) {
      return ProjectPage(caller, project_id, 403, "You may not share this project.");
    }
    return ProjectPage(caller, 0);
  }
  const auto organisation = ParseRowId(FormValue(form, "organisation"));
  if (!organisation) return ProjectPage(caller, project_id, 400, "Choose an organisation.");
  auto shared = store_.AddShare({project_id, *organisation});
  if (!shared)
    return ProjectPage(caller, project_id, StatusOf(shared.error()), shared.error().message);
  Audit(caller, "share.add", "project " + std::to_string(project_id),
        {{"project", project_id}, {"organisation", *organisation}});
  return Redirect("/projects/" + std::to_string(project_id));
}

HttpResponse PortalApp::AccountPage(const Caller& caller, int status, std::string_view message,
                                    std::string_view new_token) {
  auto tokens = store_.ListApiTokensOfUser(caller.user.id);
  auto organisations = store_.ListOrganisations();
  if (!tokens || !organisations) {
    return Html(500, Layout(&caller, "Account", Notice("The portal database failed.", true)));
  }
  const auto names = NamesById(*organisations);
  std::string body = Notice(message, status >= 400);
  if (!new_token.empty()) {
    body +=
        "<section class=\"new-token\"><h2>Your new API token</h2><p>Copy it now: it is "
        "shown only once (the portal keeps only its hash).</p><pre><code id=\"new-token\">" +
        Esc(new_token) + "</code></pre></section>";
  }
  body += "<h2>Memberships</h2><ul id=\"memberships\">";
  for (const auto& m : caller.principal.memberships) {
    body += "<li>" + Esc(std::string(RoleName(m.role))) + " in " +
            Esc(NameOr(names, m.organisation_id)) + "</li>";
  }
  body += "</ul><h2>API tokens</h2>";
  if (tokens->empty()) {
    body += "<p>No API tokens.</p>";
  } else {
    body +=
        "<table id=\"tokens\"><thead><tr><th>Name</th><th>Created</th><th>Expires</th><th>"
        "</th></tr></thead><tbody>";
    for (const auto& t : *tokens) {
      body += "<tr><td>" + Esc(t.name) + "</td><td>" + Esc(FormatTime(t.created_at)) + "</td><td>" +
              Esc(FormatTime(t.expires_at)) +
              "</td><td><form method=\"post\" action=\"/account/tokens/" + std::to_string(t.id) +
              "/delete\">" + CsrfField(caller.csrf_token) +
              "<button type=\"submit\">Revoke</button></form></td></tr>";
    }
    body += "</tbody></table>";
  }
  body += "<form method=\"post\" action=\"/account/tokens\">" + CsrfField(caller.csrf_token) +
          "<label>Token name <input name=\"name\" required></label>"
          "<button type=\"submit\">Create API token</button></form>";
  return Html(status, Layout(&caller, "Account", body));
}

HttpResponse PortalApp::CreateToken(const Caller& caller, const FormFields& form) {
  const std::string name = FormValue(form, "name");
  if (!ValidName(name)) return AccountPage(caller, 400, "A token needs a name.");
  auto existing = store_.ListApiTokensOfUser(caller.user.id);
  if (!existing) return AccountPage(caller, 500, "The portal database failed.");
  if (existing->size() >= kMaxApiTokensPerUser) {
    return AccountPage(caller, 409, "Too many API tokens; revoke one first.");
  }
  auto secret = RandomHex(kSecretBytes);
  if (!secret) return AccountPage(caller, 500, "No random bytes for a token.");
  const std::string token = std::string(kApiTokenPrefix) + *secret;
  const store::UnixSeconds now = config_.now();
  auto id = store_.CreateApiToken(store::ApiToken{0, SecretHash(token), caller.user.id, name, now,
                                                  now + kApiTokenLifetime.count()});
  if (!id) return AccountPage(caller, StatusOf(id.error()), id.error().message);
  Audit(caller, "token.create", "user " + std::to_string(caller.user.id),
        {{"token", *id}, {"name", name}});
  return AccountPage(caller, 200, "API token created.", token);
}

HttpResponse PortalApp::DeleteToken(const Caller& caller, Id token_id) {
  auto deleted = store_.DeleteApiToken(caller.user.id, token_id);
  if (!deleted) return AccountPage(caller, 500, "The portal database failed.");
  if (!*deleted) return AccountPage(caller, 404, "No such token.");
  Audit(caller, "token.revoke", "user " + std::to_string(caller.user.id), {{"token", token_id}});
  return Redirect("/account");
}

HttpResponse PortalApp::AdminPage(const Caller& caller, int status, std::string_view message) {
  auto organisations = store_.ListOrganisations();
  auto users = store_.ListUsers();
  auto memberships = store_.ListMemberships();
  auto projects = store_.ListProjects();
  auto shares = store_.ListShares();
  if (!organisations || !users || !memberships || !projects || !shares) {
    return Html(500,
                Layout(&caller, "Administration", Notice("The portal database failed.", true)));
  }
  const auto org_names = NamesById(*organisations);
  std::map<Id, std::string> user_names, project_names;
  for (const auto& u : *users) user_names[u.id] = u.name;
  for (const auto& p : *projects) project_names[p.id] = p.name;
  const std::string csrf = CsrfField(caller.csrf_token);
  std::string body = Notice(message, status >= 400);

  body +=
      "<h2>Organisations</h2><table id=\"organisations\"><thead><tr><th>Id</th><th>Name</th>"
      "<th>Kind</th></tr></thead><tbody>";
  for (const auto& o : *organisations) {
    body += "<tr><td>" + std::to_string(o.id) + "</td><td>" + Esc(o.name) + "</td><td>" +
            Esc(std::string(OrganisationKindName(o.kind))) + "</td></tr>";
  }
  body += "</tbody></table><form method=\"post\" action=\"/admin/organisations\">" + csrf +
          "<label>Name <input name=\"name\" required></label><label>Kind <select name=\"kind\">";
  for (OrganisationKind kind : store::kAllOrganisationKinds) {
    const std::string kind_name(OrganisationKindName(kind));
    body += "<option value=\"" + kind_name + "\">" + kind_name + "</option>";
  }
  body += "</select></label><button type=\"submit\">Add organisation</button></form>";

  body +=
      "<h2>Users</h2><table id=\"users\"><thead><tr><th>Id</th><th>Name</th><th>Created</th>"
      "</tr></thead><tbody>";
  for (const auto& u : *users) {
    body += "<tr><td>" + std::to_string(u.id) + "</td><td>" + Esc(u.name) + "</td><td>" +
            Esc(FormatTime(u.created_at)) + "</td></tr>";
  }
  body +=
      "</tbody></table><form method=\"post\" action=\"/admin/users\">" + csrf +
      "<label>Name <input name=\"name\" required></label><label>Password <input "
      "name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"" +
      std::to_string(kMinPasswordBytes) +
      "\"></label><button type=\"submit\">Add user</button></form>";

  std::string role_options;
  for (Role role : store::kAllRoles) {
    const std::string role_name(RoleName(role));
    role_options += "<option value=\"" + role_name + "\">" + role_name + "</option>";
  }
  const std::string org_options = Options(*organisations, [](const auto& o) {
    return o.name + " (" + std::string(OrganisationKindName(o.kind)) + ")";
  });
  body +=
      "<h2>Memberships</h2><table id=\"memberships\"><thead><tr><th>User</th>"
      "<th>Organisation</th><th>Role</th><th></th></tr></thead><tbody>";
  for (const auto& m : *memberships) {
    const std::string role_name(RoleName(m.role));
    body += "<tr><td>" + Esc(NameOr(user_names, m.user_id)) + "</td><td>" +
            Esc(NameOr(org_names, m.organisation_id)) + "</td><td>" + role_name +
            "</td><td><form method=\"post\" action=\"/admin/memberships/delete\">" + csrf +
            "<input type=\"hidden\" name=\"user\" value=\"" + std::to_string(m.user_id) +
            "\"><input type=\"hidden\" name=\"organisation\" value=\"" +
            std::to_string(m.organisation_id) + "\"><input type=\"hidden\" name=\"role\" value=\"" +
            role_name + "\"><button type=\"submit\">Remove</button></form></td></tr>";
  }
  body += "</tbody></table><form method=\"post\" action=\"/admin/memberships\">" + csrf +
          "<label>User <select name=\"user\">" +
          Options(*users, [](const auto& u) { return u.name; }) +
          "</select></label><label>Organisation <select name=\"organisation\">" + org_options +
          "</select></label><label>Role <select name=\"role\">" + role_options +
          "</select></label><button type=\"submit\">Add membership</button></form>";

  body +=
      "<h2>Shares</h2><table id=\"shares\"><thead><tr><th>Project</th><th>Organisation</th>"
      "<th></th></tr></thead><tbody>";
  for (const auto& s : *shares) {
    body += "<tr><td>" + Esc(NameOr(project_names, s.project_id)) + "</td><td>" +
            Esc(NameOr(org_names, s.organisation_id)) +
            "</td><td><form method=\"post\" action=\"/admin/shares/delete\">" + csrf +
            "<input type=\"hidden\" name=\"project\" value=\"" + std::to_string(s.project_id) +
            "\"><input type=\"hidden\" name=\"organisation\" value=\"" +
            std::to_string(s.organisation_id) +
            "\"><button type=\"submit\">Remove</button></form></td></tr>";
  }
  body += "</tbody></table><form method=\"post\" action=\"/admin/shares\">" + csrf +
          "<label>Project <select name=\"project\">" +
          Options(*projects,
                  [&](const auto& p) {
                    return p.name + " (" + NameOr(org_names, p.vendor_organisation_id) + ")";
                  }) +
          "</select></label><label>Organisation <select name=\"organisation\">" + org_options +
          "</select></label><button type=\"submit\">Share</button></form>";
  return Html(status, Layout(&caller, "Administration", body));
}

HttpResponse PortalApp::AdminPost(const Caller& caller, std::string_view what,
                                  const FormFields& form) {
  auto done = [&](const Result<void>& result) {
    if (!result) return AdminPage(caller, StatusOf(result.error()), result.error().message);
    return Redirect("/admin");
  };
  const std::string name = FormValue(form, "name");
  if (what == "organisations") {
    const auto kind = store::FindOrganisationKind(FormValue(form, "kind"));
    if (!ValidName(name) || !kind) return AdminPage(caller, 400, "Give a name and a kind.");
    auto id = store_.CreateOrganisation(name, *kind);
    if (id) {
      Audit(caller, "organisation.create", "organisation " + std::to_string(*id),
            {{"organisation", *id}, {"name", name}, {"kind", OrganisationKindName(*kind)}});
    }
    return done(id ? Result<void>() : Result<void>(Forward(id)));
  }
  if (what == "users") {
    const std::string password = FormValue(form, "password");
    if (!ValidName(name)) return AdminPage(caller, 400, "Give a user name.");
    if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
      return AdminPage(caller, 400, "A password has 12 to 1024 bytes.");
    }
    auto hash = HashPassword(password);
    if (!hash) return AdminPage(caller, 500, hash.error().message);
    auto id = store_.CreateUser(name, *hash, config_.now());
    if (id)
      Audit(caller, "user.create", "user " + std::to_string(*id), {{"user", *id}, {"name", name}});
    return done(id ? Result<void>() : Result<void>(Forward(id)));
  }
  if (what == "memberships" || what == "memberships/delete") {
    const auto user = ParseRowId(FormValue(form, "user"));
    const auto organisation = ParseRowId(FormValue(form, "organisation"));
    const auto role = store::FindRole(FormValue(form, "role"));
    if (!user || !organisation || !role) {
      return AdminPage(caller, 400, "Give a user, an organisation and a role.");
    }
    const store::Membership membership{*user, *organisation, *role};
    auto changed = what == "memberships" ? store_.AddMembership(membership)
                                         : store_.RemoveMembership(membership);
    if (changed) {
      Audit(caller, what == "memberships" ? "membership.add" : "membership.remove",
            "user " + std::to_string(*user),
            {{"user", *user}, {"organisation", *organisation}, {"role", RoleName(*role)}});
    }
    return done(changed);
  }
  if (what == "shares" || what == "shares/delete") {
    const auto project = ParseRowId(FormValue(form, "project"));
    const auto organisation = ParseRowId(FormValue(form, "organisation"));
    if (!project || !organisation)
      return AdminPage(caller, 400, "Give a project and an organisation.");
    const store::Share share{*project, *organisation};
    auto changed = what == "shares" ? store_.AddShare(share) : store_.RemoveShare(share);
    if (changed) {
      Audit(caller, what == "shares" ? "share.add" : "share.remove",
            "project " + std::to_string(*project),
            {{"project", *project}, {"organisation", *organisation}});
    }
    return done(changed);
  }
  return Html(404, Layout(&caller, "Not found", Notice("No such page.", true)));
}

// ---- JSON API ----

HttpResponse PortalApp::RouteApi(const HttpRequest& request, std::string_view path) {
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  const auto segments = Segments(path);  // "api", "v1", ...
  const std::size_t n = segments.size();
  auto not_allowed = [] { return ApiError(405, "method not allowed"); };
  if (n == 3 && segments[2] == "openapi.json") {
    if (method != "GET") return not_allowed();
    return HttpResponse{200, "application/json", config_.openapi_json, {}};
  }
  // Writes need a Bearer token: a browser's cookie never authorises an API write, so the API
  // needs no CSRF token. Reads also accept the session cookie.
  std::optional<Caller> caller = TokenCaller(request);
  if (!caller && method == "GET") caller = SessionCaller(request);
  if (!caller) {
    auto response = ApiError(401, "authentication required: Authorization: Bearer TOKEN");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"clearbox\"");
    return response;
  }
  if (n == 3 && segments[2] == "whoami") {
    return method == "GET" ? ApiWhoami(*caller) : not_allowed();
  }
  if (n == 3 && segments[2] == "projects") {
    if (method == "GET") return ApiProjects(*caller);
    if (method == "POST") return ApiCreateProject(*caller, request);
    return not_allowed();
  }
  if (n == 4 && segments[2] == "projects") {
    const auto id = ParseRowId(segments[3]);
    if (!id) return ApiError(404, "no such project");
    return method == "GET" ? ApiProject(*caller, *id) : not_allowed();
  }
  if (n == 5 && segments[2] == "projects" && segments[4] == "releases") {
    // Uploads are answered by their body sink (CheckUpload); a POST here had no sink.
    return method == "POST" ? ApiError(404, "no such project") : not_allowed();
  }
  if (n == 4 && segments[2] == "releases") {
    const auto id = ParseRowId(segments[3]);
    if (!id) return ApiError(404, "no such release");
    return method == "GET" ? ApiRelease(*caller, *id) : not_allowed();
  }
  return ApiError(404, "no such route");
}

namespace {

Json ProjectJson(const store::Project& p, const std::map<Id, std::string>& names) {
  return Json{{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"vendor_organisation_id", p.vendor_organisation_id},
              {"vendor_organisation", NameOr(names, p.vendor_organisation_id)},
              {"created_at", p.created_at}};
}

}  // namespace

HttpResponse PortalApp::ApiWhoami(const Caller& caller) {
  auto organisations = store_.ListOrganisations();
  if (!organisations) return ApiError(500, "database error");
  const auto names = NamesById(*organisations);
  Json memberships = Json::array();
  for (const auto& m : caller.principal.memberships) {
    memberships.push_back(Json{{"organisation_id", m.organisation_id},
                               {"organisation", NameOr(names, m.organisation_id)},
                               {"role", std::string(RoleName(m.role))}});
  }
  return JsonResponse(200, Json{{"id", caller.user.id},
                                {"name", caller.user.name},
                                {"memberships", std::move(memberships)}});
}

HttpResponse PortalApp::ApiProjects(const Caller& caller) {
  auto projects = store_.ListProjects();
  auto organisations = store_.ListOrganisations();
  if (!projects || !organisations) return ApiError(500, "database error");
  const auto names = NamesById(*organisations);
  Json list = Json::array();
  for (const auto& project : *projects) {
    auto access = AccessOf(project);
    if (!access || !Authorize(caller.principal, Action::kViewProject, &*access)) continue;
    list.push_back(ProjectJson(project, names));
  }
  return JsonResponse(200, Json{{"projects", std::move(list)}});
}

HttpResponse PortalApp::ApiCreateProject(const Caller& caller, const HttpRequest& request) {
  const std::string type = request.Header("content-type");
  if (type.substr(0, type.find(';')) != "application/json") {
    return ApiError(415, "send application/json");
  }
  const Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return ApiError(400, "the body is not a JSON object");
  const auto organisation = body.find("organisation_id");
  const auto name = body.find("name");
  const auto description = body.find("description");
  if (organisation == body.end() || !organisation->is_number_integer() || name == body.end() ||
      !name->is_string() || (description != body.end() && !description->is_string())) {
    return ApiError(400,
                    "give organisation_id (integer), name and optionally description (strings)");
  }
  const Id organisation_id = organisation->get<Id>();
  const std::string name_text = name->get<std::string>();
  const std::string description_text =
      description == body.end() ? std::string() : description->get<std::string>();
  const ProjectAccess would_be{organisation_id, {}};
  if (!Authorize(caller.principal, Action::kCreateProject, &would_be)) {
    return ApiError(403, "you may not create projects for that organisation");
  }
  if (!ValidName(name_text) || !ValidDescription(description_text)) {
    return ApiError(400,
                    "name: 1-200 bytes without control characters; description: at most "
                    "10000 bytes");
  }
  auto id = store_.CreateProject(organisation_id, name_text, description_text, config_.now());
  if (!id) return ApiError(StatusOf(id.error()), id.error().message);
  Audit(caller, "project.create", "project " + std::to_string(*id),
        {{"project", *id}, {"organisation", organisation_id}, {"name", name_text}});
  auto project = store_.FindProject(*id);
  auto organisations = store_.ListOrganisations();
  if (!project || !*project || !organisations) return ApiError(500, "database error");
  auto response = JsonResponse(201, ProjectJson(**project, NamesById(*organisations)));
  response.headers.emplace_back("Location", "/api/v1/projects/" + std::to_string(*id));
  return response;
}

HttpResponse PortalApp::ApiProject(const Caller& caller, Id project_id) {
  auto project = store_.FindProject(project_id);
  if (!project) return ApiError(500, "database error");
  if (!*project) return ApiError(404, "no such project");
  auto access = AccessOf(**project);
  if (!access || !Authorize(caller.principal, Action::kViewProject, &*access)) {
    return ApiError(404, "no such project");
  }
  auto organisations = store_.ListOrganisations();
  if (!organisations) return ApiError(500, "database error");
  return JsonResponse(200, ProjectJson(**project, NamesById(*organisations)));
}

}  // namespace clearbox::portal
