// Form bodies, cookies, Bearer headers and row ids: decoded exactly, hostile forms refused.
#include "portal/form.hpp"

#include <gtest/gtest.h>

#include "portal/login_limiter.hpp"

namespace clearbox::portal {
namespace {

TEST(Form, DecodesUrlEncodedBodies) {
  auto form = ParseForm("name=a+b%20c&csrf=0a&empty=&flag&x=%3Cscript%3E%27%22%26%3D");
  ASSERT_TRUE(form.has_value()) << form.error().message;
  EXPECT_EQ(FormValue(*form, "name"), "a b c");
  EXPECT_EQ(FormValue(*form, "csrf"), "0a");
  EXPECT_EQ(FormValue(*form, "empty"), "");
  EXPECT_TRUE(form->contains("flag"));
  EXPECT_EQ(FormValue(*form, "x"), "<script>'\"&=");
  EXPECT_EQ(FormValue(*form, "absent"), "");
  EXPECT_TRUE(ParseForm("").has_value());
  EXPECT_TRUE(ParseForm("&&a=1&&").has_value());
}

TEST(Form, RefusesAmbiguousOrBrokenForms) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "a=%00", "a=1&a=2", "%=1"}) {
    EXPECT_FALSE(ParseForm(bad).has_value()) << bad;
  }
  std::string many;
  for (std::size_t i = 0; i <= kMaxFormFields; ++i) many += "f" + std::to_string(i) + "=1&";
  auto refused = ParseForm(many);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kLimitExceeded);
}

TEST(Form, CookiesBearerAndIds) {
  auto cookies = ParseCookies("a=1; cb_session=\"abc\" ;b=2;b=3; junk; =x");
  EXPECT_EQ(cookies["a"], "1");
  EXPECT_EQ(cookies["cb_session"], "abc");
  EXPECT_EQ(cookies["b"], "2");
  EXPECT_FALSE(cookies.contains(""));
  EXPECT_EQ(FindBearerToken("Bearer cbx_1"), "cbx_1");
  EXPECT_EQ(FindBearerToken("bearer  cbx_1 "), "cbx_1");
  EXPECT_FALSE(FindBearerToken("Basic abc").has_value());
  EXPECT_FALSE(FindBearerToken("Bearer ").has_value());
  EXPECT_EQ(ParseRowId("42"), 42);
  for (const char* bad : {"", "0", "042", "-1", "+1", "1a", " 1", "9999999999999999999"}) {
    EXPECT_FALSE(ParseRowId(bad).has_value()) << bad;
  }
}

TEST(LoginLimiter, CountsPerAccountAndPerAddressInWindows) {
  LoginLimiter limiter;
  const auto t0 = LoginLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < kMaxLoginFailuresPerAccount; ++i) {
    EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.1", t0));
    limiter.RecordFailure("alice", "10.0.0.1", t0);
  }
  EXPECT_FALSE(limiter.Allowed("alice", "10.0.0.2", t0)) << "the account is locked everywhere";
  EXPECT_TRUE(limiter.Allowed("bob", "10.0.0.1", t0));
  EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.1", t0 + kLoginFailureWindow));
  for (int i = kMaxLoginFailuresPerAccount; i < kMaxLoginFailuresPerAddress; ++i) {
    limiter.RecordFailure("user" + std::to_string(i), "10.0.0.1", t0);
  }
  EXPECT_FALSE(limiter.Allowed("carol", "10.0.0.1", t0)) << "the address is locked";
  EXPECT_TRUE(limiter.Allowed("carol", "10.0.0.9", t0));
  limiter.RecordSuccess("alice");
  EXPECT_TRUE(limiter.Allowed("alice", "10.0.0.2", t0));
}

}  // namespace
}  // namespace clearbox::portal
