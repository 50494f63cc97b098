#include "api/error_mapping.h"

#include <gtest/gtest.h>

namespace pincer::api {
namespace {

TEST(ErrorMapping, EveryCodeHasAStatus) {
  const std::pair<ErrorCode, int> expected[] = {
      {ErrorCode::kInvalidArgument, 400},   {ErrorCode::kNotFound, 404},
      {ErrorCode::kAlreadyExists, 409},     {ErrorCode::kConflict, 409},
      {ErrorCode::kUnauthenticated, 401},   {ErrorCode::kPermissionDenied, 403},
      {ErrorCode::kResourceExhausted, 429}, {ErrorCode::kPayloadTooLarge, 413},
      {ErrorCode::kUnavailable, 503},       {ErrorCode::kDeadlineExceeded, 504},
      {ErrorCode::kCancelled, 499},         {ErrorCode::kInternal, 500},
  };
  for (auto [code, status] : expected) EXPECT_EQ(HttpStatus(code), status) << ErrorCodeName(code);
}

TEST(ErrorMapping, NativeBodyIsFlat) {
  auto r = ErrorResponse(Conflict("version_conflict", "expected version 2, got 1"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"error":"version_conflict","message":"expected version 2, got 1"})");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
}

TEST(ErrorMapping, DetailsAreIncludedAndInternalsHidden) {
  Error e(ErrorCode::kInvalidArgument, "invalid_request", "model: required", R"({"_errors":[]})");
  EXPECT_EQ(ErrorResponse(e).body,
            R"({"error":"invalid_request","message":"model: required","details":{"_errors":[]}})");
  auto internal = ErrorResponse(Internal("sqlite: disk I/O error in /var/x"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("sqlite"), std::string::npos);
  auto specific = ErrorResponse(
      Error(ErrorCode::kInternal, "no_active_container", "session s has no running sandbox"));
  EXPECT_EQ(specific.status, 500);
  EXPECT_NE(specific.body.find("has no running sandbox"), std::string::npos);
}

}  // namespace
}  // namespace pincer::api
