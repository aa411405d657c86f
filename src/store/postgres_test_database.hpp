// Test-only: PostgreSQL for the store and portal tests. A PostgresTestDatabase is a fresh,
// empty database in the throw-away cluster that scripts/pg-test-cluster.sh started for the
// ctest run (fixture "postgres"; its state directory is compiled in as
// CLEARBOX_TEST_PG_STATE); a PostgresTestCluster is a private cluster of one test, for tests
// that kill the server.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/postgres_connection.hpp"

namespace clearbox::store::testing {

// The URL of database `name` in the cluster whose state directory is `state`; "" if that
// cluster is not running.
inline std::string PostgresUrlIn(const std::filesystem::path& state, const std::string& name) {
  std::ifstream host_file(state / "host");
  std::ifstream port_file(state / "port");
  std::string host;
  std::string port;
  if (!std::getline(host_file, host) || !std::getline(port_file, port)) return "";
  return "postgresql:///" + name + "?host=" + host + "&port=" + port + "&user=postgres";
}

// The state directory of the ctest run's shared cluster.
inline std::filesystem::path SharedPostgresState() {
#ifdef CLEARBOX_TEST_PG_STATE
  return CLEARBOX_TEST_PG_STATE;
#else
  return {};
#endif
}

// A new database in the shared cluster, dropped again on destruction.
class PostgresTestDatabase {
 public:
  PostgresTestDatabase() {
    static std::atomic<int> counter{0};
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_url_ = PostgresUrlIn(SharedPostgresState(), "postgres");
    if (admin_url_.empty()) {
      error_ = "the test cluster is not running (run the tests through ctest: fixture postgres)";
      return;
    }
    auto admin = postgres::Connection::Open(admin_url_);
    if (!admin) {
      error_ = admin.error().message;
      return;
    }
    auto created = (*admin)->ExecScript("CREATE DATABASE " + name_);
    if (!created) {
      error_ = created.error().message;
      return;
    }
    url_ = PostgresUrlIn(SharedPostgresState(), name_);
  }
  ~PostgresTestDatabase() {
    if (url_.empty()) return;
    if (auto admin = postgres::Connection::Open(admin_url_)) {
      (void)(*admin)->ExecScript("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
  }
  PostgresTestDatabase(const PostgresTestDatabase&) = delete;
  PostgresTestDatabase& operator=(const PostgresTestDatabase&) = delete;

  // "" when the database could not be made; error() says why.
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

 private:
  std::string name_;
  std::string admin_url_;
  std::string url_;
  std::string error_;
};

// A private cluster (scripts/pg-test-cluster.sh) in `state`, stopped and removed on
// destruction; Kill() and Restart() crash and revive it.
class PostgresTestCluster {
 public:
  explicit PostgresTestCluster(std::filesystem::path state) : state_(std::move(state)) {
    ok_ = Run("start") == 0;
  }
  ~PostgresTestCluster() { Run("stop"); }
  PostgresTestCluster(const PostgresTestCluster&) = delete;
  PostgresTestCluster& operator=(const PostgresTestCluster&) = delete;

  bool ok() const { return ok_; }
  std::string url() const { return PostgresUrlIn(state_, "postgres"); }
  // SIGKILL to the server and all its processes.
  bool Kill() { return Run("kill") == 0; }
  // Kill, then start again on the same data.
  bool Restart() { return Run("restart") == 0; }

 private:
  int Run(const char* action) {
    const char* source = std::getenv("CLEARBOX_SOURCE_DIR");
    const std::string script =
        std::string(source != nullptr ? source : ".") + "/scripts/pg-test-cluster.sh";
    const std::string command =
        "bash '" + script + "' " + action + " '" + state_.string() + "' >/dev/null";
    return std::system(command.c_str());
  }

  std::filesystem::path state_;
  bool ok_ = false;
};

}  // namespace clearbox::store::testing
