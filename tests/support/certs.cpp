#include "support/certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace leeway::testing {

namespace {

EVP_PKEY* new_key() {
  // EC P-256 keys are quick to make, so every test can have fresh ones.
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error("bad certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

bool is_ip_literal(const std::string& host) {
  return host.find(':') != std::string::npos ||
         host.find_first_not_of("0123456789.") == std::string::npos;
}

// Makes a certificate for `cn`, signed by issuer_key (issuer_cert null: self-signed).
X509* make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer_cert, EVP_PKEY* issuer_key,
                long not_before_s, long not_after_s, bool is_ca, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer = issuer_cert ? issuer_cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (is_ca) {
    add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, issuer, NID_basic_constraints, "CA:FALSE");
    std::string san = (is_ip_literal(cn) ? "IP:" : "DNS:") + cn;
    add_ext(cert, issuer, NID_subject_alt_name, san.c_str());
  }
  add_ext(cert, issuer, NID_subject_key_identifier, "hash");
  if (!X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()))
    throw std::runtime_error("X509_sign failed");
  return cert;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (cert) PEM_write_X509(f, cert);
  if (key) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

long g_serial = 1000;

}  // namespace

TestCa::TestCa(const std::string& dir) : dir_(dir) {
  std::filesystem::create_directories(dir);
  EVP_PKEY* key = new_key();
  X509* cert =
      make_cert(key, "leeway test CA", nullptr, nullptr, -86400, 3650L * 86400, true, ++g_serial);
  ca_pem_path_ = dir + "/ca.pem";
  write_pem(ca_pem_path_, cert, nullptr);
  ca_key_ = key;
  ca_cert_ = cert;
}

TestCa::~TestCa() {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  X509_free(static_cast<X509*>(ca_cert_));
}

CertFiles TestCa::issue(const std::string& name, const std::string& host, int not_before_days,
                        int not_after_days) {
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(key, host, static_cast<X509*>(ca_cert_), static_cast<EVP_PKEY*>(ca_key_),
                         not_before_days * 86400L, not_after_days * 86400L, false, ++g_serial);
  CertFiles files{dir_ + "/" + name + ".crt", dir_ + "/" + name + ".key"};
  write_pem(files.cert_pem_path, cert, nullptr);
  write_pem(files.key_pem_path, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

CertFiles TestCa::self_signed(const std::string& name, const std::string& host) {
  EVP_PKEY* key = new_key();
  X509* cert = make_cert(key, host, nullptr, nullptr, -86400, 365L * 86400, false, ++g_serial);
  CertFiles files{dir_ + "/" + name + ".crt", dir_ + "/" + name + ".key"};
  write_pem(files.cert_pem_path, cert, nullptr);
  write_pem(files.key_pem_path, nullptr, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

}  // namespace leeway::testing
