// Writing the vulnerability store: schema creation and imports of feed files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "vuln/feeds.hpp"
#include "vuln/sqlite_db.hpp"

namespace clearbox::vuln {

// What one import did.
struct ImportSummary {
  std::string file;
  FeedStats stats;
};

// A read-write connection that keeps the schema and source table up to date.
// Not thread-safe; one writer per database file at a time (SQLite locking enforces it).
class VulnWriter {
 public:
  // Opens or creates the database at `path` (":memory:" allowed) and applies the schema.
  static Result<VulnWriter> Open(const std::filesystem::path& path);

  // Imports one feed file in one transaction (all or nothing) and records it in `source`.
  Result<ImportSummary> ImportFile(const std::filesystem::path& path);
  // Imports files in order, each in its own transaction, parsing up to `parse_threads` files
  // ahead on worker threads while this thread writes. One summary or error per file.
  std::vector<Result<ImportSummary>> ImportFiles(const std::vector<std::filesystem::path>& files,
                                                 unsigned parse_threads);
  // Same for a feed held in memory; `origin` names it in the source table.
  Result<ImportSummary> ImportBytes(std::string_view bytes, const std::string& origin);

  // Transactions for callers that put records themselves (the updater).
  Result<void> Begin();
  Result<void> Commit();
  void Rollback();

  // Stores (replaces) one record, KEV entry or EPSS score; call inside a transaction.
  Result<void> PutVuln(VulnRecord&& record);
  Result<void> PutKev(KevEntry&& entry);
  Result<void> PutEpss(EpssEntry&& entry);

  // Refreshes the source row: record count, newest_modified, imported_at (now), origin,
  // and `update_end` when not empty.
  Result<void> NoteSource(const std::string& name, const std::string& origin,
                          const std::string& newest_modified, const std::string& update_end);

  // For loading many files into an empty database (true; false when it holds records): one
  // transaction for the whole load with a savepoint per file, a 1 GiB page cache, and the
  // package indexes dropped until EndBulkLoad rebuilds them and commits. An interrupted bulk
  // load leaves the database as it was.
  Result<bool> BeginBulkLoad();
  Result<void> EndBulkLoad();

  // The value of a source's update_end ("" if none).
  Result<std::string> SourceUpdateEnd(const std::string& name);

  SqliteDb& db() { return db_; }
  // Gives the connection away (for an in-memory snapshot handed to VulnStore).
  SqliteDb Release() && { return std::move(db_); }

 private:
  Result<void> DeleteRowsOf(const VulnRecord& rec, const std::string& old_cpe_keys);
  Result<void> PutDescription(const VulnRecord& rec);
  Result<void> PutMatchRows(const VulnRecord& rec);
  Result<void> Prepare();
  Result<ImportSummary> ImportWith(const std::string& origin,
                                   const std::function<Result<FeedStats>(const FeedSink&)>& parse);

  SqliteDb db_;
  Statement existing_, delete_cpe_, delete_pkg_, delete_pkg_of_ecosystem_, put_vuln_, put_cpe_,
      put_pkg_, put_record_, put_kev_, put_epss_;
  bool bulk_ = false;  // inside BeginBulkLoad .. EndBulkLoad
};

// UTC now as "YYYY-MM-DDTHH:MM:SSZ".
std::string UtcNow();

}  // namespace clearbox::vuln
