// Test certificates made with OpenSSL at test time: a CA, leaf certificates valid, expired,
// expiring soon or for the wrong host, and self-signed ones. Written as PEM files in a folder.
#pragma once

#include <string>

namespace leeway::testing {

struct CertFiles {
  std::string cert_pem_path;  // the leaf (followed by nothing else)
  std::string key_pem_path;
};

class TestCa {
 public:
  // Creates a CA key and self-signed CA certificate under `dir` (created if missing).
  explicit TestCa(const std::string& dir);
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  // The CA certificate, for a client's trust store (--ca-file).
  const std::string& ca_pem_path() const { return ca_pem_path_; }

  // Issues a leaf for `host` (a DNS name or an IP literal, put in subjectAltName) valid from
  // now + not_before_days to now + not_after_days; `name` names the files.
  CertFiles issue(const std::string& name, const std::string& host, int not_before_days,
                  int not_after_days);

  // A self-signed leaf for `host`, valid for a year, not signed by this CA.
  CertFiles self_signed(const std::string& name, const std::string& host);

 private:
  std::string dir_;
  std::string ca_pem_path_;
  void* ca_key_ = nullptr;   // EVP_PKEY*
  void* ca_cert_ = nullptr;  // X509*
};

}  // namespace leeway::testing
