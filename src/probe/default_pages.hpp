// Stock pages of embedded web servers (data/probe/http-default-pages.json): default and
// placeholder pages, built-in pages of an empty server, vendor login pages; matched against
// the Server header, the <title> and the start of the body of GET /.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "probe/http.hpp"

namespace clearbox::probe {

// The data file is small; a larger one is not ours.
inline constexpr std::uint64_t kMaxDefaultPagesFileBytes = 1 << 20;
// Bytes of the <title> element read.
inline constexpr std::size_t kMaxTitleBytes = 512;

struct DefaultPage {
  std::string id;
  std::string product;
  std::string description;
  std::string server, title, body;  // markers; "" = not used
  std::string source;
};

// Loads the data file; kMalformed when it is not the documented shape or an entry has no marker.
Result<std::vector<DefaultPage>> LoadDefaultPages(const std::filesystem::path& path);

// The text of the first <title> of `body` (case-insensitive tag, at most kMaxTitleBytes).
std::string HtmlTitle(std::string_view body);

struct DefaultPageMatch {
  std::string id;
  std::string product;
  std::string marker;  // what matched, for evidence: "title 'Welcome to nginx!'"
};

// The first page of `pages` whose markers all occur in the response.
std::optional<DefaultPageMatch> MatchDefaultPage(const std::vector<DefaultPage>& pages,
                                                 const HttpResult& http);

}  // namespace clearbox::probe
