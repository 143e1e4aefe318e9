// The agent's durable spool (see spool.h).
#include "agent/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

namespace leeway::agent {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return fail(what, " ", path, ": ", std::strerror(errno));
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Spool::Spool(SpoolOptions options)
    : options_(std::move(options)),
      // Eight segments or more, so that dropping the oldest gives back an eighth at most.
      segment_bytes_(std::clamp<std::uint64_t>(options_.max_bytes / 8, 4096, 4 << 20)) {}

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options) {
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  if (Status s = spool->start(); !s) return s.error();
  return spool;
}

std::string Spool::segment_path(std::uint64_t segment) const {
  return fmt::format("{}/results/{:020}.seg", options_.dir, segment);
}

Status Spool::start() {
  std::error_code ec;
  fs::create_directories(fs::path(options_.dir) / "results", ec);
  if (ec) return fail("cannot create ", options_.dir, "/results: ", ec.message());
  for (const auto& entry : fs::directory_iterator(fs::path(options_.dir) / "results", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".seg")) continue;
    segments_[std::stoull(name)] = entry.file_size();
  }
  if (ec) return fail("cannot list ", options_.dir, "/results: ", ec.message());
  // Where the server's commits reached; a lost or torn state file only means sending again
  // (the server stores a result once however often it comes).
  if (auto state = read_whole(options_.dir + "/state.json"); state) {
    auto j = nlohmann::json::parse(*state, nullptr, false);
    if (j.is_object()) {
      acked_.segment = j.value("segment", std::uint64_t{0});
      acked_.offset = j.value("offset", std::uint64_t{0});
      dropped_total_ = j.value("dropped_total", std::int64_t{0});
    }
  }
  if (segments_.empty()) return open_segment(1);
  // The last segment may end in a torn line: keep only whole lines that parse.
  std::uint64_t last = segments_.rbegin()->first;
  auto text = read_whole(segment_path(last));
  if (!text) return text.error();
  std::size_t good = 0;
  for (std::size_t at = 0; at < text->size();) {
    std::size_t newline = text->find('\n', at);
    if (newline == std::string::npos ||
        !nlohmann::json::accept(std::string_view(*text).substr(at, newline - at)))
      break;
    good = at = newline + 1;
  }
  if (good < text->size() && ::truncate(segment_path(last).c_str(), off_t(good)) != 0)
    return io_error("cannot cut the torn end of", segment_path(last));
  segments_[last] = good;
  return open_segment(last);
}

Status Spool::open_segment(std::uint64_t segment) {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  std::string path = segment_path(segment);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return io_error("cannot open", path);
  segments_.try_emplace(segment, 0);
  if (!syncer_.joinable())
    syncer_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stopping_) {
        changed_.wait_for(lock, options_.sync_interval, [&] { return stopping_; });
        if (!dirty_ || fd_ < 0) continue;
        // Synced outside the lock, so that a slow disk does not hold up the appends.
        dirty_ = false;
        int fd = ::dup(fd_);
        lock.unlock();
        if (fd >= 0) {
          ::fdatasync(fd);
          ::close(fd);
        }
        lock.lock();
      }
    });
  return {};
}

Spool::~Spool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

Status Spool::append(std::string_view record) {
  std::string line(record);
  line += '\n';
  {
    std::lock_guard lock(mutex_);
    std::uint64_t total = 0;
    for (const auto& [segment, size] : segments_) total += size;
    while (total + line.size() > options_.max_bytes && segments_.size() > 1) {
      total -= segments_.begin()->second;
      if (Status s = drop_oldest(); !s) return s;
    }
    auto last = segments_.rbegin();
    if (last->second > 0 && last->second + line.size() > segment_bytes_) {
      if (Status s = open_segment(last->first + 1); !s) return s;
      last = segments_.rbegin();
    }
    if (::write(fd_, line.data(), line.size()) != ssize_t(line.size()))
      return io_error("cannot append to", segment_path(last->first));
    last->second += line.size();
    dirty_ = true;
    ++appended_;
  }
  changed_.notify_all();
  return {};
}

// REQUIRES: mutex_ held, more than one segment. Counts the records not yet acknowledged in it.
Status Spool::drop_oldest() {
  auto oldest = segments_.begin();
  std::uint64_t from = acked_.segment == oldest->first ? acked_.offset : 0;
  if (acked_.segment <= oldest->first) {
    auto text = read_whole(segment_path(oldest->first));
    if (text && from < text->size())
      dropped_total_ += std::count(text->begin() + std::ptrdiff_t(from), text->end(), '\n');
  }
  if (::unlink(segment_path(oldest->first).c_str()) != 0 && errno != ENOENT)
    return io_error("cannot delete", segment_path(oldest->first));
  segments_.erase(oldest);
  return save_state();
}

Result<SpoolChunk> Spool::peek(std::size_t max_records, std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  SpoolChunk chunk;
  SpoolPosition at = std::max(acked_, SpoolPosition{segments_.begin()->first, 0});
  chunk.begin = at;
  std::size_t bytes = 0;
  for (auto it = segments_.lower_bound(at.segment);
       it != segments_.end() && chunk.records.size() < max_records && bytes < max_bytes; ++it) {
    if (it->first != at.segment) at = {it->first, 0};
    if (at.offset >= it->second) {
      chunk.end = {it->first, it->second};
      continue;
    }
    std::string path = segment_path(it->first);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot read", path);
    std::uint64_t want = std::min<std::uint64_t>(it->second - at.offset, max_bytes - bytes + 4096);
    std::string text;
    // Read again, whole, when the first record is longer than the share asked for: a chunk
    // holds at least one record, or the pusher would wait on it forever.
    for (int attempt = 0; attempt < 2; ++attempt) {
      text.assign(want, '\0');
      ssize_t n = ::pread(fd, text.data(), text.size(), off_t(at.offset));
      if (n < 0) {
        ::close(fd);
        return io_error("cannot read", path);
      }
      text.resize(std::size_t(n));
      if (!chunk.records.empty() || text.find('\n') != std::string::npos) break;
      want = it->second - at.offset;
    }
    ::close(fd);
    std::size_t pos = 0;
    while (chunk.records.size() < max_records && (bytes < max_bytes || chunk.records.empty())) {
      std::size_t newline = text.find('\n', pos);
      if (newline == std::string::npos) break;
      chunk.records.emplace_back(text, pos, newline - pos);
      bytes += newline - pos;
      pos = newline + 1;
    }
    at.offset += pos;
    chunk.end = at;
    if (at.offset < it->second) break;  // the chunk is full
  }
  if (chunk.records.empty()) chunk.end = chunk.begin;
  return chunk;
}

Status Spool::acknowledge(const SpoolPosition& end) {
  std::lock_guard lock(mutex_);
  if (end <= acked_) return {};
  acked_ = end;
  // Segments wholly before the position, except the one being written, are done.
  while (segments_.size() > 1 && segments_.begin()->first < acked_.segment) {
    ::unlink(segment_path(segments_.begin()->first).c_str());
    segments_.erase(segments_.begin());
  }
  return save_state();
}

// REQUIRES: mutex_ held. Replaced whole (a rename), never half written.
Status Spool::save_state() {
  std::string path = options_.dir + "/state.json";
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << nlohmann::json{{"segment", acked_.segment},
                          {"offset", acked_.offset},
                          {"dropped_total", dropped_total_}}
               .dump();
    if (!out) return io_error("cannot write", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) return io_error("cannot replace", path);
  return {};
}

void Spool::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return appended_ != seen_ || woken_ || stopping_; });
  seen_ = appended_;
  woken_ = false;
}

void Spool::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  changed_.notify_all();
}

Status Spool::sync() {
  std::lock_guard lock(mutex_);
  dirty_ = false;
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) return io_error("cannot sync", options_.dir);
  return {};
}

std::int64_t Spool::dropped_total() const {
  std::lock_guard lock(mutex_);
  return dropped_total_;
}

std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& [segment, size] : segments_) total += size;
  return total;
}

}  // namespace leeway::agent
