#include "http/server.h"

#include "core/text.h"

#include <cctype>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

namespace leeway::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string Request::header(std::string_view name) const {
  std::string key(name);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

Response Response::json(const nlohmann::json& body, int status) {
  // Outside text (a path, an id, a probe's error) may not be UTF-8: replaced with U+FFFD, never
  // an exception, so rendering cannot fail and take the daemon's loop down.
  return Response{status, "application/json",
                  body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response Response::error(int status, const std::string& message) {
  return json({{"error", message}}, status);
}

Response Response::text(std::string body, std::string content_type) {
  return Response{200, std::move(content_type), std::move(body)};
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = percent_decode(pair.substr(0, eq), true);
      out[key] = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

constexpr std::size_t kMaxBodyBytes = 1 << 20;
constexpr std::size_t kMaxHeaderBytes = 16 << 10;  // request line and header fields: else 431
constexpr std::size_t kMaxTargetBytes = 8 << 10;   // the request line alone: else 414
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(5);

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Why the request's decoded parameters cannot reach a handler, naming the parameter; "" when
// they can. Handlers then never see bytes that no JSON can carry.
std::string bad_parameter(const Route& route, const Request& request) {
  std::size_t index = 0;
  for (auto segment : split_path(route.pattern)) {
    if (!is_param(segment)) continue;
    if (!utf8_valid(request.params.at(index++)))
      return std::string(segment.substr(1, segment.size() - 2)) +
             ": not valid UTF-8 once percent-decoded";
  }
  for (const auto& [key, value] : request.query) {
    if (!utf8_valid(key)) return "a query parameter's name is not valid UTF-8 once percent-decoded";
    if (!utf8_valid(value)) return key + ": not valid UTF-8 once percent-decoded";
  }
  return "";
}

// A handler bug must not take the daemon down: whatever it throws, the caller sees a 500 (with
// the reason when there is one). Call only from a catch block.
Response internal_error() {
  try {
    throw;
  } catch (const std::exception& e) {
    return Response::error(500, std::string("internal error: ") + e.what());
  } catch (...) {
    return Response::error(500, "internal error");
  }
}

}  // namespace

const Route* match_route(const std::vector<Route>& routes, Request& request,
                         bool& method_not_allowed) {
  method_not_allowed = false;
  auto path_parts = split_path(request.path);
  for (const auto& route : routes) {
    auto pattern_parts = split_path(route.pattern);
    if (pattern_parts.size() != path_parts.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < pattern_parts.size() && ok; ++i) {
      if (is_param(pattern_parts[i]))
        params.push_back(percent_decode(path_parts[i]));
      else
        ok = pattern_parts[i] == path_parts[i];
    }
    if (!ok) continue;
    if (route.method != request.method) {
      method_not_allowed = true;
      continue;
    }
    request.params = std::move(params);
    return &route;
  }
  return nullptr;
}

namespace {

// What a server's connections share. Connections hold it, so it outlives every one of them.
struct Shared {
  Shared(std::vector<Route> routes, std::size_t worker_threads)
      : routes(std::move(routes)), workers(worker_threads) {}

  const std::vector<Route> routes;
  asio::thread_pool workers;  // runs offloaded work
  std::atomic<std::size_t> offloaded{0};
  // Atomic: a connection whose offloaded work was dropped ends on a worker thread.
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> closing{false};  // the Server is being destroyed: drop work not started
  std::vector<ApiToken> tokens;      // read and set on the loop only
};

using RawRequest = bhttp::request<bhttp::string_body>;

std::string_view field(const RawRequest& raw, bhttp::field name) {
  auto value = raw[name];
  return {value.data(), value.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

// Whether `origin` ("http://host:port", as browsers send it) is the server the request was sent
// to, as its Host says.
bool same_origin(std::string_view origin, std::string_view host) {
  auto scheme_end = origin.find("://");
  return scheme_end != std::string_view::npos && !host.empty() &&
         iequals(origin.substr(scheme_end + 3), host);
}

// Whether a Content-Type names JSON, parameters aside.
bool is_json(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return iequals(type, "application/json");
}

// Why a write may not go on, or nothing; then the request names its caller. The token comes
// first: without it nothing else about the request is said.
std::optional<Response> refuse_write(const RawRequest& raw, const std::vector<ApiToken>& tokens,
                                     Request& request) {
  if (tokens.empty())
    return Response::error(403,
                           "writes are off: no API token is configured; add one under "
                           "server.api_tokens (see Security in the README)");
  auto unauthorized = [](std::string message, std::string challenge) {
    Response response = Response::error(401, std::move(message));
    response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    return response;
  };
  std::string_view authorization = field(raw, bhttp::field::authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !iequals(authorization.substr(0, kBearer.size()), kBearer))
    return unauthorized("this route writes: it needs Authorization: Bearer <token>",
                        "Bearer realm=\"leeway\"");
  const ApiToken* token = find_token(tokens, authorization.substr(kBearer.size()));
  if (!token)
    return unauthorized("the API token is not valid",
                        "Bearer realm=\"leeway\", error=\"invalid_token\"");
  if (std::string_view origin = field(raw, bhttp::field::origin);
      !origin.empty() && !same_origin(origin, field(raw, bhttp::field::host)))
    return Response::error(403, "writes from another origin are refused");
  std::string_view type = field(raw, bhttp::field::content_type);
  if ((!request.body.empty() || !type.empty()) && !is_json(type))
    return Response::error(415, "a write's body must be application/json");
  request.caller = token->name;
  return std::nullopt;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: reads requests, answers them in order, keeps the connection alive. `Stream` is
// plain TCP (beast::tcp_stream) or TLS over it (TlsStream).
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;

 public:
  Connection(Stream stream, std::shared_ptr<Shared> shared)
      : stream_(std::move(stream)), shared_(std::move(shared)) {
    shared_->connections++;
  }
  ~Connection() { shared_->connections--; }

  void start() {
    if constexpr (kTls) {
      // The handshake has the idle timeout too: a client that never speaks is dropped.
      lowest().expires_after(kIdleTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    lowest().expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (!ec)
                          self->answer();
                        else if (auto refusal = self->refusal(ec))
                          self->send(std::move(*refusal), false, false);
                      });
  }

  // The answer to a request that could not be read, which closes the connection; nothing when
  // there is nobody to answer (the client left, or was idle too long).
  std::optional<Response> refusal(beast::error_code ec) const {
    if (ec == bhttp::error::body_limit) return Response::error(413, "request body over 1 MiB");
    if (ec == bhttp::error::header_limit) {
      // Beast takes the request line off the buffer once it has all of it, and not before.
      auto target = parser_->get().target();
      std::string_view unread(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      bool line_too_long =
          target.empty() ? unread.find('\n') > kMaxTargetBytes : target.size() > kMaxTargetBytes;
      if (line_too_long) return Response::error(414, "request line over 8 KiB");
      return Response::error(431, "request header over 16 KiB");
    }
    // Beast's other parse errors say what broke HTTP's grammar; the rest (end of stream, a reset,
    // the idle timeout) leave nobody to answer.
    static const auto& parse_errors = bhttp::make_error_code(bhttp::error::bad_method).category();
    if (ec.category() != parse_errors || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message)
      return std::nullopt;
    return Response::error(400, "malformed request: " + ec.message());
  }

  void answer() {
    auto& raw = parser_->get();
    bool keep_alive = raw.keep_alive();
    // HEAD is a GET whose body is not sent (RFC 9110 9.3.2).
    bool head = raw.method() == bhttp::verb::head;
    Response response;
    try {
      Request request;
      request.method = head ? "GET" : std::string(raw.method_string());
      std::string_view target(raw.target().data(), raw.target().size());
      auto question = target.find('?');
      request.path = std::string(target.substr(0, question));
      if (question != std::string_view::npos)
        request.query = parse_query(target.substr(question + 1));
      for (const auto& field : raw) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string& value = request.headers[name];
        if (!value.empty()) value += ", ";
        value.append(field.value().data(), field.value().size());
      }
      request.body = std::move(raw.body());
      bool method_not_allowed = false;
      const Route* route = match_route(shared_->routes, request, method_not_allowed);
      if (target.size() > kMaxTargetBytes) {
        keep_alive = false;  // as when the line is over the header's limit
        response = Response::error(414, "request line over 8 KiB");
      } else if (route) {
        std::optional<Response> refused;
        if (route->access == Access::kWrite) refused = refuse_write(raw, shared_->tokens, request);
        if (refused) {
          response = std::move(*refused);
        } else if (std::string bad = bad_parameter(*route, request); !bad.empty()) {
          response = Response::error(400, bad);
        } else if (const auto* offload = std::get_if<OffloadHandler>(&route->handler)) {
          run_on_workers((*offload)(request), keep_alive, head);
          return;
        } else if (const auto* later = std::get_if<AsyncHandler>(&route->handler)) {
          (*later)(request, responder(keep_alive, head));
          return;
        } else {
          response = std::get<Handler>(route->handler)(request);
        }
      } else if (method_not_allowed) {
        response = Response::error(
            405, "method " + std::string(raw.method_string()) + " not allowed on " + request.path);
      } else {
        response = Response::error(404, "no such endpoint: " + request.path);
      }
    } catch (...) {
      response = internal_error();
    }
    send(std::move(response), keep_alive, head);
  }

  // Runs `work` on a worker thread, then sends its response from the loop: the stream is not
  // thread-safe. The pending work holds the connection, so it lives until the response is sent,
  // and counts as work of the loop, whose run() would otherwise return with nothing else to do.
  void run_on_workers(Work work, bool keep_alive, bool head) {
    shared_->offloaded++;
    asio::post(shared_->workers,
               [self = shared_from_this(), work = std::move(work),
                loop = asio::make_work_guard(stream_.get_executor()), keep_alive, head] {
                 if (self->shared_->closing) return;  // dropped: the connection closes unanswered
                 Response response;
                 try {
                   response = work();
                 } catch (...) {
                   response = internal_error();
                 }
                 self->shared_->offloaded--;
                 asio::post(loop.get_executor(),
                            [self, response = std::move(response), keep_alive, head]() mutable {
                              self->send(std::move(response), keep_alive, head);
                            });
               });
  }

  // What an AsyncHandler answers through: the first call posts the response to the loop; the
  // connection lives until then (a handler that drops it unanswered closes it).
  Respond responder(bool keep_alive, bool head) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), keep_alive, head, once](Response response) {
      if (once->exchange(true)) return;
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive, head]() mutable {
                   self->send(std::move(response), keep_alive, head);
                 });
    };
  }

  // A response message with the response's status and header fields, and no body yet.
  template <class Body>
  static std::shared_ptr<bhttp::response<Body>> head_of(const Response& response, bool keep_alive) {
    auto out = std::make_shared<bhttp::response<Body>>();
    out->result(static_cast<unsigned>(response.status));
    out->version(11);
    out->set(bhttp::field::server, "leeway");
    out->set(bhttp::field::content_type, response.content_type);
    out->keep_alive(keep_alive);
    for (const auto& [name, value] : response.headers) out->set(name, value);
    return out;
  }

  // Writes the response; for a HEAD (`head`) only its header, which still gives the length.
  void send(Response response, bool keep_alive, bool head) {
    if (response.pieces) {
      send_pieces(std::move(response), keep_alive, head);
      return;
    }
    auto out = head_of<bhttp::string_body>(response, keep_alive);
    out->content_length(response.body.size());
    if (!head) out->body() = std::move(response.body);
    lowest().expires_after(kIdleTimeout);  // the write's own: offloaded work may have taken long
    bhttp::async_write(stream_, *out,
                       [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
                         if (!ec) self->after_response(out->keep_alive());
                       });
  }

  // A body in pieces (Response::pieces): the header, then a chunk per piece, each made once the
  // one before is written, so that only one piece is held at a time.
  void send_pieces(Response response, bool keep_alive, bool head) {
    auto header = head_of<bhttp::empty_body>(response, keep_alive);
    header->chunked(true);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
    lowest().expires_after(kIdleTimeout);
    bhttp::async_write_header(
        stream_, *serializer,
        [self = shared_from_this(), header, serializer, pieces = std::move(response.pieces),
         keep_alive, head](beast::error_code ec, std::size_t) mutable {
          if (ec) return;
          if (head) {
            self->after_response(keep_alive);
          } else {
            self->write_piece(std::make_shared<Pieces>(std::move(pieces)), keep_alive);
          }
        });
  }

  struct Pieces {
    explicit Pieces(std::function<bool(std::string&)> next) : next(std::move(next)) {}
    std::function<bool(std::string&)> next;
    std::string piece;
  };

  void write_piece(std::shared_ptr<Pieces> p, bool keep_alive) {
    p->piece.clear();
    bool more = true;
    try {
      // An empty chunk would read as the last one: ask again until a piece has bytes.
      while (more && p->piece.empty()) more = p->next(p->piece);
    } catch (...) {
      return;  // the connection closes without the last chunk: the client knows it was cut
    }
    if (p->piece.empty()) {
      write_last_chunk(keep_alive);
      return;
    }
    lowest().expires_after(kIdleTimeout);
    asio::async_write(
        stream_, bhttp::make_chunk(asio::buffer(p->piece)),
        [self = shared_from_this(), p, more, keep_alive](beast::error_code ec, std::size_t) {
          if (ec) return;
          if (more) {
            self->write_piece(p, keep_alive);
          } else {
            self->write_last_chunk(keep_alive);
          }
        });
  }

  void write_last_chunk(bool keep_alive) {
    lowest().expires_after(kIdleTimeout);
    asio::async_write(stream_, bhttp::make_chunk_last(),
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (!ec) self->after_response(keep_alive);
                      });
  }

  // Reads the next request, or closes.
  void after_response(bool keep_alive) {
    if (keep_alive) {
      read();
    } else {
      close();
    }
  }

  // After the last response. TLS says goodbye with its own close_notify; plain TCP half-closes.
  void close() {
    lowest().expires_after(kDrainTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      drain();
    }
  }

  // After the last response: reads and drops what the client still sends (the rest of a refused
  // request) until it closes, so that closing does not reset the connection before the client
  // read the response.
  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->drain();
                            });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::array<char, 4096> discard_;
  const std::shared_ptr<Shared> shared_;
};

// The answer past the connection limit, written without waiting: the client learns why at once,
// and the connection costs its descriptor only for this moment.
const std::string& too_many_connections() {
  static const std::string reply = [] {
    std::string body = R"({"error":"too many open connections"})";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: leeway\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  return reply;
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::vector<Route> routes, const ServerOptions& options)
      : acceptor(io),
        retry(io),
        max_connections(options.max_connections),
        shared(std::make_shared<Shared>(std::move(routes), options.worker_threads)),
        tls_cert_file(options.tls_cert_file),
        tls_key_file(options.tls_key_file) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (!self->acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE, ENFILE) or memory, the connection stays queued and
        // accepting again fails at once: wait for some to be closed rather than spin.
        self->accept_errors++;
        self->backoff = std::clamp(self->backoff * 2, kMinBackoff, kMaxBackoff);
        self->retry.expires_after(self->backoff);
        self->retry.async_wait([self](beast::error_code ec) {
          if (!ec) self->accept();
        });
        return;
      }
      self->backoff = {};
      if (self->shared->connections >= self->max_connections) {
        self->refused++;
        socket.non_blocking(true, ec);
        socket.write_some(asio::buffer(too_many_connections()), ec);
      } else {
        if (self->tls)
          std::make_shared<Connection<TlsStream>>(TlsStream(std::move(socket), *self->tls),
                                                  self->shared)
              ->start();
        else
          std::make_shared<Connection<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                          self->shared)
              ->start();
      }
      self->accept();
    });
  }

  static constexpr std::chrono::milliseconds kMinBackoff{10};
  static constexpr std::chrono::milliseconds kMaxBackoff{1000};

  tcp::acceptor acceptor;
  asio::steady_timer retry;  // the next accept after a failed one
  std::chrono::milliseconds backoff{};
  const std::size_t max_connections;
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> accept_errors{0};
  std::shared_ptr<Shared> shared;
  std::unique_ptr<asio::ssl::context> tls;  // set by listen() when the options name a certificate
  std::string tls_cert_file, tls_key_file;
};

Server::Server(asio::io_context& io, std::vector<Route> routes, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(routes), options)) {}

Server::~Server() {
  stop();
  // Work not started is dropped (its connection closes); work running finishes, and its response
  // waits on `io` like any other handler. Joining also empties the queue, so no queued work keeps
  // a connection (which holds `shared`) alive.
  impl_->shared->closing = true;
  impl_->shared->workers.join();
}

Result<std::uint16_t> Server::listen(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos)
    return fail("listen: expected HOST:PORT, got \"", host_port, "\"");
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return fail("listen: \"", host, "\" is not an IP address");
  int port = 0;
  try {
    port = std::stoi(host_port.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return fail("listen: bad port in \"", host_port, "\"");
  if (!impl_->tls_cert_file.empty()) {
    auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    tls->use_certificate_chain_file(impl_->tls_cert_file, ec);
    if (ec)
      return fail("tls: cannot load the certificate ", impl_->tls_cert_file, ": ", ec.message());
    tls->use_private_key_file(impl_->tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return fail("tls: cannot load the key ", impl_->tls_key_file, ": ", ec.message());
    impl_->tls = std::move(tls);
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close();
    return fail("cannot listen on ", host_port, ": ", ec.message());
  }
  impl_->accept();
  return acceptor.local_endpoint().port();
}

void Server::stop() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  impl_->retry.cancel();
}

std::size_t Server::offloaded_in_flight() const {
  return impl_->shared->offloaded.load();
}

void Server::set_api_tokens(std::vector<ApiToken> tokens) {
  impl_->shared->tokens = std::move(tokens);
}

bool Server::tls() const {
  return impl_->tls != nullptr;
}

bool Server::beyond_loopback() const {
  boost::system::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return !ec && !endpoint.address().is_loopback();
}

std::size_t Server::open_connections() const {
  return impl_->shared->connections.load();
}

std::uint64_t Server::refused_connections_total() const {
  return impl_->refused.load();
}

std::uint64_t Server::accept_errors_total() const {
  return impl_->accept_errors.load();
}

}  // namespace leeway::http
