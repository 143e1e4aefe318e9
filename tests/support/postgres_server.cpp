// Starts and stops a throw-away PostgreSQL cluster with the server's own tools (initdb, pg_ctl).
#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace leeway::testing {
namespace {

namespace fs = std::filesystem;

std::string find_bin_dir() {
  if (const char* env = std::getenv("LEEWAY_PG_BIN")) return env;
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    auto candidate = entry.path() / "bin";
    if (fs::exists(candidate / "initdb") && candidate.string() > best) best = candidate.string();
  }
  return best;
}

// A port that was free a moment ago on 127.0.0.1 (the kernel picks it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Runs argv (as `postgres` when we are root), output appended to `log`; returns the exit code.
int run(std::vector<std::string> argv, const std::string& log, bool as_postgres) {
  if (as_postgres && ::geteuid() == 0) {
    argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  }
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    if (::chdir("/tmp") != 0) ::_exit(126);  // the postgres user may not enter our folder
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool PostgresServer::skip_requested() {
  const char* env = std::getenv("LEEWAY_SKIP_POSTGRES");
  return env && std::string(env) == "1";
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer);
  server->bin_dir_ = find_bin_dir();
  if (server->bin_dir_.empty()) {
    return fail(
        "postgres: no /usr/lib/postgresql/*/bin/initdb (install postgresql or set LEEWAY_PG_BIN)");
  }
  char tmpl[] = "/tmp/leeway-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) return fail("postgres: mkdtemp failed");
  server->dir_ = tmpl;
  bool root = ::geteuid() == 0;
  if (root) {
    passwd* pw = ::getpwnam("postgres");
    if (!pw)
      return fail("postgres: running as root but there is no `postgres` user to run initdb as");
    if (::chown(tmpl, pw->pw_uid, pw->pw_gid) != 0) return fail("postgres: cannot chown ", tmpl);
  }
  const std::string data = server->dir_ + "/data";
  const std::string log = server->dir_ + "/log";
  if (run({server->bin_dir_ + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
           "--no-sync", "--no-instructions"},
          log, true) != 0) {
    return fail("postgres: initdb failed:\n", slurp(log));
  }
  // A free port can be taken between our probe and the server's bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = free_port();
    std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port) +
                          " -c unix_socket_directories=" + server->dir_ +
                          " -c fsync=off -c full_page_writes=off -c max_connections=50";
    if (run({server->bin_dir_ + "/pg_ctl", "-D", data, "-o", options, "-l",
             server->dir_ + "/server.log", "-w", "-t", "30", "start"},
            log, true) == 0) {
      server->port_ = port;
      server->running_ = true;
      return server;
    }
  }
  return fail("postgres: pg_ctl start failed:\n", slurp(log), slurp(server->dir_ + "/server.log"));
}

PostgresServer::~PostgresServer() {
  if (running_) {
    run({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"}, dir_ + "/log",
        true);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::uri(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Status PostgresServer::create_database(const std::string& name) {
  if (run({bin_dir_ + "/psql", "-X", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
           "postgres", "-d", "postgres", "-c", "CREATE DATABASE " + name},
          dir_ + "/log", false) != 0) {
    return fail("postgres: CREATE DATABASE ", name, " failed:\n", slurp(dir_ + "/log"));
  }
  return {};
}

}  // namespace leeway::testing
