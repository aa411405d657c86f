#include "store/open_store.hpp"

#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace clearbox::store {

Result<std::unique_ptr<PortalStore>> OpenPortalStore(std::string_view db_url,
                                                     const std::filesystem::path& data_dir) {
  if (db_url.empty()) {
    auto sqlite = SqlitePortalStore::Open(data_dir / kPortalDatabaseName);
    if (!sqlite) return Forward(sqlite);
    return std::unique_ptr<PortalStore>(std::move(*sqlite));
  }
  if (IsPostgresUrl(db_url)) {
    auto postgres = PostgresPortalStore::Open(std::string(db_url));
    if (!postgres) {
      return Fail(postgres.error().code,
                  RedactDatabaseUrl(db_url) + ": " + postgres.error().message);
    }
    return std::unique_ptr<PortalStore>(std::move(*postgres));
  }
  return Fail(ErrorCode::kInvalidArgument,
              "--db takes a postgresql:// URL (without --db the portal keeps DATA/portal.db)");
}

std::string RedactDatabaseUrl(std::string_view db_url) {
  // postgresql://user:password@host/... : the password sits between the first ':' after the
  // scheme and the '@'.
  const auto scheme_end = db_url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(db_url);
  const auto authority = scheme_end + 3;
  const auto at = db_url.find('@', authority);
  const auto slash = db_url.find('/', authority);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(db_url);
  }
  const auto colon = db_url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(db_url);
  return std::string(db_url.substr(0, colon + 1)) + "***" + std::string(db_url.substr(at));
}

}  // namespace clearbox::store
