#include <cstring>

#include "sluice/random_access_file.h"

namespace sluice {
namespace {

class BufferFile final : public RandomAccessFile {
 public:
  BufferFile(std::shared_ptr<Buffer> bytes, std::string name) : bytes_(std::move(bytes)), name_(std::move(name)) {}

  Result<std::shared_ptr<Buffer>> ReadAt(int64_t offset, int64_t length) override {
    if (offset < 0 || length < 0 || offset > bytes_->size() || length > bytes_->size() - offset) {
      return Status::InvalidData("read of " + std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                                 " is past the end of '" + name_ + "' (" + std::to_string(bytes_->size()) + " bytes)");
    }
    // A view that keeps the whole buffer alive: no copy.
    return Buffer::Wrap(bytes_->data() + offset, length, bytes_->kind(), bytes_);
  }
  Result<int64_t> Size() override { return bytes_->size(); }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<Buffer> bytes_;
  std::string name_;
};

}  // namespace

std::shared_ptr<RandomAccessFile> MakeBufferFile(std::shared_ptr<Buffer> bytes, std::string name) {
  return std::make_shared<BufferFile>(std::move(bytes), std::move(name));
}

}  // namespace sluice
