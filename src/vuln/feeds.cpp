// The feed files' entry points: format detection, gzip, the EPSS CSV parser; JSON feeds are
// split in feed_stream.cpp and parsed per format in feed_nvd.cpp and feed_osv.cpp.
#include "vuln/feeds.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <utility>

#include "vuln/feed_json.hpp"

namespace clearbox::vuln {
namespace {

// EPSS CSV: "#model_version:...,score_date:...", "cve,epss,percentile", then one line per CVE.
class EpssParser {
 public:
  explicit EpssParser(const FeedSink& sink) : sink_(sink) { stats_.format = "epss"; }

  Result<void> Line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) return {};
    if (line.starts_with("#")) {
      if (auto p = line.find("score_date:"); p != std::string_view::npos) {
        date_ = std::string(line.substr(p + 11, 10));
      }
      return {};
    }
    if (line.starts_with("cve,")) return {};
    const auto c1 = line.find(',');
    if (c1 == std::string_view::npos) return Fail(ErrorCode::kMalformed, "EPSS line without ','");
    const auto c2 = line.find(',', c1 + 1);
    EpssEntry e;
    e.cve_id = std::string(line.substr(0, c1));
    if (!e.cve_id.starts_with("CVE-") || e.cve_id.size() > 64) {
      return Fail(ErrorCode::kMalformed, "EPSS line without a CVE id");
    }
    const std::string score(
        line.substr(c1 + 1, c2 == std::string_view::npos ? line.npos : c2 - c1 - 1));
    char* end = nullptr;
    e.score = std::strtod(score.c_str(), &end);
    if (end == score.c_str() || !(e.score >= 0 && e.score <= 1)) {
      return Fail(ErrorCode::kMalformed, "EPSS score out of [0,1] for " + e.cve_id);
    }
    if (c2 != std::string_view::npos) {
      e.percentile = std::strtod(std::string(line.substr(c2 + 1)).c_str(), nullptr);
    }
    e.date = date_;
    ++stats_.epss;
    if (sink_.on_epss) return sink_.on_epss(std::move(e));
    return {};
  }

  Result<FeedStats> Finish() {
    if (stats_.epss == 0) return Fail(ErrorCode::kNotThisFormat, "no EPSS lines");
    return stats_;
  }

 private:
  const FeedSink& sink_;
  FeedStats stats_;
  std::string date_;
};

// A std::streambuf over zlib's gzFile, which reads gzip and plain files alike.
class GzStreamBuf : public std::streambuf {
 public:
  explicit GzStreamBuf(gzFile file) : file_(file) {}
  bool failed() const { return failed_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(file_, buffer_, sizeof(buffer_));
    if (n < 0) failed_ = true;
    if (n <= 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile file_;
  char buffer_[1 << 16];
  bool failed_ = false;
};

bool LooksLikeJson(char c) {
  return c == '{' || c == '[';
}

}  // namespace

Result<FeedStats> ParseFeedFile(const std::filesystem::path& path, const FeedSink& sink) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return Fail(ErrorCode::kIo, "cannot open " + path.string());
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  gzbuffer(file, 1 << 17);
  auto buf = std::make_unique<GzStreamBuf>(file);
  std::istream in(buf.get());
  // Skip a UTF-8 byte order mark and blanks to see what the content is.
  int c = in.peek();
  while (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0xEF || c == 0xBB || c == 0xBF) {
    in.get();
    c = in.peek();
  }
  if (c == std::char_traits<char>::eof()) {
    return Fail(ErrorCode::kMalformed, path.string() + ": empty or unreadable");
  }
  Result<FeedStats> stats = Fail(ErrorCode::kInternal, "unset");
  if (LooksLikeJson(static_cast<char>(c))) {
    // Parsing from memory is about twice as fast as from a stream: files up to
    // kMaxInMemoryFeedBytes (decompressed) are read whole, larger ones are streamed.
    std::string whole;
    char chunk[1 << 16];
    while (whole.size() <= kMaxInMemoryFeedBytes) {
      in.read(chunk, sizeof(chunk));
      if (in.gcount() <= 0) break;
      whole.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (whole.size() <= kMaxInMemoryFeedBytes) {
      stats = feed_json::ParseJsonFeed(whole, sink);
    } else {
      // Too large: what was read, then the rest of the stream chunk by chunk.
      auto read = [&in](char* out, std::size_t n) -> std::size_t {
        in.read(out, static_cast<std::streamsize>(n));
        return static_cast<std::size_t>(in.gcount());
      };
      stats = feed_json::ParseJsonFeedStream(std::move(whole), read, sink);
    }
  } else {
    EpssParser epss(sink);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > kMaxCsvLineBytes) return Fail(ErrorCode::kMalformed, "CSV line too long");
      auto r = epss.Line(line);
      if (!r) return Fail(r.error().code, path.string() + ": " + r.error().message);
    }
    stats = epss.Finish();
  }
  if (buf->failed()) return Fail(ErrorCode::kMalformed, path.string() + ": gzip data is corrupt");
  if (!stats) return Fail(stats.error().code, path.string() + ": " + stats.error().message);
  return stats;
}

FeedSink CollectInto(CollectedFeed& out) {
  FeedSink sink;
  sink.on_vuln = [&out](VulnRecord&& r) -> Result<void> {
    out.vulns.push_back(std::move(r));
    return {};
  };
  sink.on_kev = [&out](KevEntry&& e) -> Result<void> {
    out.kev.push_back(std::move(e));
    return {};
  };
  sink.on_epss = [&out](EpssEntry&& e) -> Result<void> {
    out.epss.push_back(std::move(e));
    return {};
  };
  return sink;
}

Result<FeedStats> ParseFeedBytes(std::string_view bytes, const FeedSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) {
    ++i;
  }
  if (i == bytes.size()) return Fail(ErrorCode::kMalformed, "empty feed");
  if (LooksLikeJson(bytes[i])) return feed_json::ParseJsonFeed(bytes, sink);
  EpssParser epss(sink);
  while (i < bytes.size()) {
    std::size_t nl = bytes.find('\n', i);
    if (nl == std::string_view::npos) nl = bytes.size();
    if (nl - i > kMaxCsvLineBytes) return Fail(ErrorCode::kMalformed, "CSV line too long");
    CLEARBOX_TRY(epss.Line(bytes.substr(i, nl - i)));
    i = nl + 1;
  }
  return epss.Finish();
}

}  // namespace clearbox::vuln
