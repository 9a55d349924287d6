#include "sip/recording_recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "auth/crypto.h"

namespace parley::sip {

namespace fs = std::filesystem;

namespace {

uint32_t Le(std::string_view s, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << 8 * i;
  return v;
}

bool Fsync(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

WavHeader ReadWavHeader(std::string_view file) {
  WavHeader h;
  if (file.size() < 12 || file.substr(0, 4) != "RIFF" || file.substr(8, 4) != "WAVE") return h;
  WavHeader found;
  for (size_t at = 12; at + 8 <= file.size();) {
    const std::string_view id = file.substr(at, 4);
    const uint64_t size = Le(file, at + 4, 4);
    if (id == "fmt " && at + 24 <= file.size()) {
      found.channels = static_cast<uint16_t>(Le(file, at + 10, 2));
      found.rate = Le(file, at + 12, 4);
      found.bits = static_cast<uint16_t>(Le(file, at + 22, 2));
    } else if (id == "data") {
      found.data_bytes = std::min<uint64_t>(size, file.size() - (at + 8));
      return found.channels == 0 ? h : found;
    }
    at += 8 + size + (size % 2);
  }
  return h;
}

std::vector<RecoveredRecording> FinaliseLeftoverRecordings(const std::string& dir,
                                                           std::vector<std::string>* problems) {
  std::vector<RecoveredRecording> out;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  std::vector<fs::path> parts;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.size() > 9 &&
        name.compare(name.size() - 9, 9, ".wav.part") == 0) {
      parts.push_back(it->path());
    }
  }
  for (const fs::path& part : parts) {
    const std::string name = part.filename().string();
    uint64_t contact = 0;
    size_t digits = 0;
    while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9' && digits < 19) {
      contact = contact * 10 + static_cast<uint64_t>(name[digits] - '0');
      ++digits;
    }
    if (digits == 0 || contact == 0 || (name[digits] != '.' && name[digits] != '-')) {
      if (problems) problems->push_back(part.string() + ": not named after a contact; left alone");
      continue;
    }
    std::ifstream in(part, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    const WavHeader h = ReadWavHeader(bytes);
    if (h.channels == 0 || h.rate == 0 || h.bits == 0) {
      if (problems) problems->push_back(part.string() + ": not a WAV file; left alone");
      continue;
    }
    fs::path final_path = part;
    final_path.replace_extension();  // drops ".part"
    if (fs::exists(final_path, ec)) {
      final_path.replace_filename(final_path.stem().string() + "-recovered.wav");
    }
    if (!Fsync(part.string(), O_RDONLY)) {
      if (problems) problems->push_back(part.string() + ": cannot fsync; left alone");
      continue;
    }
    fs::rename(part, final_path, ec);
    if (ec) {
      if (problems) problems->push_back(part.string() + ": cannot rename: " + ec.message());
      continue;
    }
    (void)Fsync(final_path.parent_path().string(), O_RDONLY | O_DIRECTORY);
    RecoveredRecording r;
    r.contact = ContactId(contact);
    r.channels = h.channels;
    r.info.path = final_path.string();
    r.info.bytes = bytes.size();
    r.info.sha256 = auth::Sha256Hex(bytes);
    const uint64_t per_second = uint64_t{h.rate} * h.channels * (h.bits / 8);
    r.info.duration = per_second == 0
                          ? Duration(0)
                          : Duration(static_cast<int64_t>(h.data_bytes * 1'000'000 / per_second));
    struct stat st {};
    if (::stat(final_path.c_str(), &st) == 0) {
      const TimePoint written = FromMicros(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 +
                                           st.st_mtim.tv_nsec / 1000);
      r.started = written - r.info.duration;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace parley::sip
