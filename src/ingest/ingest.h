// The one way in for every result: the local probe engine and (next) agents' pushes submit
// here; a writer commits them in batches; after each commit the newly stored results go to the
// subscribers registered in the composition root (see stream.h).
#pragma once

#include <vector>

#include "core/clock.h"
#include "ingest/stream.h"
#include "store/store.h"

namespace leeway::ingest {

class Ingest {
 public:
  // `store` and `clock` must outlive this. The writer's thread starts at once.
  Ingest(store::Store& store, const Clock& clock, store::WriterOptions options = {});
  // Calls stop().
  ~Ingest();

  // Queues a result for the store. Thread-safe; never blocks on I/O. False (and counted in the
  // writer's dropped_total()) when the queue is full or ingest has stopped.
  bool submit(store::StoredResult result);

  // Queues a batch (an agent's push) to be stored whole or not at all; `done` is called on the
  // writer's thread once it is committed (saying how many results were new) or failed. False,
  // with nothing taken and `done` never called, when the queue has no room or ingest stopped.
  bool submit_batch(std::vector<store::StoredResult> batch, store::BatchDone done);

  // Registers a subscriber to what is stored from now on (or from options.after_seq). Call it
  // from the composition root before results flow.
  Status subscribe(SubscriberOptions options, Handler handler);

  // Returns once everything submitted before the call is stored and handled by every subscriber.
  void flush();

  // Returns once everything submitted before the call is stored; subscribers may be behind.
  void flush_store() { writer_.flush(); }

  // Writes everything pending, then stops the subscribers without waiting for their queues
  // (see Stream::stop: what they had not handled is in the store). Idempotent.
  void stop();

  const store::StoreWriter& writer() const { return writer_; }
  std::vector<SubscriberMetrics> subscribers() const { return stream_.metrics(); }

 private:
  Stream stream_;  // before writer_: the writer publishes into it until it stops
  store::StoreWriter writer_;
};

}  // namespace leeway::ingest
