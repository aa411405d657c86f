// `clearbox serve --data DIR [--listen HOST:PORT] [--init-admin NAME]`: the lab portal
// (src/portal) over the SQLite store in DIR/portal.db (src/store).
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/command.hpp"
#include "core/data_dir.hpp"
#include "core/exit_codes.hpp"
#include "portal/audit_trail.hpp"
#include "portal/credentials.hpp"
#include "portal/http_server.hpp"
#include "portal/portal_app.hpp"
#include "portal/scan_worker.hpp"
#include "portal/triage.hpp"
#include "portal/verdict_ledger.hpp"
#include "store/blob_store.hpp"
#include "store/sqlite_store.hpp"

namespace clearbox::cli {
namespace {

// The organisation --init-admin creates when the database has no lab organisation yet.
constexpr std::string_view kDefaultLabOrganisation = "Lab";

struct ServeArgs {
  std::string data;
  std::string listen = "127.0.0.1:8080";
  std::string init_admin;
  bool secure_cookies = false;
  int workers = 1;
  bool check_audit = false;
  std::uint64_t max_upload_mb = portal::kDefaultMaxUploadBytes >> 20;
};

// One audit entry --init-admin writes.
struct AuditEvent {
  std::string action;
  std::string subject;
  nlohmann::ordered_json detail;
};

int Report(const Error& error) {
  std::fprintf(stderr, "clearbox serve: %s\n", error.message.c_str());
  return error.code == ErrorCode::kInternal ? kExitInternal : kExitUnusableInput;
}

Result<std::unique_ptr<store::SqlitePortalStore>> OpenStore(const std::string& data) {
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create " + data + ": " + ec.message());
  // Sessions, hashes and tokens live here: owner only.
  ::chmod(data.c_str(), 0700);
  return store::SqlitePortalStore::Open(std::filesystem::path(data) / store::kPortalDatabaseName);
}

// Creates the first administrator: a member of the lab organisation with the admin role.
int RunInitAdmin(const ServeArgs& args) {
  auto store = OpenStore(args.data);
  if (!store) return Report(store.error());
  if (!portal::ValidName(args.init_admin)) {
    return Report(Error{ErrorCode::kInvalidArgument, "not a usable user name"});
  }
  auto existing = (*store)->FindUserByName(args.init_admin);
  if (!existing) return Report(existing.error());
  if (*existing) {
    return Report(Error{ErrorCode::kInvalidArgument, "user " + args.init_admin + " exists"});
  }
  std::string password;
  bool generated = false;
  if (!::isatty(STDIN_FILENO)) std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    auto made = portal::GeneratePassword();
    if (!made) return Report(made.error());
    password = *made;
    generated = true;
  }
  if (password.size() < portal::kMinPasswordBytes || password.size() > portal::kMaxPasswordBytes) {
    return Report(Error{ErrorCode::kInvalidArgument,
                        "the password (one line on standard input) needs 12 to 1024 bytes"});
  }
  auto hash = portal::HashPassword(password);
  if (!hash) return Report(hash.error());
  std::vector<AuditEvent> events;
  auto organisations = (*store)->ListOrganisations();
  if (!organisations) return Report(organisations.error());
  store::Id lab = 0;
  for (const auto& o : *organisations) {
    if (o.kind == store::OrganisationKind::kLab) {
      lab = o.id;
      break;
    }
  }
  if (lab == 0) {
    auto created =
        (*store)->CreateOrganisation(kDefaultLabOrganisation, store::OrganisationKind::kLab);
    if (!created) return Report(created.error());
    lab = *created;
    events.push_back({"organisation.create",
                      "organisation " + std::to_string(lab),
                      {{"organisation", lab},
                       {"name", kDefaultLabOrganisation},
                       {"kind", store::OrganisationKindName(store::OrganisationKind::kLab)}}});
  }
  auto user = (*store)->CreateUser(args.init_admin, *hash, std::time(nullptr));
  if (!user) return Report(user.error());
  auto member = (*store)->AddMembership({*user, lab, store::Role::kAdmin});
  if (!member) return Report(member.error());
  events.push_back({"user.create",
                    "user " + std::to_string(*user),
                    {{"user", *user}, {"name", args.init_admin}}});
  events.push_back(
      {"membership.add",
       "user " + std::to_string(*user),
       {{"user", *user}, {"organisation", lab}, {"role", store::RoleName(store::Role::kAdmin)}}});
  auto audit = portal::AuditTrail::Open(args.data);
  if (!audit) return Report(audit.error());
  for (const auto& event : events) {
    auto recorded = (*audit)->Record(std::time(nullptr), "--init-admin", event.action,
                                     event.subject, event.detail);
    if (!recorded) return Report(recorded.error());
  }
  std::printf("administrator %s created in %s\n", args.init_admin.c_str(), args.data.c_str());
  if (generated) std::printf("password (shown once): %s\n", password.c_str());
  return kExitOk;
}

// --check-audit: the audit log's tiles and checkpoint, then its replay against the database.
int RunCheckAudit(const ServeArgs& args) {
  auto store = OpenStore(args.data);
  if (!store) return Report(store.error());
  auto audit = portal::AuditTrail::Open(args.data);
  if (!audit) return Report(audit.error());
  auto entries = (*audit)->CheckedEntries();
  if (!entries) {
    std::printf("FAIL audit log: %s\n", entries.error().message.c_str());
    return kExitInvalid;
  }
  const auto problems = portal::CompareAuditWithStore(*entries, **store);
  for (const auto& problem : problems) std::printf("FAIL %s\n", problem.c_str());
  if (!problems.empty()) return kExitInvalid;
  std::printf("OK audit log of %zu entries agrees with the database\n", entries->size());
  return kExitOk;
}

int RunServe(const ServeArgs& args) {
  if (!args.init_admin.empty()) return RunInitAdmin(args);
  if (args.check_audit) return RunCheckAudit(args);
  auto address = portal::ParseListenAddress(args.listen);
  if (!address) return Report(address.error());
  auto config = portal::LoadPortalConfig(DataDir(), args.secure_cookies);
  if (!config) return Report(config.error());
  auto store = OpenStore(args.data);
  if (!store) return Report(store.error());
  const std::filesystem::path data(args.data);
  auto blobs = store::BlobStore::Open(data / "blobs");
  if (!blobs) return Report(blobs.error());
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Report(Error{ErrorCode::kInternal, "cannot find this program: " + ec.message()});
  portal::ScanWorkerOptions worker_options;
  worker_options.store = store->get();
  worker_options.blobs = &*blobs;
  worker_options.results_root = data / "results";
  worker_options.clearbox_binary = self;
  worker_options.workers = args.workers;
  worker_options.on_scan_finished = [db = store->get()](store::Id release,
                                                        const std::filesystem::path& results) {
    return portal::ImportTriageItems(*db, release, results);
  };
  worker_options.now = [] { return static_cast<store::UnixSeconds>(std::time(nullptr)); };
  portal::ScanWorkers workers(worker_options);
  auto verdicts = portal::VerdictLedger::Open(data);
  if (!verdicts) return Report(verdicts.error());
  config->verdicts = verdicts->get();
  auto audit = portal::AuditTrail::Open(data);
  if (!audit) return Report(audit.error());
  config->audit = audit->get();
  config->blobs = &*blobs;
  config->results_root = worker_options.results_root;
  config->max_upload_bytes = args.max_upload_mb << 20;
  config->on_release_queued = [&workers] { workers.Wake(); };
  // SIGINT/SIGTERM are blocked before the server's threads start and taken by one waiter
  // thread, which stops the server cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  portal::PortalApp app(**store, std::move(*config));
  portal::HttpServer server([&app](const portal::HttpRequest& r) { return app.Handle(r); },
                            [&app](const portal::HttpRequest& r) { return app.CheckHeaders(r); });
  auto bound = server.Bind(address->first, address->second);
  if (!bound) return Report(bound.error());
  std::printf("clearbox portal on http://%s:%d/ (data in %s)\n", address->first.c_str(),
              server.port(), args.data.c_str());
  std::fflush(stdout);
  workers.Start();
  std::thread waiter([&server, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.Stop();
  });
  auto served = server.Serve();
  ::kill(::getpid(), SIGTERM);  // wakes the waiter if Serve() ended on its own
  waiter.join();
  workers.Stop();  // a scan in progress is stopped; its job is retried after its lease
  if (!served) return Report(served.error());
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "The lab portal: web pages and a JSON API");
  serve->add_option("--data", args->data, "Portal data directory (created; holds portal.db)")
      ->required();
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--init-admin", args->init_admin,
                    "Create the first administrator NAME and exit: password from standard input "
                    "(one line), or generated and printed once when standard input is a terminal "
                    "or empty");
  serve->add_flag("--secure-cookies", args->secure_cookies,
                  "The portal is reached over HTTPS (e.g. behind a TLS proxy): Secure, "
                  "__Host- cookies and Strict-Transport-Security");
  serve
      ->add_option("--workers", args->workers,
                   "In-process scan workers (each scan runs as a `clearbox scan` child; 0 = "
                   "none, jobs wait in the queue)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  serve->add_option("--max-upload-mb", args->max_upload_mb, "Largest release upload in MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  serve->add_flag("--check-audit", args->check_audit,
                  "Check the audit log (tiles, signed checkpoint) and replay it against the "
                  "database, then exit: 0 agrees, 1 a difference (one FAIL line each)");
  serve->footer(
      "Pages: /login, /projects, /projects/ID (releases, upload), /releases/ID, /account (API\n"
      "tokens), /admin. API: /api/v1\n"
      "(OpenAPI document at /api/v1/openapi.json). Serves until SIGINT/SIGTERM. See\n"
      "docs/portal.md for roles and the security design.\n"
      "Exit codes: 0 stopped, admin created or audit agrees; 1 audit differs; 2 usage;\n"
      "4 unusable (database newer than this clearbox, cannot listen, user exists); 70\n"
      "internal error.");
  serve->callback([run, args] { *run = [args] { return RunServe(*args); }; });
}

}  // namespace clearbox::cli
