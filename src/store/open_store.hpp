// Chooses the portal's storage backend from one setting: no URL keeps the state in the data
// directory's SQLite file; a postgresql:// URL uses that PostgreSQL database.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/result.hpp"
#include "store/portal_store.hpp"

namespace clearbox::store {

// Opens (and migrates) the store named by `db_url`: "" → DATA_DIR/portal.db (SQLite),
// postgresql://... or postgres://... → PostgreSQL; anything else is kInvalidArgument.
Result<std::unique_ptr<PortalStore>> OpenPortalStore(std::string_view db_url,
                                                     const std::filesystem::path& data_dir);

// The URL with any password replaced by "***", for messages and logs.
std::string RedactDatabaseUrl(std::string_view db_url);

}  // namespace clearbox::store
