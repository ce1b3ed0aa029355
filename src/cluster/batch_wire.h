#pragma once
/// A Batch as one message for a transport that can send scattered pieces (MPI derived
/// datatypes): no copy on the sending side, one receive buffer and zero-copy views on the
/// receiving side.
///
/// Buffers under 64 KiB are copied out of the message on arrival (so a slice of the ids cannot
/// keep a message of crops alive); larger ones are viewed.
///
/// Message layout: [u64 header bytes][header][pad to 64] then every data piece at a 64-byte
/// aligned offset from the data start (so numeric and tensor rows stay aligned). The header
/// holds a text `meta` (the sender's figures), the column names and types, and each buffer's
/// place. Binary and list offsets travel as they are and are rebased by the receiver, in its
/// own buffer.
///
/// Threading: pure functions; an EncodedBatch keeps the batch it points into alive.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/batch.h"
#include "sluice/plan.h"

namespace sluice::cluster {

struct EncodedBatch {
  struct Piece {
    const uint8_t* data;
    int64_t size;
  };
  std::vector<Piece> pieces;  // in message order, padding included
  int64_t total_bytes = 0;
  std::shared_ptr<const void> keep_alive;  // the header and the batch's buffers
};

/// Fails on device memory (only host batches travel).
Result<EncodedBatch> EncodeBatch(const Batch& batch, const std::string& meta);

/// The pieces copied into one contiguous buffer (what the receiver gets).
std::vector<uint8_t> Flatten(const EncodedBatch& encoded);

/// `message` is owned by the returned columns (their buffers view it). `what` names the
/// sender in errors ("a message from feeder 2").
Result<Batch> DecodeBatch(std::shared_ptr<Buffer> message, std::string* meta, const std::string& what);

/// Bad rows as bytes and back.
std::string EncodeBadRows(int shard, const std::vector<BadRow>& rows);
Result<std::vector<BadRow>> DecodeBadRows(std::string_view bytes, int* shard);

}  // namespace sluice::cluster
