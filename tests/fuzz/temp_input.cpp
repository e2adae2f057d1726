#include "tests/fuzz/temp_input.h"

#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

namespace v4sim::fuzz {
namespace {

struct TempFolder {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("v4sim-fuzz-" + std::to_string(static_cast<long>(getpid())));
  TempFolder() { std::filesystem::create_directories(path); }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

std::filesystem::path write_temp_input(Bytes input, const char* extension) {
  static const TempFolder folder;  // one per process: libFuzzer and ctest run one target each
  std::filesystem::path file = folder.path / "input";
  file += extension;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(input.data()),
            static_cast<std::streamsize>(input.size()));
  if (!out.flush()) throw std::runtime_error("cannot write fuzz input " + file.string());
  return file;
}

}  // namespace v4sim::fuzz
