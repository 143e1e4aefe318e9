// Trust stores shared by the https and tls probers. Parsing a CA bundle costs milliseconds (the
// system one ~20 ms of CPU with OpenSSL 3), so each CA source is parsed once into an X509_STORE
// that every check trusting it shares, and parsed again only when its file changes.
// Internal to the probe module.
#pragma once

#include <openssl/x509_vfy.h>

#include <map>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace leeway::probe {

struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
// One reference to a store (X509_STORE is refcounted): a check holds one while it runs, so a
// reload never frees a store under a handshake.
using StoreRef = std::unique_ptr<X509_STORE, StoreFree>;

// Not thread-safe: one per probe loop.
class TrustStores {
 public:
  // How often a source's file is looked at (stat) for a change; never per check.
  static constexpr DurationUs kRecheckUs = 5 * kSecondUs;
  // A source no check has asked for in this long is dropped (e.g. a ca_file gone from the config).
  static constexpr DurationUs kIdleUs = 60 * 60 * kSecondUs;

  explicit TrustStores(const Clock& clock) : clock_(clock) {}

  // A new reference to the store for `ca_file`: the PEM certificates in that file, or for "" the
  // system's (OpenSSL's default CA file and directory, SSL_CERT_FILE and SSL_CERT_DIR honoured).
  // Parsed on first use and again when the file's identity, size or mtime has changed, looked at
  // no more than every kRecheckUs. A file that cannot be loaded is an error naming it, e.g.
  // `cannot load CA file "/etc/x.pem": No such file or directory`, retried after kRecheckUs.
  Result<StoreRef> get(const std::string& ca_file);

  // Forgets every parsed store, so that each source is parsed again when next asked for (a
  // config reload). Checks running now keep the store they hold.
  void forget_all() { sources_.clear(); }

  // How many times a source has been parsed so far (what the sharing saves; for tests).
  int loads() const { return loads_; }

 private:
  // What we last saw of the file: a replaced, grown or rewritten file differs in one of these.
  struct FileStamp {
    int error = 0;  // stat's errno; 0 when the file is there
    unsigned long long device = 0, inode = 0;
    long long size = 0, mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct Source {
    FileStamp stamp;
    StoreRef store;     // null when the load failed
    std::string error;  // why, when it failed
    DurationUs checked_us = 0;
    DurationUs used_us = 0;
  };

  static FileStamp stamp_of(const std::string& path);
  void load(const std::string& ca_file, Source& source);
  void drop_idle(DurationUs now_us);

  const Clock& clock_;
  std::map<std::string, Source> sources_;
  DurationUs next_sweep_us_ = 0;
  int loads_ = 0;
};

}  // namespace leeway::probe
