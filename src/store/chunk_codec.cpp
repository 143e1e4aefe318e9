// The compact chunk format for old raw results. Written by hand: no library in Debian encodes
// delta-of-delta varint time series, and the format is small enough to own (Prometheus' XOR
// chunks are the model, minus the float part).
//
// Layout: two 0 bytes (schema 5 on: rows carry seqs and causes), varint count, then per row
//   zigzag varint  started_us: the first row as is, then the delta of the delta
//   zigzag varint  seq, the same way
//   zigzag varint  total_us minus the previous row's
//   byte           flags: outcome_stage (bits 0-4), status or cause changed (5), has error (6),
//                  has timings (7)
//   [varint]       http_status, then cause, when either changed (the first row's "previous" are
//                  0): a run of results with the same status and cause pays for neither
//   [varint]       error_id, when it is not 0
//   [4 x zigzag]   dns, connect, tls, first_byte minus the last ones known (-1 at first), when
//                  any of them is known
// Older chunks are read as they were written: those of schema 4 start with one 0 byte, then the
// count (never 0: chunks are not empty), and have no cause (bit 5: only the status follows);
// those written before schema 4 start with the count and have no seq field either.
#include <cstdint>

#include "store/detail.h"

namespace leeway::store::detail {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Wrapping subtraction: deltas of arbitrary int64 values must not overflow (UB) in C++.
std::int64_t sub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  bool signed_varint(std::int64_t& v) {
    std::uint64_t u;
    if (!varint(u)) return false;
    v = unzigzag(u);
    return true;
  }
  bool byte(std::uint8_t& b) {
    if (pos_ >= data_.size()) return false;
    b = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

constexpr std::uint8_t kStatusChanged = 1 << 5;
constexpr std::uint8_t kHasError = 1 << 6;
constexpr std::uint8_t kHasTimings = 1 << 7;

bool has_timings(const Row& r) {
  return r.dns_us != -1 || r.connect_us != -1 || r.tls_us != -1 || r.first_byte_us != -1;
}

}  // namespace

std::string encode_chunk(const std::vector<Row>& rows) {
  std::string out;
  out.reserve(rows.size() * 13 + 5);
  out.append(2, '\0');
  put_varint(out, rows.size());
  Row prev;
  prev.dns_us = prev.connect_us = prev.tls_us = prev.first_byte_us = -1;
  std::int64_t prev_delta = 0, prev_seq_delta = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (i == 0) {
      put_varint(out, zigzag(r.started_us));
      put_varint(out, zigzag(r.seq));
    } else {
      std::int64_t delta = sub(r.started_us, prev.started_us);
      put_varint(out, zigzag(sub(delta, prev_delta)));
      prev_delta = delta;
      std::int64_t seq_delta = sub(r.seq, prev.seq);
      put_varint(out, zigzag(sub(seq_delta, prev_seq_delta)));
      prev_seq_delta = seq_delta;
    }
    put_varint(out, zigzag(sub(r.total_us, prev.total_us)));
    std::uint8_t flags = static_cast<std::uint8_t>(r.outcome_stage & 0x1f);
    if (r.http_status != prev.http_status || r.cause != prev.cause) flags |= kStatusChanged;
    if (r.error_id != 0) flags |= kHasError;
    if (has_timings(r)) flags |= kHasTimings;
    out.push_back(static_cast<char>(flags));
    if (flags & kStatusChanged) {
      put_varint(out, static_cast<std::uint32_t>(r.http_status));
      put_varint(out, static_cast<std::uint32_t>(r.cause));
    }
    if (flags & kHasError) put_varint(out, static_cast<std::uint64_t>(r.error_id));
    if (flags & kHasTimings) {
      put_varint(out, zigzag(sub(r.dns_us, prev.dns_us)));
      put_varint(out, zigzag(sub(r.connect_us, prev.connect_us)));
      put_varint(out, zigzag(sub(r.tls_us, prev.tls_us)));
      put_varint(out, zigzag(sub(r.first_byte_us, prev.first_byte_us)));
    }
    Row next = r;
    if (!(flags & kHasTimings)) {
      // Keep the last known timings as the base, so one run without timings costs nothing later.
      next.dns_us = prev.dns_us;
      next.connect_us = prev.connect_us;
      next.tls_us = prev.tls_us;
      next.first_byte_us = prev.first_byte_us;
    }
    prev = next;
  }
  return out;
}

Result<std::vector<Row>> decode_chunk(std::string_view data, std::int64_t first_seq) {
  const bool has_seqs = !data.empty() && data[0] == '\0';
  const bool has_causes = has_seqs && data.size() > 1 && data[1] == '\0';
  Reader in(data.substr(has_causes ? 2 : has_seqs ? 1 : 0));
  std::uint64_t count;
  if (!in.varint(count) || count > data.size()) return fail("store: corrupt chunk: bad row count");
  std::vector<Row> rows;
  rows.reserve(count);
  Row prev;
  prev.dns_us = prev.connect_us = prev.tls_us = prev.first_byte_us = -1;
  std::int64_t prev_delta = 0, prev_seq_delta = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    Row r;
    std::int64_t v, seq = 0;
    if (!in.signed_varint(v) || (has_seqs && !in.signed_varint(seq))) {
      return fail("store: corrupt chunk: truncated at row ", std::to_string(i));
    }
    if (i == 0) {
      r.started_us = v;
      r.seq = has_seqs ? seq : first_seq;
    } else {
      prev_delta = add(prev_delta, v);
      r.started_us = add(prev.started_us, prev_delta);
      prev_seq_delta = has_seqs ? add(prev_seq_delta, seq) : 1;
      r.seq = add(prev.seq, prev_seq_delta);
    }
    std::uint8_t flags;
    if (!in.signed_varint(v) || !in.byte(flags)) {
      return fail("store: corrupt chunk: truncated at row ", std::to_string(i));
    }
    r.total_us = add(prev.total_us, v);
    r.outcome_stage = flags & 0x1f;
    r.http_status = prev.http_status;
    r.cause = prev.cause;
    std::uint64_t u;
    if (flags & kStatusChanged) {
      if (!in.varint(u)) return fail("store: corrupt chunk: truncated status");
      r.http_status = static_cast<int>(static_cast<std::uint32_t>(u));
      if (has_causes) {
        if (!in.varint(u)) return fail("store: corrupt chunk: truncated cause");
        r.cause = static_cast<int>(static_cast<std::uint32_t>(u));
      }
    }
    if (flags & kHasError) {
      if (!in.varint(u)) return fail("store: corrupt chunk: truncated error id");
      r.error_id = static_cast<std::int64_t>(u);
    }
    Row base = prev;
    if (flags & kHasTimings) {
      std::int64_t d[4];
      for (auto& x : d) {
        if (!in.signed_varint(x)) return fail("store: corrupt chunk: truncated timings");
      }
      r.dns_us = add(prev.dns_us, d[0]);
      r.connect_us = add(prev.connect_us, d[1]);
      r.tls_us = add(prev.tls_us, d[2]);
      r.first_byte_us = add(prev.first_byte_us, d[3]);
      base = r;
    }
    rows.push_back(r);
    base.started_us = r.started_us;
    base.total_us = r.total_us;
    base.http_status = r.http_status;
    base.cause = r.cause;
    base.seq = r.seq;
    prev = base;
  }
  if (!in.done()) return fail("store: corrupt chunk: trailing bytes");
  return rows;
}

}  // namespace leeway::store::detail
