// The portal test fixture shared by portal_app_test.cpp and release_routes_test.cpp: a real
// SQLite file (or, with CLEARBOX_TEST_STORE=postgresql, a fresh database in the ctest run's
// PostgreSQL cluster: the same suites against the second backend), PortalApp behind the real
// HttpServer on a free 127.0.0.1 port, a seeded world of organisations, users and projects, and
// curl as the browser and the CI client.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>
#include "core/hex.hpp"
#include "portal/credentials.hpp"
#include "portal/portal_app.hpp"

#include "store/postgres_store.hpp"
#include "store/postgres_test_database.hpp"
#include "store/sqlite_store.hpp"
#include "support/test_support.hpp"

namespace clearbox::portal::test {

namespace fs = std::filesystem;
using clearbox::testing::ClearboxBinary;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;
using store::OrganisationKind;
using store::Role;

inline const fs::path kSourceDir = CLEARBOX_PORTAL_SOURCE_DIR;
inline constexpr const char* kPassword = "a long enough password";
inline const std::string kHostile =
    "<script>alert('x')</script>\"'; DROP TABLE projects; -- & %27 \\ `$(id)`";

inline std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

inline std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      AppendHexByte(out, c, true);
    }
  }
  return out;
}

inline std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += UrlEncode(name) + "=" + UrlEncode(value);
  }
  return body;
}

struct Response {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The seeded world: a lab, two vendors, a customer and a regulator, one user per role, a
// project of each vendor; vendor A's project shared with the customer and the regulator.
struct World {
  store::Id lab, vendor_a, vendor_b, customer, regulator, other_customer;
  store::Id project_a, project_b;
};

class PortalServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (UsePostgres()) {
      postgres_ = std::make_unique<store::testing::PostgresTestDatabase>();
      ASSERT_FALSE(postgres_->url().empty()) << postgres_->error();
      auto opened = store::PostgresPortalStore::Open(postgres_->url());
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
      store_ = std::move(*opened);
    } else {
      auto opened = store::SqlitePortalStore::Open(tmp_ / "portal.db");
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
      store_ = std::move(*opened);
    }
    auto& s = *store_;
    w_.lab = *s.CreateOrganisation("Lab", OrganisationKind::kLab);
    w_.vendor_a = *s.CreateOrganisation("Vendor A", OrganisationKind::kVendor);
    w_.vendor_b = *s.CreateOrganisation("Vendor B", OrganisationKind::kVendor);
    w_.customer = *s.CreateOrganisation("Customer", OrganisationKind::kCustomer);
    w_.regulator = *s.CreateOrganisation("Regulator", OrganisationKind::kRegulator);
    w_.other_customer = *s.CreateOrganisation("Other customer", OrganisationKind::kCustomer);
    const std::string hash = *HashPassword(kPassword);
    auto add_user = [&](const std::string& name, store::Id organisation, Role role) {
      const store::Id id = *s.CreateUser(name, hash, 1);
      ASSERT_TRUE(s.AddMembership({id, organisation, role}).has_value());
    };
    add_user("admin", w_.lab, Role::kAdmin);
    add_user("analyst", w_.lab, Role::kLabAnalyst);
    add_user("vendor", w_.vendor_a, Role::kVendor);
    add_user("vendor-b", w_.vendor_b, Role::kVendor);
    add_user("customer", w_.customer, Role::kCustomer);
    add_user("regulator", w_.regulator, Role::kRegulator);
    w_.project_a = *s.CreateProject(w_.vendor_a, "Router A", "first", 1);
    w_.project_b = *s.CreateProject(w_.vendor_b, "Camera B", "second", 1);
    ASSERT_TRUE(s.AddShare({w_.project_a, w_.customer}).has_value());
    ASSERT_TRUE(s.AddShare({w_.project_a, w_.regulator}).has_value());

    auto config = LoadPortalConfig(kSourceDir / "data", false);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    config->now = [this] { return now_.load(); };
    Configure(*config);
    app_ = std::make_unique<PortalApp>(*store_, std::move(*config));
    server_ = std::make_unique<HttpServer>(
        [this](const HttpRequest& r) { return app_->Handle(r); },
        [this](const HttpRequest& r) { return app_->CheckHeaders(r); });
    auto bound = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(bound.has_value()) << bound.error().message;
    thread_ = std::thread([this] { (void)server_->Serve(); });
  }
  // A derived fixture's changes to the configuration (uploads, workers).
  virtual void Configure(PortalConfig&) {}
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  // One request with curl; `jar` is the user's cookie file ("" = none), `extra` more options.
  Response Curl(const std::string& method, const std::string& path, const std::string& jar,
                const std::string& body = {}, const std::string& extra = {}) {
    const fs::path head = tmp_ / ("head" + std::to_string(++requests_));
    const fs::path out = tmp_ / ("body" + std::to_string(requests_));
    std::string command = "curl -sS -o " + ShellQuote(out.string()) + " -D " +
                          ShellQuote(head.string()) + " -X " + method;
    if (!jar.empty()) command += " -b " + ShellQuote(jar) + " -c " + ShellQuote(jar);
    // `extra` may bring its own body (--data-binary @file, -F field=...).
    const bool own_body =
        extra.find("--data-binary") != std::string::npos || extra.find("-F ") != std::string::npos;
    if (method == "POST" && !own_body) {
      const fs::path data = tmp_ / ("data" + std::to_string(requests_));
      WriteFileBytes(data, body);
      command += " --data-binary @" + ShellQuote(data.string());
      if (extra.find("Content-Type") == std::string::npos) {
        command += " -H 'Content-Type: application/x-www-form-urlencoded'";
      }
    }
    command += " " + extra + " " + ShellQuote(Url(path));
    std::string output;
    EXPECT_EQ(RunShell(command, &output), 0) << command << "\n" << output;
    Response response;
    response.body = ReadFileBytes(out);
    std::istringstream lines(ReadFileBytes(head));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.starts_with("HTTP/")) {
        response.status = std::stoi(line.substr(9, 3));
        continue;
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers.emplace(name, line.substr(line.find_first_not_of(' ', colon + 1)));
    }
    return response;
  }

  // Logs `user` in with `password`; the session lands in the user's cookie jar.
  Response Login(const std::string& user, const std::string& password = kPassword) {
    return Curl("POST", "/login", Jar(user), FormBody({{"name", user}, {"password", password}}));
  }
  std::string Jar(const std::string& user) const { return (tmp_ / ("jar-" + user)).string(); }

  // The CSRF token from a page the user is logged in to.
  std::string Csrf(const std::string& user) {
    const auto page = Curl("GET", "/account", Jar(user));
    const std::string marker = "name=\"csrf\" value=\"";
    const auto at = page.body.find(marker);
    if (at == std::string::npos) return {};
    return page.body.substr(at + marker.size(), 2 * kSecretBytes);
  }

  // True when the suite runs against PostgreSQL (CLEARBOX_TEST_STORE=postgresql).
  static bool UsePostgres() {
    const char* backend = std::getenv("CLEARBOX_TEST_STORE");
    return backend != nullptr && std::string_view(backend) == "postgresql";
  }
  // " --db URL" for `clearbox serve` when the store is PostgreSQL, else "".
  std::string DbOption() const {
    return postgres_ ? " --db " + ShellQuote(postgres_->url()) : std::string();
  }
  // Runs `sql` on the database behind the portal's back; true if it succeeded.
  bool RawSql(const std::string& sql) {
    if (postgres_) {
      auto db = store::postgres::Connection::Open(postgres_->url());
      return db && (*db)->ExecScript(sql).has_value();
    }
    sqlite3* raw = nullptr;
    const bool opened = sqlite3_open((tmp_ / "portal.db").c_str(), &raw) == SQLITE_OK;
    // The portal's own connection may be writing (a scan worker finishing): wait for it.
    if (opened) sqlite3_busy_timeout(raw, 10'000);
    const bool ran =
        opened && sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(raw);
    return ran;
  }

  TempDir tmp_;
  std::unique_ptr<store::testing::PostgresTestDatabase> postgres_;
  std::unique_ptr<store::PortalStore> store_;
  std::unique_ptr<PortalApp> app_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::atomic<store::UnixSeconds> now_{1'800'000'000};
  World w_{};
  int requests_ = 0;
};

}  // namespace clearbox::portal::test
