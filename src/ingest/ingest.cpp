// Ingest: the store writer wired to the stream of what it committed.
#include "ingest/ingest.h"

namespace leeway::ingest {

Ingest::Ingest(store::Store& store, const Clock& clock, store::WriterOptions options)
    : stream_(store),
      writer_(store, clock, options,
              [this](std::span<const store::Committed> stored) { stream_.publish(stored); }) {}

Ingest::~Ingest() {
  stop();
}

bool Ingest::submit(store::StoredResult result) {
  return writer_.enqueue(std::move(result));
}

bool Ingest::submit_batch(std::vector<store::StoredResult> batch, store::BatchDone done) {
  return writer_.enqueue_batch(std::move(batch), std::move(done));
}

Status Ingest::subscribe(SubscriberOptions options, Handler handler) {
  return stream_.subscribe(std::move(options), std::move(handler));
}

void Ingest::flush() {
  writer_.flush();
  stream_.flush();
}

void Ingest::stop() {
  writer_.stop();
  stream_.stop();
}

}  // namespace leeway::ingest
