// TrustStores: one parsed X509_STORE per CA source, shared by reference and re-parsed when the
// source's file changes on disk.
#include "probe/trust_store.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace leeway::probe {

namespace {

// The file that stands for the system store: when the distribution updates its CAs it rewrites
// this bundle (Debian: /etc/ssl/certs/ca-certificates.crt, which /usr/lib/ssl/cert.pem links to).
// The hashed directory beside it is read lazily by OpenSSL and changes with it.
std::string system_ca_file() {
  if (const char* env = std::getenv(X509_get_default_cert_file_env()); env && *env) return env;
  return X509_get_default_cert_file();
}

// OpenSSL's first error reason, e.g. "no certificate or crl found"; clears the queue.
std::string openssl_reason(const char* fallback) {
  unsigned long code = ERR_get_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : fallback;
}

}  // namespace

TrustStores::FileStamp TrustStores::stamp_of(const std::string& path) {
  FileStamp stamp;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    stamp.error = errno;
    return stamp;
  }
  stamp.device = st.st_dev;
  stamp.inode = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return stamp;
}

void TrustStores::load(const std::string& ca_file, Source& source) {
  ++loads_;
  source.store.reset();
  source.error.clear();
  StoreRef store(X509_STORE_new());
  if (!store) {
    source.error = "cannot make a certificate store: out of memory";
    return;
  }
  ERR_clear_error();
  if (ca_file.empty()) {
    // The default file, parsed now, and the default hashed directory, looked up by name only
    // for a certificate the file lacks (SSL_CERT_FILE, SSL_CERT_DIR), as curl did with its CA
    // path. Not X509_STORE_set_default_paths: with OpenSSL 3 it adds a "store" lookup that read
    // the whole /etc/ssl/certs directory three times per check whose issuer is not in the file
    // (strace). Missing locations are not an error: a system without CAs trusts nothing.
    X509_LOOKUP* file = X509_STORE_add_lookup(store.get(), X509_LOOKUP_file());
    if (file) X509_LOOKUP_load_file(file, nullptr, X509_FILETYPE_DEFAULT);
    X509_LOOKUP* dir = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir());
    if (dir) X509_LOOKUP_add_dir(dir, nullptr, X509_FILETYPE_DEFAULT);
    ERR_clear_error();
  } else if (source.stamp.error != 0) {
    source.error = "cannot load CA file \"" + ca_file + "\": " + std::strerror(source.stamp.error);
    return;
  } else if (X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
    source.error = "cannot load CA file \"" + ca_file +
                   "\": " + openssl_reason("no PEM certificate found in it");
    return;
  }
  source.store = std::move(store);
}

void TrustStores::drop_idle(DurationUs now_us) {
  std::erase_if(sources_,
                [&](const auto& entry) { return now_us - entry.second.used_us >= kIdleUs; });
}

Result<StoreRef> TrustStores::get(const std::string& ca_file) {
  DurationUs now_us = clock_.monotonic_us();
  if (now_us >= next_sweep_us_) {
    drop_idle(now_us);
    next_sweep_us_ = now_us + kIdleUs;
  }
  auto [it, added] = sources_.try_emplace(ca_file);
  Source& source = it->second;
  source.used_us = now_us;
  if (added || now_us - source.checked_us >= kRecheckUs) {
    source.checked_us = now_us;
    FileStamp stamp = stamp_of(ca_file.empty() ? system_ca_file() : ca_file);
    if (added || !(stamp == source.stamp)) {
      source.stamp = stamp;
      load(ca_file, source);
    }
  }
  if (!source.store) return fail(source.error);
  X509_STORE_up_ref(source.store.get());
  return StoreRef(source.store.get());
}

}  // namespace leeway::probe
