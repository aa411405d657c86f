#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "html/page.hpp"

namespace clearbox::html {
namespace {

// The body of the first <tag>...</tag> in `page`.
std::string InlineBlock(const std::string& page, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const auto begin = page.find(open);
  const auto end = page.find("</" + tag + ">", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return page.substr(begin + open.size(), end - begin - open.size());
}

TEST(HtmlEscape, HostileNamesBecomeText) {
  EXPECT_EQ(EscapeText("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(EscapeAttribute("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
  EXPECT_EQ(EscapeText("\" onload=\"x"), "&quot; onload=&quot;x");
}

TEST(HtmlEscape, InvalidUtf8AndControlsBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeText(std::string("a\xFF") + "b"), "a" + fffd + "b");
  EXPECT_EQ(EscapeText(std::string("\xC0\xBC")), fffd + fffd);             // overlong '<'
  EXPECT_EQ(EscapeText(std::string("\xED\xA0\x80")), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(EscapeText(std::string("x\xE2\x82")), "x" + fffd + fffd);      // cut sequence
  EXPECT_EQ(EscapeText(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(EscapeText("a\x1b[31mb"), "a" + fffd + "[31mb");
  EXPECT_EQ(EscapeText("evil\xE2\x80\xAEtxt.exe"), "evil" + fffd + "txt.exe");  // RLO
  EXPECT_EQ(EscapeText("tab\tnew\nline"), "tab\tnew\nline");
  EXPECT_EQ(EscapeText("caf\xC3\xA9 \xF0\x9F\x94\x91"), "caf\xC3\xA9 \xF0\x9F\x94\x91");
}

TEST(HtmlPage, Base64MatchesRfc4648) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  // echo -n "" | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspHash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
}

TEST(HtmlPage, CspAllowsExactlyTheInlineStyleAndScript) {
  Page page{"t<i>tle", "sub", {{"one", "One", "<p>body</p>", 3}}, "footer"};
  const std::string out = RenderPage(page);
  std::smatch csp;
  ASSERT_TRUE(std::regex_search(
      out, csp, std::regex("http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\"")));
  const std::string policy = csp[1];
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(policy.find("style-src " + CspHash(InlineBlock(out, "style")) + ";"), std::string::npos)
      << policy;
  EXPECT_NE(policy.find("script-src " + CspHash(InlineBlock(out, "script")) + ";"),
            std::string::npos)
      << policy;
  EXPECT_EQ(InlineBlock(out, "style"), Stylesheet());
  EXPECT_EQ(InlineBlock(out, "script"), SortScript());
  EXPECT_EQ(policy.find("unsafe"), std::string::npos);
  // The policy comes before anything it governs.
  EXPECT_LT(out.find("Content-Security-Policy"), out.find("<style>"));
  EXPECT_NE(out.find("<section id=\"one\" data-count=\"3\">"), std::string::npos);
  EXPECT_NE(out.find("t&lt;i&gt;tle"), std::string::npos);
  EXPECT_EQ(out.find("<i>"), std::string::npos);
  EXPECT_NE(out.find("@media print"), std::string::npos);
  EXPECT_EQ(RenderPage(page), out);
}

TEST(HtmlPage, TablesAndChartsEscapeTheirContent) {
  Table table{"t", {"name", "size"}, {{Cell::Text("<b>"), Cell::Number(12)}}, true};
  const std::string out = RenderTable(table);
  EXPECT_NE(out.find("class=\"sortable\""), std::string::npos);
  EXPECT_NE(out.find("<td>&lt;b&gt;</td>"), std::string::npos);
  EXPECT_NE(out.find("<td class=\"num\" data-sort=\"12\">12</td>"), std::string::npos);
  const std::string svg = BarChart("sev<", {{"<x>", 2, "", "sev-high"}, {"y", 4, "4!", ""}});
  EXPECT_NE(svg.find("<title>sev&lt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;x&gt;"), std::string::npos);
  EXPECT_NE(svg.find("width=\"150\""), std::string::npos);  // 2 of 4 on a 300 px track
  EXPECT_NE(svg.find("width=\"300\" height=\"20\"/><text"), std::string::npos);
  EXPECT_NE(svg.find(">4!</text>"), std::string::npos);
  EXPECT_EQ(BarChart("none", {{"a", 0, "", ""}}).find("NaN"), std::string::npos);
}

}  // namespace
}  // namespace clearbox::html
