// Splitting a JSON feed into items (bounded memory, streamed past kMaxInMemoryFeedBytes) and
// routing each item by its shape to the record parser of its format.
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "vuln/feed_json.hpp"

namespace clearbox::vuln::feed_json {
namespace {

// ---- dispatch ----

class Dispatcher {
 public:
  explicit Dispatcher(const FeedSink& sink) : sink_(sink) {}

  // Routes one JSON object by its shape; false (with error_) when the sink failed.
  // `whole_document`: the item is the feed's top-level object itself. Only there does
  // "sourceIdentifier" mark an NVD record: the nlohmann-based parser this replaces dropped
  // that key below the top level, and the output is kept identical.
  bool Handle(Elem item, bool whole_document) {
    if (!item.is_object()) {
      ++stats_.skipped;
      return true;
    }
    if (const auto cve = Member(item, "cve"); cve && cve->is_object()) {
      return Vuln(ParseNvdCve(*cve), "nvd");
    }
    if (Member(item, "cveID")) {
      KevEntry e{Str(item, "cveID"), Str(item, "dateAdded"), Str(item, "dueDate"),
                 Str(item, "knownRansomwareCampaignUse"), Str(item, "vulnerabilityName")};
      if (!e.cve_id.starts_with("CVE-")) {
        ++stats_.skipped;
        return true;
      }
      Note("kev");
      ++stats_.kev;
      return Deliver(sink_.on_kev, std::move(e));
    }
    if (Member(item, "cveMetadata")) return Vuln(ParseCve5(item), "cve5");
    const std::string id = Str(item, "id");
    if (!id.empty() &&
        (Member(item, "vulnStatus") || (whole_document && Member(item, "sourceIdentifier")) ||
         Member(item, "lastModified"))) {
      return Vuln(ParseNvdCve(item), "nvd");
    }
    if (!id.empty() && (Member(item, "modified") || Member(item, "affected"))) {
      return Vuln(ParseOsv(item), "osv");
    }
    ++stats_.skipped;
    return true;
  }

  FeedStats& stats() { return stats_; }
  std::optional<Error>& error() { return error_; }

 private:
  void Note(const char* format) {
    if (stats_.format.empty()) {
      stats_.format = format;
    } else if (stats_.format != format) {
      stats_.format = "mixed";
    }
  }

  bool Vuln(VulnRecord rec, const char* format) {
    if (rec.id.empty() || rec.id.size() > 256) {
      ++stats_.skipped;
      return true;
    }
    Note(format);
    ++stats_.vulns;
    if (rec.modified > stats_.newest_modified) stats_.newest_modified = rec.modified;
    return Deliver(sink_.on_vuln, std::move(rec));
  }

  template <class T>
  bool Deliver(const std::function<Result<void>(T&&)>& fn, T&& item) {
    if (!fn) return true;
    auto r = fn(std::move(item));
    if (!r) {
      error_ = r.error();
      return false;
    }
    return true;
  }

  const FeedSink& sink_;
  FeedStats stats_;
  std::optional<Error> error_;
};

// ---- splitting a feed into items ----
//
// A small string- and comment-aware scanner walks the top level of the feed and finds the
// byte span of each item: an element of a top-level array, an object under the top-level
// key "vulnerabilities" or "CVE_Items", or else the top-level object itself. Each span is
// parsed and fully validated by simdjson (one reused parser), so memory stays bounded by
// the largest item, and a feed larger than kMaxInMemoryFeedBytes is read chunk by chunk.
// It accepts what nlohmann::json::parse(..., ignore_comments = true) accepted before:
// RFC 8259 JSON with /* */ and // comments between tokens (blanked before simdjson sees
// them); everything else is kMalformed.
class JsonFeedParser {
 public:
  using Reader = std::function<std::size_t(char*, std::size_t)>;

  // A feed in memory; `bytes` must outlive the parser.
  JsonFeedParser(std::string_view bytes, const FeedSink& sink)
      : data_(bytes.data()), size_(bytes.size()), dispatch_(sink) {}

  // A streamed feed: `head`, then what `read` returns until it returns 0.
  JsonFeedParser(std::string head, Reader read, const FeedSink& sink)
      : own_(std::move(head)), read_(std::move(read)), dispatch_(sink) {
    data_ = own_.data();
    size_ = own_.size();
  }

  Result<FeedStats> Run() {
    CLEARBOX_TRY(SkipBlanks());
    bool is_object = false;
    if (Peek() == '[') {
      CLEARBOX_TRY(Elements());
    } else if (Peek() == '{') {
      is_object = true;
      CLEARBOX_TRY(TopObject());
    } else {
      return Malformed("expected '[' or '{'");
    }
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() != kEof) return Malformed("unexpected content after the top-level value");
    if (is_object && !has_items_key_) {
      // A single record: the top-level object is the item.
      auto top = ParseSpan(top_start_, top_end_, any_comments_);
      if (!top) return Forward(top);
      if (!dispatch_.Handle(*top, true)) return Unexpected(*dispatch_.error());
    }
    if (is_object && has_cve_items_) {
      return Fail(ErrorCode::kUnsupported, "NVD JSON 1.1 feeds are retired; use API 2.0 data");
    }
    FeedStats stats = dispatch_.stats();
    if (is_object && total_results_) {
      stats.total_results = *total_results_;
      if (stats.format.empty()) stats.format = "nvd";
      if (stats.total_results >= 0 && stats.vulns == 0) return stats;  // an empty API page
    }
    if (stats.vulns + stats.kev == 0) {
      return Fail(ErrorCode::kNotThisFormat, "no NVD, CVE 5, OSV or KEV records found (" +
                                                 std::to_string(stats.skipped) +
                                                 " objects of unknown shape)");
    }
    return stats;
  }

 private:
  static constexpr int kEof = -1;
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  static constexpr std::size_t kChunk = 1 << 20;

  Unexpected Malformed(const std::string& what) const {
    return Fail(ErrorCode::kMalformed, "JSON: " + what + " at byte " + std::to_string(pos_));
  }

  // Offsets are absolute (from the start of the feed); the window data_[0, size_) holds
  // the bytes from offset base_.
  std::uint64_t End() const { return base_ + size_; }
  const char* Ptr(std::uint64_t offset) const { return data_ + (offset - base_); }

  // Reads the next chunk of a streamed feed, dropping what is no longer needed.
  bool Fill() {
    if (!read_) return false;
    const std::uint64_t keep = std::min({pos_, value_start_, top_hold_});
    if (keep > base_) {
      own_.erase(0, keep - base_);
      base_ = keep;
    }
    const std::size_t old = own_.size();
    own_.resize(old + kChunk);
    const std::size_t n = read_(own_.data() + old, kChunk);
    own_.resize(old + n);
    data_ = own_.data();
    size_ = own_.size();
    if (n == 0) read_ = nullptr;
    return n > 0;
  }

  int Peek() {
    if (pos_ == End() && !Fill()) return kEof;
    return static_cast<unsigned char>(*Ptr(pos_));
  }

  // Skips whitespace and comments (as nlohmann's lexer did: "//" ends at CR, LF or NUL).
  Result<void> SkipBlanks() {
    for (;;) {
      const int c = Peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
        continue;
      }
      if (c != '/') return {};
      any_comments_ = true;
      ++pos_;
      const int kind = Peek();
      if (kind == kEof) return Malformed("invalid comment");
      ++pos_;
      if (kind == '/') {
        for (int d = Peek(); d != kEof; d = Peek()) {
          ++pos_;
          if (d == '\n' || d == '\r' || d == '\0') break;
        }
      } else if (kind == '*') {
        for (bool star = false;;) {
          const int d = Peek();
          if (d == kEof || d == '\0') return Malformed("invalid comment; missing closing '*/'");
          ++pos_;
          if (star && d == '/') break;
          star = d == '*';
        }
      } else {
        return Malformed("invalid comment");
      }
    }
  }

  // From pos_ (the first byte of a value), finds the value's end and moves pos_ there.
  // Only finds the extent: simdjson validates the span. `comments`: the span has some.
  Result<std::uint64_t> ValueEnd(bool& comments) {
    value_start_ = pos_;
    comments = false;
    const int first = Peek();
    if (first == kEof) return Malformed("unexpected end of input");
    if (first != '{' && first != '[' && first != '"') {
      if (first == ',' || first == ']' || first == '}') return Malformed("expected a value");
      for (int c = first; c != kEof; c = Peek()) {  // a literal or number
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' ||
            c == '/') {
          break;
        }
        ++pos_;
      }
      return pos_;
    }
    enum State : unsigned char { kCode, kString, kEscape, kSlash, kLine, kBlock, kBlockStar };
    State state = kCode;
    std::uint64_t depth = 0;
    for (;;) {
      if (pos_ == End() && !Fill()) return Malformed("unexpected end of input");
      const char* p = Ptr(pos_);
      const char* const end = data_ + size_;
      while (p < end) {
        switch (state) {
          case kString:
            while (p < end && *p != '"' && *p != '\\') ++p;
            if (p == end) break;
            if (*p++ == '\\') {
              state = kEscape;
            } else {
              state = kCode;
              if (depth == 0) {
                pos_ = base_ + static_cast<std::uint64_t>(p - data_);
                return pos_;
              }
            }
            break;
          case kEscape:
            ++p;
            state = kString;
            break;
          case kCode: {
            const char c = *p++;
            if (c == '"') {
              state = kString;
            } else if (c == '{' || c == '[') {
              ++depth;
            } else if (c == '}' || c == ']') {
              if (--depth == 0) {
                pos_ = base_ + static_cast<std::uint64_t>(p - data_);
                return pos_;
              }
            } else if (c == '/') {
              state = kSlash;
              comments = any_comments_ = true;
            }
            break;
          }
          case kSlash: {
            const char c = *p++;
            if (c == '*') {
              state = kBlock;
            } else if (c == '/') {
              state = kLine;
            } else {
              pos_ = base_ + static_cast<std::uint64_t>(p - data_);
              return Malformed("invalid comment");
            }
            break;
          }
          case kLine: {
            const char c = *p++;
            if (c == '\n' || c == '\r' || c == '\0') state = kCode;
            break;
          }
          case kBlock:
          case kBlockStar: {
            const char c = *p++;
            if (c == '\0') {
              pos_ = base_ + static_cast<std::uint64_t>(p - data_);
              return Malformed("invalid comment; missing closing '*/'");
            }
            state = (state == kBlockStar && c == '/') ? kCode : c == '*' ? kBlockStar : kBlock;
            break;
          }
        }
      }
      pos_ = base_ + static_cast<std::uint64_t>(p - data_);
    }
  }

  // Replaces the comments of a span (copied into scratch) by spaces.
  static void BlankComments(char* p, std::size_t n) {
    bool in_string = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (in_string) {
        if (p[i] == '\\') {
          ++i;
        } else if (p[i] == '"') {
          in_string = false;
        }
      } else if (p[i] == '"') {
        in_string = true;
      } else if (p[i] == '/' && i + 1 < n && (p[i + 1] == '/' || p[i + 1] == '*')) {
        const bool line = p[i + 1] == '/';
        p[i] = p[i + 1] = ' ';
        for (i += 2; i < n; ++i) {
          if (line && (p[i] == '\n' || p[i] == '\r' || p[i] == '\0')) {
            if (p[i] == '\0') p[i] = ' ';
            break;
          }
          if (!line && p[i] == '*' && i + 1 < n && p[i + 1] == '/') {
            p[i] = p[i + 1] = ' ';
            ++i;
            break;
          }
          p[i] = ' ';
        }
      }
    }
  }

  // Copies `in` to `out` with ".0" after each integer (outside strings) that overflows 64
  // bits, so that simdjson reads it as a double; false when there is none.
  static bool WidenBigIntegers(std::string_view in, std::string& out) {
    bool changed = false;
    bool in_string = false;
    out.reserve(in.size() + 16);
    for (std::size_t i = 0; i < in.size();) {
      const char c = in[i];
      if (in_string || c == '"') {
        in_string = in_string ? c != '"' : true;
        const std::size_t step = (in_string && c == '\\' && i + 1 < in.size()) ? 2 : 1;
        out.append(in.substr(i, step));
        i += step;
        continue;
      }
      if (c != '-' && (c < '0' || c > '9')) {
        out += c;
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < in.size() && ((in[j] >= '0' && in[j] <= '9') || in[j] == '-' || in[j] == '+' ||
                               in[j] == '.' || in[j] == 'e' || in[j] == 'E')) {
        ++j;
      }
      const std::string token(in.substr(i, j - i));
      out += token;
      i = j;
      if (token.find_first_of(".eE+") != std::string::npos ||
          token.find('-', 1) != std::string::npos || token == "-") {
        continue;
      }
      errno = 0;
      if (token[0] == '-') {
        (void)std::strtoll(token.c_str(), nullptr, 10);
      } else {
        (void)std::strtoull(token.c_str(), nullptr, 10);
      }
      if (errno == ERANGE) {
        out += ".0";
        changed = true;
      }
    }
    return changed;
  }

  // Parses the span [start, end) of the window with simdjson.
  Result<Elem> ParseSpan(std::uint64_t start, std::uint64_t end, bool comments) {
    const auto n = static_cast<std::size_t>(end - start);
    if (scratch_size_ < n) {
      scratch_ = std::make_unique<char[]>(n + simdjson::SIMDJSON_PADDING);
      scratch_size_ = n;
    }
    std::memcpy(scratch_.get(), Ptr(start), n);
    if (comments) BlankComments(scratch_.get(), n);
    value_start_ = kNone;
    Elem root;
    const char* json = scratch_.get();
    std::size_t length = n;
    bool padded = true;
    std::string widened;
    simdjson::dom::parser* parser = &parser_;
    auto error = parser->parse(json, length, !padded).get(root);
    for (int retry = 0; retry < 2 && error; ++retry) {
      if (error == simdjson::NUMBER_ERROR && widened.empty() &&
          WidenBigIntegers(std::string_view(json, length), widened)) {
        // simdjson rejects integers beyond 64 bits, which nlohmann read as doubles.
        json = widened.data();
        length = widened.size();
        padded = false;
      } else if (error == simdjson::DEPTH_ERROR && parser == &parser_) {
        // Deeper than simdjson's default of 1024 levels: nlohmann had no limit.
        deep_parser_ = std::make_unique<simdjson::dom::parser>();
        error = deep_parser_->allocate(length, length);
        if (error) break;
        parser = deep_parser_.get();
      } else {
        break;
      }
      error = parser->parse(json, length, !padded).get(root);
    }
    if (error) {
      return Fail(ErrorCode::kMalformed, std::string("JSON: ") + simdjson::error_message(error) +
                                             " (in the value at byte " + std::to_string(start) +
                                             ")");
    }
    return root;
  }

  // Parses the value at pos_ and moves past it.
  Result<Elem> Value() {
    const std::uint64_t start = pos_;
    bool comments = false;
    auto end = ValueEnd(comments);
    if (!end) return Forward(end);
    return ParseSpan(start, *end, comments);
  }

  // The array at pos_: its objects are items, its other elements are only validated.
  Result<void> Elements() {
    ++pos_;  // '['
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() == ']') {
      ++pos_;
      return {};
    }
    for (;;) {
      auto element = Value();
      if (!element) return Forward(element);
      if (element->is_object() && !dispatch_.Handle(*element, false)) {
        return Unexpected(*dispatch_.error());
      }
      CLEARBOX_TRY(SkipBlanks());
      const int c = Peek();
      ++pos_;
      if (c == ']') return {};
      if (c != ',') return Malformed("expected ',' or ']'");
      CLEARBOX_TRY(SkipBlanks());
    }
  }

  // The top-level object at pos_: its "vulnerabilities"/"CVE_Items" hold the items.
  Result<void> TopObject() {
    top_start_ = top_hold_ = pos_;  // kept while it may be a single record
    ++pos_;                         // '{'
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() == '}') {
      top_end_ = ++pos_;
      return {};
    }
    for (;;) {
      if (Peek() != '"') return Malformed("expected a key");
      auto key_elem = Value();
      if (!key_elem) return Forward(key_elem);
      const std::string key(View(*key_elem));
      CLEARBOX_TRY(SkipBlanks());
      if (Peek() != ':') return Malformed("expected ':'");
      ++pos_;
      CLEARBOX_TRY(SkipBlanks());
      if (key == "vulnerabilities" || key == "CVE_Items") {
        has_items_key_ = true;
        if (key == "CVE_Items") has_cve_items_ = true;
        top_hold_ = kNone;
        if (Peek() == '[') {
          CLEARBOX_TRY(Elements());
        } else {
          // Anything else is parsed whole; the objects among its members are items.
          auto value = Value();
          if (!value) return Forward(value);
          simdjson::dom::object members;
          if (value->get(members) == simdjson::SUCCESS) {
            for (simdjson::dom::key_value_pair field : members) {
              if (field.value.is_object() && !dispatch_.Handle(field.value, false)) {
                return Unexpected(*dispatch_.error());
              }
            }
          }
        }
      } else {
        auto value = Value();
        if (!value) return Forward(value);
        if (key == "totalResults") {
          std::int64_t i = 0;
          std::uint64_t u = 0;
          if (value->get(i) == simdjson::SUCCESS) {
            total_results_ = i;
          } else if (value->get(u) == simdjson::SUCCESS) {
            total_results_ = static_cast<std::int64_t>(u);
          } else {
            total_results_.reset();
          }
        }
      }
      CLEARBOX_TRY(SkipBlanks());
      const int c = Peek();
      ++pos_;
      if (c == '}') {
        top_end_ = pos_;
        return {};
      }
      if (c != ',') return Malformed("expected ',' or '}'");
      CLEARBOX_TRY(SkipBlanks());
    }
  }

  const char* data_ = nullptr;  // the window
  std::size_t size_ = 0;
  std::uint64_t base_ = 0;
  std::string own_;  // a streamed feed's window
  Reader read_;
  std::uint64_t pos_ = 0;
  std::uint64_t value_start_ = kNone;  // the value being scanned (kept in the window)
  std::uint64_t top_hold_ = kNone;     // the top-level object, while it may be the item
  std::uint64_t top_start_ = 0, top_end_ = 0;
  bool any_comments_ = false;
  bool has_items_key_ = false, has_cve_items_ = false;
  std::optional<std::int64_t> total_results_;
  std::unique_ptr<char[]> scratch_;  // the span being parsed, with simdjson's padding
  std::size_t scratch_size_ = 0;
  simdjson::dom::parser parser_;
  std::unique_ptr<simdjson::dom::parser> deep_parser_;
  Dispatcher dispatch_;
};

}  // namespace

Result<FeedStats> ParseJsonFeed(std::string_view bytes, const FeedSink& sink) {
  return JsonFeedParser(bytes, sink).Run();
}

Result<FeedStats> ParseJsonFeedStream(std::string head,
                                      std::function<std::size_t(char*, std::size_t)> read,
                                      const FeedSink& sink) {
  return JsonFeedParser(std::move(head), std::move(read), sink).Run();
}

}  // namespace clearbox::vuln::feed_json
