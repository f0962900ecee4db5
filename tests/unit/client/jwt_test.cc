#include "client/jwt.h"

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "unit/client/test_support.h"

namespace dicomstore::client {
namespace {

using ::dicomstore::testing::IsInvalidArgument;
using ::dicomstore::testing::IsOk;
using ::testing::HasSubstr;

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64UrlTest, UsesTheUrlSafeAlphabet) {
  // 0xfb 0xff encodes to "+/8" in standard base64.
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
}

TEST(Base64UrlTest, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= bytes.size(); len += 7) {
    std::string data = bytes.substr(0, len);
    absl::StatusOr<std::string> decoded = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(*decoded, data) << "length " << len;
  }
}

TEST(Base64UrlTest, DecodeAcceptsPaddingAndRejectsGarbage) {
  EXPECT_EQ(*Base64UrlDecode("Zm8="), "fo");
  EXPECT_EQ(*Base64UrlDecode("Zg=="), "f");
  EXPECT_THAT(Base64UrlDecode("Zm+v"), IsInvalidArgument("alphabet"));
  EXPECT_THAT(Base64UrlDecode("Zm9v!A"), IsInvalidArgument("alphabet"));
  EXPECT_THAT(Base64UrlDecode("Zm9vY"), IsInvalidArgument("length"));
}

TEST(RsaPrivateKeyTest, RejectsTextThatIsNotAnRsaKey) {
  EXPECT_THAT(RsaPrivateKey::FromPem("not a key"), IsInvalidArgument("PEM"));
  EXPECT_THAT(RsaPrivateKey::FromPem(""), IsInvalidArgument("PEM"));
  // A well-formed key of the wrong kind.
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), ec, nullptr, nullptr, 0, nullptr, nullptr);
  EVP_PKEY_free(ec);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  EXPECT_THAT(RsaPrivateKey::FromPem(std::string(data, static_cast<size_t>(size))),
              IsInvalidArgument("not an RSA key"));
}

TEST(JwtTest, SignsHeaderAndClaimsVerifiableWithThePublicKey) {
  const testing::TestKey& key = testing::TestRsaKey();
  absl::StatusOr<RsaPrivateKey> private_key = RsaPrivateKey::FromPem(key.private_pem);
  ASSERT_THAT(private_key, IsOk());
  Json claims = {{"iss", "sa@p.iam.gserviceaccount.com"},
                 {"scope", "https://www.googleapis.com/auth/cloud-platform"},
                 {"aud", "https://oauth2.googleapis.com/token"},
                 {"exp", 1700003600},
                 {"iat", 1700000000}};
  absl::StatusOr<std::string> jwt = SignJwtRs256(claims, "key-1", *private_key);
  ASSERT_THAT(jwt, IsOk());
  // Compact serialisation: three base64url parts, nothing outside the URL-safe alphabet.
  EXPECT_EQ(std::count(jwt->begin(), jwt->end(), '.'), 2);
  EXPECT_EQ(jwt->find_first_of("+/= "), std::string::npos);

  absl::StatusOr<testing::DecodedJwt> decoded =
      testing::DecodeAndVerifyJwt(*jwt, key.public_key.get());
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->header, Json({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "key-1"}}));
  EXPECT_EQ(decoded->claims, claims);
}

TEST(JwtTest, OmitsKidWhenThereIsNoKeyIdAndDetectsTampering) {
  const testing::TestKey& key = testing::TestRsaKey();
  absl::StatusOr<RsaPrivateKey> private_key = RsaPrivateKey::FromPem(key.private_pem);
  ASSERT_THAT(private_key, IsOk());
  absl::StatusOr<std::string> jwt = SignJwtRs256(Json{{"iss", "a"}}, "", *private_key);
  ASSERT_THAT(jwt, IsOk());
  absl::StatusOr<testing::DecodedJwt> decoded =
      testing::DecodeAndVerifyJwt(*jwt, key.public_key.get());
  ASSERT_THAT(decoded, IsOk());
  EXPECT_FALSE(decoded->header.contains("kid"));

  // Same signature over different claims must not verify.
  std::string forged = *jwt;
  size_t first = forged.find('.');
  size_t second = forged.find('.', first + 1);
  forged.replace(first + 1, second - first - 1, Base64UrlEncode(R"({"iss":"b"})"));
  EXPECT_THAT(testing::DecodeAndVerifyJwt(forged, key.public_key.get()),
              IsInvalidArgument("signature"));
}

TEST(JwtTest, SignaturesAreDeterministicPkcs1) {
  // RSASSA-PKCS1-v1_5 is deterministic; PSS (the wrong scheme for RS256) is not.
  absl::StatusOr<RsaPrivateKey> private_key =
      RsaPrivateKey::FromPem(testing::TestRsaKey().private_pem);
  ASSERT_THAT(private_key, IsOk());
  absl::StatusOr<std::string> a = private_key->SignSha256("data");
  absl::StatusOr<std::string> b = private_key->SignSha256("data");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 256u);  // 2048-bit modulus
  EXPECT_THAT(std::string(*a), ::testing::Not(HasSubstr("data")));
}

}  // namespace
}  // namespace dicomstore::client
