// pincer-sandboxd: the in-sandbox helper. Runs tools (exec, file operations) for the server.
//
//   pincer-sandboxd --listen unix:/run/pincer/sandboxd.sock [--root /workspace] [--token T]

#include <boost/json/src.hpp>  // header-only Boost.JSON: keeps the binary static and small
#include <cstdio>
#include <cstring>
#include <string>

#include "sandboxd/daemon.h"

int main(int argc, char** argv) {
  pincer::sandboxd::DaemonOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pincer-sandboxd: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") {
      o.listen = value("--listen");
    } else if (a == "--root") {
      o.root = value("--root");
    } else if (a == "--token") {
      o.token = value("--token");
    } else if (a == "--token-env") {
      const char* t = std::getenv(value("--token-env").c_str());
      o.token = t ? t : "";
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: pincer-sandboxd --listen unix:PATH|tcp:HOST:PORT [--root DIR] [--token "
          "T|--token-env VAR]\n");
      return 0;
    } else {
      std::fprintf(stderr, "pincer-sandboxd: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (o.listen.empty()) {
    std::fprintf(stderr, "pincer-sandboxd: --listen is required\n");
    return 2;
  }
  return pincer::sandboxd::RunDaemon(o);
}
