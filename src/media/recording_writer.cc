#include "media/recording_writer.h"

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/thread_name.h"
#include "media/prompt_source.h"

namespace parley::media {

namespace {
constexpr int kWriterNice = 10;
}  // namespace

struct RecordingWriter::File {
  std::string path;
  int rate = 8000;
  int channels = 2;
  SNDFILE* sf = nullptr;
  uint64_t frames = 0;
  std::function<void(ports::RecordingInfo)> done;
};

namespace {

void FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

RecordingWriter::RecordingWriter() : loop_(clock_, "recording") {
  // The frames wait in memory: under load the media threads, which cannot wait, come first.
  loop_.Post([] { LowerThisThreadsPriority(kWriterNice); });
}

RecordingWriter::~RecordingWriter() {
  loop_.Post([this] {
    std::vector<uint64_t> ids;
    for (const auto& [id, f] : files_) ids.push_back(id);
    for (uint64_t id : ids) FinishOnLoop(id, /*report=*/false);
  });
  loop_.Stop();
}

void RecordingWriter::Open(uint64_t id, std::string path, int rate, int channels,
                           std::function<void(ports::RecordingInfo)> done) {
  loop_.Post([this, id, path = std::move(path), rate, channels, done = std::move(done)]() mutable {
    auto f = std::make_unique<File>();
    f->path = std::move(path);
    f->rate = rate;
    f->channels = channels;
    f->done = std::move(done);
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    f->sf = sf_open(TempPath(f->path).c_str(), SFM_WRITE, &info);
    if (f->sf != nullptr) sf_command(f->sf, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
    files_[id] = std::move(f);
  });
}

void RecordingWriter::Write(std::vector<Chunk> chunks) {
  loop_.Post([this, chunks = std::move(chunks)] {
    for (const Chunk& c : chunks) {
      if (!c.left.empty()) AppendOnLoop(c);
      if (c.finish) FinishOnLoop(c.id, /*report=*/true);
    }
  });
}

void RecordingWriter::AppendOnLoop(const Chunk& chunk) {
  auto it = files_.find(chunk.id);
  if (it == files_.end() || it->second->sf == nullptr) return;
  File& f = *it->second;
  const int16_t* frames = chunk.left.data();
  auto n = static_cast<sf_count_t>(chunk.left.size());
  if (f.channels == 2) {
    const size_t m = std::min(chunk.left.size(), chunk.right.size());
    interleaved_.resize(2 * m);
    for (size_t i = 0; i < m; ++i) {
      interleaved_[2 * i] = chunk.left[i];
      interleaved_[2 * i + 1] = chunk.right[i];
    }
    frames = interleaved_.data();
    n = static_cast<sf_count_t>(m);
  }
  f.frames += static_cast<uint64_t>(sf_writef_short(f.sf, frames, n));
}

void RecordingWriter::FinishOnLoop(uint64_t id, bool report) {
  auto it = files_.find(id);
  if (it == files_.end()) return;
  std::unique_ptr<File> f = std::move(it->second);
  files_.erase(it);
  ports::RecordingInfo info;
  info.path = f->path;
  info.duration = Duration(static_cast<int64_t>(f->frames) * 1'000'000 / f->rate);
  if (f->sf != nullptr) {
    sf_close(f->sf);
    const std::string tmp = TempPath(f->path);
    FsyncPath(tmp, O_RDONLY);
    std::error_code ec;
    std::filesystem::rename(tmp, f->path, ec);
    if (!ec) {
      // The rename is durable only once the directory is.
      const auto dir = std::filesystem::path(f->path).parent_path();
      FsyncPath(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);
      info.bytes = std::filesystem::file_size(f->path, ec);
      if (ec) info.bytes = 0;
      info.sha256 = Sha256File(f->path);
    }
  }
  if (report && f->done) f->done(std::move(info));
}

}  // namespace parley::media
