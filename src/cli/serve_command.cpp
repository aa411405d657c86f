// `clearbox serve --data DIR [--db URL] [--listen HOST:PORT] [--init-admin NAME]`: the lab
// portal (src/portal) over the SQLite store in DIR/portal.db or a PostgreSQL database (src/store);
// `clearbox worker --data DIR --db URL`: scan workers beside it, on this or another machine.
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
#include "store/open_store.hpp"
#include "store/sqlite_store.hpp"

namespace clearbox::cli {
namespace {

// The organisation --init-admin creates when the database has no lab organisation yet.
constexpr std::string_view kDefaultLabOrganisation = "Lab";

struct ServeArgs {
  std::string data;
  std::string db;  // "" = DATA/portal.db
  std::string listen = "127.0.0.1:8080";
  std::string init_admin;
  bool secure_cookies = false;
  int workers = 1;
  bool check_audit = false;
  bool access_log = false;
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

Result<std::unique_ptr<store::PortalStore>> OpenStore(const ServeArgs& args) {
  std::error_code ec;
  std::filesystem::create_directories(args.data, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create " + args.data + ": " + ec.message());
  // Sessions, hashes and tokens live here: owner only.
  ::chmod(args.data.c_str(), 0700);
  return store::OpenPortalStore(args.db, args.data);
}

// Blocks SIGINT and SIGTERM in every thread started after this call; WaitForStopSignal takes
// them.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

void WaitForStopSignal(const sigset_t& stop_signals) {
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
}

// Creates the first administrator: a member of the lab organisation with the admin role.
int RunInitAdmin(const ServeArgs& args) {
  auto store = OpenStore(args);
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
  auto store = OpenStore(args);
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
  auto store = OpenStore(args);
  if (!store) return Report(store.error());
  const std::filesystem::path data(args.data);
  auto blobs = store::BlobStore::Open(data / "blobs");
  if (!blobs) return Report(blobs.error());
  portal::EventLog events;  // JSON lines on stderr
  auto worker_options = portal::PortalScanWorkerOptions(**store, *blobs, data, args.workers);
  if (!worker_options) return Report(worker_options.error());
  worker_options->events = &events;
  portal::ScanWorkers workers(*worker_options);
  auto verdicts = portal::VerdictLedger::Open(data);
  if (!verdicts) return Report(verdicts.error());
  config->verdicts = verdicts->get();
  auto audit = portal::AuditTrail::Open(data);
  if (!audit) return Report(audit.error());
  config->audit = audit->get();
  config->blobs = &*blobs;
  config->results_root = worker_options->results_root;
  config->max_upload_bytes = args.max_upload_mb << 20;
  config->in_process_workers = args.workers;
  if (args.access_log) config->access_log = &events;
  config->on_release_queued = [&workers] { workers.Wake(); };
  // SIGINT/SIGTERM are blocked before the server's threads start and taken by one waiter
  // thread, which stops the server cleanly.
  const sigset_t stop_signals = BlockStopSignals();
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
    WaitForStopSignal(stop_signals);
    server.Stop();
  });
  auto served = server.Serve();
  ::kill(::getpid(), SIGTERM);  // wakes the waiter if Serve() ended on its own
  waiter.join();
  workers.Stop();  // a scan in progress is stopped; its job goes back to the queue
  if (!served) return Report(served.error());
  return kExitOk;
}

struct WorkerArgs {
  std::string data;
  std::string db;
  int workers = 1;
  int lease_seconds = 120;
};

// Scan workers without the web server: claim jobs from the store until SIGINT/SIGTERM, then
// return the job in hand to the queue.
int RunWorker(const WorkerArgs& args) {
  auto store = store::OpenPortalStore(args.db, args.data);
  if (!store) return Report(store.error());
  const std::filesystem::path data(args.data);
  auto blobs = store::BlobStore::Open(data / "blobs");
  if (!blobs) return Report(blobs.error());
  auto options = portal::PortalScanWorkerOptions(**store, *blobs, data, args.workers);
  if (!options) return Report(options.error());
  options->lease = std::chrono::seconds(args.lease_seconds);
  portal::EventLog events;  // JSON lines on stderr
  options->events = &events;
  const sigset_t stop_signals = BlockStopSignals();
  portal::ScanWorkers workers(*options);
  workers.Start();
  std::printf("clearbox worker: %d scan worker(s) on %s, data in %s\n", args.workers,
              args.db.empty() ? (data / store::kPortalDatabaseName).c_str()
                              : store::RedactDatabaseUrl(args.db).c_str(),
              args.data.c_str());
  std::fflush(stdout);
  WaitForStopSignal(stop_signals);
  workers.Stop();
  std::printf("clearbox worker: stopped\n");
  return kExitOk;
}

}  // namespace

void RegisterWorkerCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<WorkerArgs>();
  auto* worker = app.add_subcommand(
      "worker", "Scan workers of the lab portal, on this or another machine (no web server)");
  worker
      ->add_option("--data", args->data,
                   "The portal's data directory, shared with the server (blobs/, results/)")
      ->required();
  worker->add_option("--db", args->db,
                     "The portal's database: a postgresql:// URL (default: DATA/portal.db)");
  worker->add_option("--workers", args->workers, "Scan workers (each scan is a child process)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  worker
      ->add_option("--lease", args->lease_seconds,
                   "Seconds a claimed job stays this worker's without a heartbeat (renewed while "
                   "the scan runs; a worker that dies loses its job after this)")
      ->capture_default_str()
      ->check(CLI::Range(5, 86400));
  worker->footer(
      "Claims queued scans (FOR UPDATE SKIP LOCKED on PostgreSQL), renews each job's lease while\n"
      "its `clearbox scan` child runs, and finishes it exactly once. SIGINT/SIGTERM: the job in\n"
      "hand goes back to the queue. See docs/portal.md (scale-out).\n"
      "Exit codes: 0 stopped; 2 usage; 4 database or data directory unusable; 70 internal.");
  worker->callback([run, args] { *run = [args] { return RunWorker(*args); }; });
}

void RegisterServeCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "The lab portal: web pages and a JSON API");
  serve->add_option("--data", args->data, "Portal data directory (created; holds portal.db)")
      ->required();
  serve->add_option("--db", args->db,
                    "The portal's database: a postgresql:// URL shared with `clearbox worker` "
                    "on other machines (default: DATA/portal.db, SQLite)");
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
  serve->add_flag("--access-log", args->access_log,
                  "Log every request as a JSON line on stderr (method, path, status, ms); job "
                  "events are always logged there");
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
