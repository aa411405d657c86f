// The lab portal end to end: a real SQLite file in a temporary directory, PortalApp behind the
// real HttpServer on a free 127.0.0.1 port, and curl as the browser and the CI client. Login
// (success, failure, rate limits), the session cookie's flags, CSRF and Origin refusals, the
// authorisation matrix over HTTP, hostile text stored verbatim and rendered escaped, API tokens,
// the OpenAPI document against the routes, and `clearbox serve --init-admin`.
#include "portal/portal_app.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/hex.hpp"
#include "portal/credentials.hpp"
#include "portal/portal_test_fixture.hpp"
#include "store/sqlite_store.hpp"
#include "support/test_support.hpp"

namespace clearbox::portal {
namespace {

using namespace test;  // NOLINT: the shared fixture

void ExpectSecurityHeaders(const Response& r, const std::string& what) {
  EXPECT_EQ(r.Header("content-security-policy"), kPortalCsp) << what;
  EXPECT_EQ(r.Header("x-frame-options"), "DENY") << what;
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff") << what;
}

TEST_F(PortalServer, LoginSetsAHardenedSessionCookie) {
  const auto login = Login("vendor");
  EXPECT_EQ(login.status, 303) << login.body;
  EXPECT_EQ(login.Header("location"), "/projects");
  const std::string cookie = login.Header("set-cookie");
  EXPECT_TRUE(cookie.starts_with("cb_session=")) << cookie;
  for (const char* flag : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=43200"}) {
    EXPECT_NE(cookie.find(flag), std::string::npos) << flag << " in " << cookie;
  }
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP: no Secure";
  // The cookie value is 256 random bits; only its hash is in the database.
  const std::string value = cookie.substr(11, 2 * kSecretBytes);
  EXPECT_TRUE(IsLowerHex(value));
  EXPECT_TRUE(store_->FindSession(SecretHash(value))->has_value());
  EXPECT_FALSE(store_->FindSession(value)->has_value());

  const auto projects = Curl("GET", "/projects", Jar("vendor"));
  EXPECT_EQ(projects.status, 200);
  EXPECT_NE(projects.body.find("Router A"), std::string::npos);
  EXPECT_EQ(projects.body.find("Camera B"), std::string::npos) << "another vendor's project";
  ExpectSecurityHeaders(projects, "/projects");
  EXPECT_EQ(projects.Header("cache-control"), "no-store");
  EXPECT_EQ(projects.body.find("<script"), std::string::npos) << "no JavaScript needed";
  const auto login_page = Curl("GET", "/login", "");
  ExpectSecurityHeaders(login_page, "/login");

  // Logout ends the session on the server, not only in the browser.
  const std::string stolen = Jar("vendor") + ".copy";
  fs::copy_file(Jar("vendor"), stolen);
  const auto logout = Curl("POST", "/logout", Jar("vendor"), FormBody({{"csrf", Csrf("vendor")}}));
  EXPECT_EQ(logout.status, 303);
  EXPECT_EQ(Curl("GET", "/projects", stolen).status, 303) << "the old cookie is dead";
}

TEST_F(PortalServer, SessionsExpire) {
  ASSERT_EQ(Login("vendor").status, 303);
  EXPECT_EQ(Curl("GET", "/projects", Jar("vendor")).status, 200);
  now_ += kSessionLifetime.count();
  const auto expired = Curl("GET", "/projects", Jar("vendor"));
  EXPECT_EQ(expired.status, 303);
  EXPECT_EQ(expired.Header("location"), "/login");
}

TEST_F(PortalServer, WrongPasswordsAndUnknownUsersAreRefused) {
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"vendor", "wrong password!"}, {"nobody", kPassword}, {"vendor", ""}}) {
    const auto r = Login(user, password);
    EXPECT_EQ(r.status, 401) << user;
    EXPECT_EQ(r.Header("set-cookie"), "") << user;
    EXPECT_NE(r.body.find("Wrong name or password."), std::string::npos);
  }
  EXPECT_EQ(Curl("GET", "/projects", Jar("vendor")).status, 303);
}

TEST_F(PortalServer, LoginsAreRateLimitedPerAccount) {
  for (int i = 0; i < kMaxLoginFailuresPerAccount; ++i) {
    ASSERT_EQ(Login("customer", "wrong password!").status, 401) << i;
  }
  const auto limited = Login("customer");  // the right password, too late
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("retry-after"), std::to_string(kLoginFailureWindow.count()));
  EXPECT_EQ(limited.Header("set-cookie"), "");
  EXPECT_EQ(Login("regulator").status, 303) << "other accounts from this address still log in";
}

// Per client address: tested on the app directly, where the address can be chosen.
TEST_F(PortalServer, LoginsAreRateLimitedPerAddress) {
  auto login = [&](const std::string& user, const std::string& password,
                   const std::string& address) {
    HttpRequest request{"POST", "/login", {}, FormBody({{"name", user}, {"password", password}})};
    request.remote_address = address;
    return app_->Handle(request).status;
  };
  for (int i = 0; i < kMaxLoginFailuresPerAddress; ++i) {
    ASSERT_EQ(login("guess" + std::to_string(i), "wrong password!", "192.0.2.1"), 401);
  }
  EXPECT_EQ(login("analyst", kPassword, "192.0.2.1"), 429);
  EXPECT_EQ(login("analyst", kPassword, "192.0.2.2"), 303);
}

TEST_F(PortalServer, StateChangingFormsNeedTheSessionsCsrfToken) {
  ASSERT_EQ(Login("vendor").status, 303);
  const std::string csrf = Csrf("vendor");
  ASSERT_EQ(csrf.size(), 2 * kSecretBytes);
  const auto form = [&](const std::string& token) {
    return FormBody({{"csrf", token},
                     {"organisation", std::to_string(w_.vendor_a)},
                     {"name", "New router"},
                     {"description", ""}});
  };
  const auto projects_before = store_->ListProjects()->size();
  EXPECT_EQ(Curl("POST", "/projects", Jar("vendor"),
                 FormBody({{"organisation", std::to_string(w_.vendor_a)}, {"name", "x"}}))
                .status,
            403);
  EXPECT_EQ(Curl("POST", "/projects", Jar("vendor"), form(std::string(64, '0'))).status, 403);
  EXPECT_EQ(Curl("POST", "/projects", Jar("vendor"), form(csrf), "-H 'Origin: http://evil.example'")
                .status,
            403);
  EXPECT_EQ(Curl("POST", "/logout", Jar("vendor"), "").status, 403);
  EXPECT_EQ(store_->ListProjects()->size(), projects_before);
  // Another user's token is not this session's.
  ASSERT_EQ(Login("vendor-b").status, 303);
  EXPECT_EQ(Curl("POST", "/projects", Jar("vendor"), form(Csrf("vendor-b"))).status, 403);
  const auto created = Curl("POST", "/projects", Jar("vendor"), form(csrf),
                            "-H " + ShellQuote("Origin: " + Url("")));
  EXPECT_EQ(created.status, 303) << created.body;
  EXPECT_EQ(store_->ListProjects()->size(), projects_before + 1);
  // A POST without a session at all.
  EXPECT_EQ(Curl("POST", "/projects", "", form(csrf)).status, 403);
}

// Who sees which page: every role on its own (shared) project, a foreign project, the
// administration and a share, over HTTP.
TEST_F(PortalServer, AuthorisationMatrixOverHttp) {
  const std::string a = std::to_string(w_.project_a), b = std::to_string(w_.project_b);
  struct Expectation {
    std::string user;
    int project_a, project_b, api_a, api_b, admin, share_b;
  };
  const std::vector<Expectation> table = {
      {"admin", 200, 200, 200, 200, 200, 303},    {"analyst", 200, 200, 200, 200, 403, 403},
      {"vendor", 200, 404, 200, 404, 403, 404},   {"vendor-b", 404, 200, 404, 200, 403, 303},
      {"customer", 200, 404, 200, 404, 403, 404}, {"regulator", 200, 404, 200, 404, 403, 404},
  };
  for (const auto& e : table) {
    SCOPED_TRACE(e.user);
    ASSERT_EQ(Login(e.user).status, 303);
    const std::string jar = Jar(e.user);
    EXPECT_EQ(Curl("GET", "/projects/" + a, jar).status, e.project_a);
    EXPECT_EQ(Curl("GET", "/projects/" + b, jar).status, e.project_b);
    EXPECT_EQ(Curl("GET", "/api/v1/projects/" + a, jar).status, e.api_a);
    EXPECT_EQ(Curl("GET", "/api/v1/projects/" + b, jar).status, e.api_b);
    EXPECT_EQ(Curl("GET", "/admin", jar).status, e.admin);
    const auto share = Curl(
        "POST", "/projects/" + b + "/shares", jar,
        FormBody({{"csrf", Csrf(e.user)}, {"organisation", std::to_string(w_.other_customer)}}));
    EXPECT_EQ(share.status, e.share_b);
    (void)store_->RemoveShare({w_.project_b, w_.other_customer});
    // The projects list shows exactly the visible projects.
    const auto list = nlohmann::json::parse(Curl("GET", "/api/v1/projects", jar).body);
    std::set<store::Id> ids;
    for (const auto& p : list["projects"]) ids.insert(p["id"].get<store::Id>());
    EXPECT_EQ(ids.contains(w_.project_a), e.project_a == 200);
    EXPECT_EQ(ids.contains(w_.project_b), e.project_b == 200);
  }
  // Without a session: pages redirect to the login, the API answers 401.
  EXPECT_EQ(Curl("GET", "/projects/" + a, "").status, 303);
  EXPECT_EQ(Curl("GET", "/admin", "").status, 303);
  const auto api = Curl("GET", "/api/v1/projects", "");
  EXPECT_EQ(api.status, 401);
  EXPECT_EQ(api.Header("www-authenticate"), "Bearer realm=\"clearbox\"");
}

TEST_F(PortalServer, HostileTextIsStoredVerbatimAndRenderedEscaped) {
  ASSERT_EQ(Login("admin").status, 303);
  const std::string admin_csrf = Csrf("admin");
  const std::string org_name = kHostile + " org";
  const std::string user_name = kHostile + " user";
  EXPECT_EQ(Curl("POST", "/admin/organisations", Jar("admin"),
                 FormBody({{"csrf", admin_csrf}, {"name", org_name}, {"kind", "vendor"}}))
                .status,
            303);
  EXPECT_EQ(Curl("POST", "/admin/users", Jar("admin"),
                 FormBody({{"csrf", admin_csrf}, {"name", user_name}, {"password", kPassword}}))
                .status,
            303);
  ASSERT_TRUE(store_->FindUserByName(user_name)->has_value()) << "user name stored verbatim";
  store::Id org = 0;
  const auto organisations = *store_->ListOrganisations();
  for (const auto& o : organisations) {
    if (o.name == org_name) org = o.id;
  }
  ASSERT_NE(org, 0) << "organisation name stored verbatim";
  const store::Id user = (*store_->FindUserByName(user_name))->id;
  EXPECT_EQ(Curl("POST", "/admin/memberships", Jar("admin"),
                 FormBody({{"csrf", admin_csrf},
                           {"user", std::to_string(user)},
                           {"organisation", std::to_string(org)},
                           {"role", "vendor"}}))
                .status,
            303);
  // The hostile user logs in with its hostile name and creates a hostile project.
  const auto login = Curl("POST", "/login", Jar("hostile"),
                          FormBody({{"name", user_name}, {"password", kPassword}}));
  ASSERT_EQ(login.status, 303);
  const auto account = Curl("GET", "/account", Jar("hostile"));
  const std::string marker = "name=\"csrf\" value=\"";
  const std::string csrf = account.body.substr(account.body.find(marker) + marker.size(), 64);
  const std::string description = kHostile + "\nsecond line </p><img src=x onerror=alert(1)>";
  const auto created = Curl("POST", "/projects", Jar("hostile"),
                            FormBody({{"csrf", csrf},
                                      {"organisation", std::to_string(org)},
                                      {"name", kHostile},
                                      {"description", description}}));
  ASSERT_EQ(created.status, 303) << created.body;
  const std::string location = created.Header("location");
  const auto id = ParseRowId(location.substr(std::string("/projects/").size()));
  ASSERT_TRUE(id.has_value()) << location;
  const auto project = *store_->FindProject(*id);
  ASSERT_TRUE(project.has_value());
  EXPECT_EQ(project->name, kHostile);
  EXPECT_EQ(project->description, description);

  const std::string token_name = kHostile + " token";
  ASSERT_EQ(Curl("POST", "/account/tokens", Jar("hostile"),
                 FormBody({{"csrf", csrf}, {"name", token_name}}))
                .status,
            200);
  const auto tokens = *store_->ListApiTokensOfUser(user);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].name, token_name) << "token name stored verbatim";

  const std::string escaped_script = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;";
  for (const auto& [jar, path] :
       std::vector<std::pair<std::string, std::string>>{{Jar("hostile"), location},
                                                        {Jar("hostile"), "/projects"},
                                                        {Jar("hostile"), "/account"},
                                                        {Jar("admin"), "/admin"},
                                                        {Jar("admin"), location}}) {
    const auto page = Curl("GET", path, jar);
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.body.find("<script"), std::string::npos) << path;
    EXPECT_EQ(page.body.find("<img"), std::string::npos) << path;
    EXPECT_NE(page.body.find(escaped_script), std::string::npos) << path;
  }
  // The API returns the text verbatim (JSON-escaped).
  const auto api = Curl("GET", "/api/v1/projects/" + std::to_string(*id), Jar("hostile"));
  EXPECT_EQ(nlohmann::json::parse(api.body)["name"], kHostile);
  EXPECT_EQ(nlohmann::json::parse(api.body)["description"], description);
}

TEST_F(PortalServer, ApiTokensForCi) {
  ASSERT_EQ(Login("vendor").status, 303);
  const auto made = Curl("POST", "/account/tokens", Jar("vendor"),
                         FormBody({{"csrf", Csrf("vendor")}, {"name", "ci"}}));
  ASSERT_EQ(made.status, 200);
  const std::string marker = "<code id=\"new-token\">";
  const auto at = made.body.find(marker);
  ASSERT_NE(at, std::string::npos);
  const std::string token = made.body.substr(at + marker.size(), 4 + 2 * kSecretBytes);
  ASSERT_TRUE(token.starts_with(kApiTokenPrefix));
  // Shown once: the account page no longer has it, the database only its hash.
  EXPECT_EQ(Curl("GET", "/account", Jar("vendor")).body.find(token), std::string::npos);
  EXPECT_TRUE(store_->FindApiToken(SecretHash(token))->has_value());
  EXPECT_FALSE(store_->FindApiToken(token)->has_value());

  const std::string bearer = "-H " + ShellQuote("Authorization: Bearer " + token);
  const auto whoami = Curl("GET", "/api/v1/whoami", "", "", bearer);
  ASSERT_EQ(whoami.status, 200) << whoami.body;
  EXPECT_EQ(nlohmann::json::parse(whoami.body)["name"], "vendor");
  EXPECT_EQ(whoami.Header("cache-control"), "no-store");
  const std::string json = "-H 'Content-Type: application/json'";
  const std::string body = "{\"organisation_id\": " + std::to_string(w_.vendor_a) +
                           ", \"name\": \"From CI\", \"description\": \"made by the API\"}";
  const auto created = Curl("POST", "/api/v1/projects", "", body, bearer + " " + json);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto project = nlohmann::json::parse(created.body);
  EXPECT_EQ(project["name"], "From CI");
  EXPECT_EQ(created.Header("location"), "/api/v1/projects/" + project["id"].dump());
  EXPECT_EQ(Curl("POST", "/api/v1/projects", "", body, bearer + " " + json).status, 409);
  // Another vendor's organisation, a form body, a broken body, a cookie instead of a token.
  const std::string foreign =
      "{\"organisation_id\": " + std::to_string(w_.vendor_b) + ", \"name\": \"Not mine\"}";
  EXPECT_EQ(Curl("POST", "/api/v1/projects", "", foreign, bearer + " " + json).status, 403);
  EXPECT_EQ(Curl("POST", "/api/v1/projects", "", "name=x", bearer).status, 415);
  EXPECT_EQ(Curl("POST", "/api/v1/projects", "", "{\"name\":", bearer + " " + json).status, 400);
  EXPECT_EQ(Curl("POST", "/api/v1/projects", Jar("vendor"), body, json).status, 401)
      << "a session cookie never authorises an API write";
  EXPECT_EQ(Curl("GET", "/api/v1/whoami", "", "", "-H 'Authorization: Bearer cbx_0000'").status,
            401);
  // Revoked tokens stop working.
  const auto tokens = *store_->ListApiTokensOfUser((*store_->FindUserByName("vendor"))->id);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(Curl("POST", "/account/tokens/" + std::to_string(tokens[0].id) + "/delete",
                 Jar("vendor"), FormBody({{"csrf", Csrf("vendor")}}))
                .status,
            303);
  EXPECT_EQ(Curl("GET", "/api/v1/whoami", "", "", bearer).status, 401);
}

TEST_F(PortalServer, OpenApiDocumentDescribesEveryRoute) {
  const auto served = Curl("GET", "/api/v1/openapi.json", "");
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.body, ReadFileBytes(kSourceDir / "data/portal/openapi.json"));
  const auto document = nlohmann::json::parse(served.body);
  EXPECT_EQ(document["openapi"].get<std::string>().substr(0, 2), "3.");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      documented.insert({method, path});
      EXPECT_TRUE(operation.contains("responses")) << method << " " << path;
    }
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& route : PortalApp::ApiRoutes()) routed.insert({route.method, route.path});
  EXPECT_EQ(documented, routed);
  // And every route answers something other than "no such route".
  ASSERT_EQ(Login("admin").status, 303);
  const auto release = store_->CreateReleaseWithJob(
      {0, w_.project_a, "1.0", store::ReleaseKind::kImage, "fw.bin", std::string(64, 'a'), 1, 0, 1},
      1);
  ASSERT_TRUE(release.has_value());
  for (const auto& route : PortalApp::ApiRoutes()) {
    std::string path = route.path;
    const auto brace = path.find("{id}");
    const store::Id id = path.starts_with("/api/v1/releases/") ? *release : w_.project_a;
    if (brace != std::string::npos) path.replace(brace, 4, std::to_string(id));
    if (route.method != "get") continue;  // writes need a token, covered above
    EXPECT_EQ(Curl("GET", path, Jar("admin")).status, 200) << path;
  }
}

TEST_F(PortalServer, UnknownMethodsPathsAndOversizedBodies) {
  EXPECT_EQ(Curl("DELETE", "/projects", "").status, 405);
  EXPECT_EQ(Curl("PUT", "/api/v1/projects", "").status, 405);
  ASSERT_EQ(Login("vendor").status, 303);
  EXPECT_EQ(Curl("GET", "/projects/0", Jar("vendor")).status, 404);
  EXPECT_EQ(Curl("GET", "/projects/..%2Fadmin", Jar("vendor")).status, 404);
  EXPECT_EQ(Curl("GET", "/nothing", Jar("vendor")).status, 404);
  EXPECT_EQ(Curl("GET", "/api/v1/nothing", Jar("vendor")).status, 404);
  EXPECT_EQ(
      Curl("POST", "/projects", Jar("vendor"), std::string(kMaxPortalBodyBytes + 1, 'a')).status,
      413);
}

TEST(PortalConfig, SecureCookiesBehindTls) {
  TempDir tmp;
  auto store = store::SqlitePortalStore::Open(tmp / "portal.db");
  ASSERT_TRUE(store.has_value());
  const store::Id lab = *(*store)->CreateOrganisation("Lab", OrganisationKind::kLab);
  const store::Id user = *(*store)->CreateUser("root", *HashPassword(kPassword), 1);
  ASSERT_TRUE((*store)->AddMembership({user, lab, Role::kAdmin}).has_value());
  auto config = LoadPortalConfig(kSourceDir / "data", true);
  ASSERT_TRUE(config.has_value());
  PortalApp app(**store, std::move(*config));
  HttpRequest request{"POST",
                      "/login",
                      {{"host", "lab.example"}},
                      FormBody({{"name", "root"}, {"password", kPassword}})};
  request.remote_address = "198.51.100.7";
  const auto response = app.Handle(request);
  ASSERT_EQ(response.status, 303);
  std::string cookie, hsts;
  for (const auto& [name, value] : response.headers) {
    if (name == "Set-Cookie") cookie = value;
    if (name == "Strict-Transport-Security") hsts = value;
  }
  EXPECT_TRUE(cookie.starts_with("__Host-cb_session=")) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_FALSE(hsts.empty());
  // Behind TLS the expected Origin is https://HOST.
  request.headers["origin"] = "http://lab.example";
  EXPECT_EQ(app.Handle(request).status, 403);
}

TEST(ServeCommand, InitAdminReadsOrGeneratesThePassword) {
  TempDir tmp;
  const std::string bin = ClearboxBinary();
  std::string output;
  const std::string data = (tmp / "data").string();
  ASSERT_EQ(RunShell("echo " + ShellQuote(kPassword) + " | " + bin + " serve --data " + data +
                         " --init-admin root",
                     &output),
            0)
      << output;
  EXPECT_EQ(output.find("password"), std::string::npos) << "a given password is not printed";
  EXPECT_NE(RunShell("echo " + ShellQuote(kPassword) + " | " + bin + " serve --data " + data +
                         " --init-admin root",
                     &output),
            0)
      << "the user exists";
  EXPECT_NE(
      RunShell("echo short | " + bin + " serve --data " + data + " --init-admin other", &output),
      0);
  ASSERT_EQ(RunShell(bin + " serve --data " + data + " --init-admin second </dev/null", &output), 0)
      << output;
  const std::string marker = "password (shown once): ";
  const auto at = output.find(marker);
  ASSERT_NE(at, std::string::npos) << output;
  const std::string generated = output.substr(at + marker.size(), 20);
  {
    auto store = store::SqlitePortalStore::Open(tmp / "data/portal.db");
    ASSERT_TRUE(store.has_value());
    auto root = (*store)->FindUserByName("root");
    ASSERT_TRUE(root.has_value() && root->has_value());
    EXPECT_TRUE(VerifyPassword((*root)->password_hash, kPassword));
    auto second = (*store)->FindUserByName("second");
    ASSERT_TRUE(second.has_value() && second->has_value());
    EXPECT_TRUE(VerifyPassword((*second)->password_hash, generated));
    const auto memberships = *(*store)->MembershipsOfUser((*root)->id);
    ASSERT_EQ(memberships.size(), 1u);
    EXPECT_EQ(memberships[0].role, Role::kAdmin);
    EXPECT_EQ((*store)->ListOrganisations()->size(), 1u) << "one lab organisation, reused";
  }
  EXPECT_EQ(fs::status(tmp / "data").permissions() & fs::perms::others_all, fs::perms::none);
  // A database from a newer clearbox is refused with a clear message and exit code 4.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp / "data/portal.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, 'future', 0)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(RunShell(bin + " serve --data " + data + " --listen 127.0.0.1:0", &output), 4);
  EXPECT_NE(output.find("newer than this clearbox"), std::string::npos) << output;
}

}  // namespace
}  // namespace clearbox::portal
